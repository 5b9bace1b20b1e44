"""State in proportion to the account: compact shared cursors, checkpoints paced by time (state.py),
and the STATE messages of a sync read with mocked HTTP."""

import json
import logging
import uuid
from datetime import datetime, timezone

from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome.state import BIG_STATE_PARTITIONS, CHECKPOINTS_PER_STREAM, MIN_CHECKPOINT_SECONDS, PartitionCursors
from unit_tests.builders import CUSTOMER, config, cost_item, costs_request, customer, customers_request, page, read_stream
from unit_tests.fake_clock import FakeClock

NOW = datetime(2024, 3, 15, 12, tzinfo=timezone.utc)
DAY = datetime(2024, 3, 15, tzinfo=timezone.utc)
EARLIER = datetime(2024, 3, 10, tzinfo=timezone.utc)
METRIC = "222796fd-d29c-429e-89b2-549fabda4ed6"


def cursors(clock=None):
    return PartitionCursors("ending_before", ("customer_id", "billable_metric_id"), NOW, logging.getLogger("test"), clock=clock or FakeClock())


def customers(count):
    return [str(uuid.UUID(int=number)) for number in range(1, count + 1)]


def partition(customer_id):
    return {"customer_id": customer_id, "billable_metric_id": METRIC}


class TestCompactState:
    def test_given_many_partitions_at_one_cursor_when_saved_then_they_are_written_once_with_their_customers_as_a_list(self):
        state = cursors()
        for customer_id in customers(3000):
            state.advance(partition(customer_id), DAY)

        saved = state.to_state()

        assert saved["states"] == [
            {"partition": {"customer_id": customers(3000), "billable_metric_id": METRIC}, "cursor": {"ending_before": "2024-03-15T00:00:00+00:00"}}
        ]
        assert len(json.dumps(saved)) < 3000 * 45, "about 40 bytes a partition"

    def test_given_a_compact_state_when_loaded_then_every_partition_has_its_own_cursor_and_unknown_ones_start_from_start_date(self):
        state = cursors()
        many = customers(BIG_STATE_PARTITIONS + 10)
        for customer_id in many:
            state.advance(partition(customer_id), DAY)
        straggler = str(uuid.UUID(int=99999))
        state.advance(partition(straggler), EARLIER)

        resumed = cursors()
        resumed.set_initial_state(json.loads(json.dumps(state.to_state())))

        assert all(resumed.get(partition(customer_id)) == DAY for customer_id in many)
        assert resumed.get(partition(straggler)) == EARLIER
        assert resumed.get(partition(str(uuid.UUID(int=123456)))) is None, "a customer the state does not know reads from start_date"

    def test_given_an_old_state_with_one_entry_per_partition_when_loaded_then_every_cursor_is_kept(self):
        old = {
            "states": [
                {"partition": partition(customer_id), "cursor": {"ending_before": "2024-03-10T00:00:00+00:00"}} for customer_id in customers(BIG_STATE_PARTITIONS * 2)
            ]
        }
        state = cursors()

        state.set_initial_state(old)

        assert all(state.get(partition(customer_id)) == EARLIER for customer_id in customers(BIG_STATE_PARTITIONS * 2))

    def test_given_few_partitions_when_saved_then_the_state_keeps_one_entry_per_partition(self):
        state = cursors()
        for customer_id in customers(3):
            state.advance(partition(customer_id), DAY)

        assert [entry["partition"] for entry in state.to_state()["states"]] == [partition(customer_id) for customer_id in customers(3)]


class TestCheckpointPacing:
    def test_given_a_big_stream_when_partitions_finish_quickly_then_checkpoints_are_at_least_the_minimum_time_apart(self):
        clock = FakeClock()
        state = cursors(clock)
        state.plan(2 * BIG_STATE_PARTITIONS)
        checkpoints = [state.get_stream_state()]
        for customer_id in customers(2 * BIG_STATE_PARTITIONS):
            clock.now += 0.1
            state.advance(partition(customer_id), DAY)
            if state.get_stream_state() is not checkpoints[-1]:
                checkpoints.append(state.get_stream_state())
        state.stream_done()
        final = state.get_stream_state()

        assert 1 < len(checkpoints) - 1 <= clock.now // MIN_CHECKPOINT_SECONDS
        assert len(final["states"][0]["partition"]["customer_id"]) == 2 * BIG_STATE_PARTITIONS, "and the whole state at the end"


class TestStateMessagesOfASync:
    @HttpMocker()
    def test_given_many_partitions_when_read_then_state_is_written_a_bounded_number_of_times_and_completely_at_the_end(self, http_mocker: HttpMocker = None):
        customer_ids = [str(uuid.UUID(int=number)) for number in range(1, 4 * CHECKPOINTS_PER_STREAM + 1)]
        http_mocker.get(customers_request(), page([customer(customer_id) for customer_id in customer_ids]))
        for customer_id in customer_ids:
            http_mocker.get(costs_request(customer_id), page([cost_item(1)]))

        output = read_stream("customer_costs", config())

        states = [message.state.stream.stream_state.__dict__["states"] for message in output.state_messages]
        assert len(output.records) == len(customer_ids)
        assert len(states) <= CHECKPOINTS_PER_STREAM + 2, "each STATE carries every cursor: one per partition would grow with their square"
        assert [len(state) for state in states] == sorted(len(state) for state in states), "state only grows"
        assert {entry["partition"]["customer_id"] for entry in states[-1]} == set(customer_ids)

    @HttpMocker()
    def test_given_few_partitions_when_read_then_state_follows_every_partition(self, http_mocker: HttpMocker = None):
        other = str(uuid.UUID(int=7))
        http_mocker.get(customers_request(), page([customer(), customer(other)]))
        http_mocker.get(costs_request(), page([cost_item(1)]))
        http_mocker.get(costs_request(other), page([cost_item(1)]))

        output = read_stream("customer_costs", config())

        assert [len(message.state.stream.stream_state.__dict__["states"]) for message in output.state_messages] == [1, 2]
        assert CUSTOMER in str(output.state_messages[0].state.stream.stream_state.__dict__)
