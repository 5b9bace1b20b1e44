"""A full refresh that resumes: the STATE's form, which saved states are resumed, and its size
(refresh_progress.py); and the same read through the source with mocked HTTP."""

import json
import logging
import uuid

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.state_builder import StateBuilder

from source_metronome.refresh_progress import RefreshProgress
from unit_tests.builders import CUSTOMER, OTHER_CUSTOMER, catalog, config, customer, discovered, invoice, invoices_request, mock_every_customer, page, read_catalog

SYNC = 4711
THIRD_CUSTOMER = "f0a5d2c4-8b1e-4f3a-9c6d-2e7b8a9c0d1e"
INVOICES = "invoices"


def progress(sync_id=SYNC):
    return RefreshProgress("customer_id", lambda partition: (partition["customer_id"],), sync_id, logging.getLogger("test"))


def customers(count):
    return [str(uuid.UUID(int=number)) for number in range(1, count + 1)]


def read_all(refresh, order, finish_order=None):
    """Plans `order` and reads it (in `finish_order` when given); the state after each customer."""
    refresh.plan(order)
    states = []
    for customer_id in finish_order or order:
        if not refresh.is_finished({"customer_id": customer_id}):
            refresh.partition_read({"customer_id": customer_id})
            states.append(refresh.get_stream_state())
    return states


def resumed(state, sync_id=SYNC):
    refresh = progress(sync_id)
    refresh.set_initial_state(json.loads(json.dumps(state)))
    return refresh


class TestStateForm:
    def test_given_customers_read_in_order_when_checkpointed_then_the_state_names_the_last_one_and_the_sync(self):
        states = read_all(progress(), ["a", "b", "c"])

        assert states == [
            {"sync_id": SYNC, "done_through": "a", "done_beyond": []},
            {"sync_id": SYNC, "done_through": "b", "done_beyond": []},
            {"sync_id": SYNC, "done_through": "c", "done_beyond": []},
        ]

    def test_given_a_customer_finished_past_a_slower_one_when_checkpointed_then_it_is_listed_beyond(self):
        states = read_all(progress(), ["a", "b", "c", "d"], finish_order=["a", "c", "d", "b"])

        assert states[1:] == [
            {"sync_id": SYNC, "done_through": "a", "done_beyond": ["c"]},
            {"sync_id": SYNC, "done_through": "a", "done_beyond": ["c", "d"]},
            {"sync_id": SYNC, "done_through": "d", "done_beyond": []},
        ]

    def test_given_the_stream_done_when_checkpointed_then_the_state_says_complete(self):
        refresh = progress()
        read_all(refresh, ["a"])
        refresh.stream_done()

        assert refresh.get_stream_state() == {"sync_id": SYNC, "complete": True}

    def test_given_a_customer_of_several_partitions_when_one_is_read_then_the_customer_is_not_finished(self):
        refresh = progress()
        refresh.plan(["a", "a", "b"])
        refresh.partition_read({"customer_id": "a"})

        assert refresh.get_stream_state() == {"sync_id": SYNC, "done_beyond": []}
        refresh.partition_read({"customer_id": "a"})
        assert refresh.get_stream_state()["done_through"] == "a"

    def test_given_3000_customers_when_read_with_some_out_of_order_then_every_state_stays_small(self):
        order = customers(3000)
        # A read-ahead of 20 in flight: each window of customers finishes in reverse order.
        finish = [customer_id for start in range(0, 3000, 20) for customer_id in reversed(order[start : start + 20])]

        sizes = [len(json.dumps(state)) for state in read_all(progress(), order, finish)]

        assert max(sizes) < 20 * 40 + 120, "the size of the read-ahead window, not of the account"
        assert sum(sizes) < 3000 * 20 * 40, "written once per customer, each the window's size"


class TestResumedState:
    def test_given_a_state_of_this_sync_when_planned_then_its_customers_are_finished_and_the_rest_are_read(self):
        refresh = resumed({"sync_id": SYNC, "done_through": "b", "done_beyond": ["d"]})
        refresh.plan(["a", "b", "c", "d", "e"])

        assert [c for c in "abcde" if not refresh.is_finished({"customer_id": c})] == ["c", "e"]
        assert refresh.get_stream_state() == {"sync_id": SYNC, "done_through": "b", "done_beyond": ["d"]}

    def test_given_a_customer_created_between_attempts_when_planned_then_it_is_read(self):
        refresh = resumed({"sync_id": SYNC, "done_through": "b", "done_beyond": []})
        refresh.plan(["a", "b", "new"])

        assert not refresh.is_finished({"customer_id": "new"})

    def test_given_a_state_of_another_sync_when_planned_then_every_customer_is_read(self):
        refresh = resumed({"sync_id": SYNC - 1, "done_through": "b", "done_beyond": []})
        refresh.plan(["a", "b"])

        assert not any(refresh.is_finished({"customer_id": c}) for c in "ab")

    def test_given_a_complete_state_of_this_sync_when_planned_then_nothing_is_read(self):
        refresh = resumed({"sync_id": SYNC, "complete": True})
        refresh.plan(["a", "b"])

        assert all(refresh.is_finished({"customer_id": c}) for c in "ab")

    def test_given_no_sync_id_and_a_complete_state_when_planned_then_every_customer_is_read(self):
        refresh = resumed({"complete": True}, sync_id=None)
        refresh.plan(["a", "b"])

        assert not any(refresh.is_finished({"customer_id": c}) for c in "ab")

    def test_given_no_sync_id_and_an_unfinished_state_when_planned_then_it_resumes(self):
        refresh = resumed({"done_through": "a", "done_beyond": []}, sync_id=None)
        refresh.plan(["a", "b"])

        assert [refresh.is_finished({"customer_id": c}) for c in "ab"] == [True, False]

    def test_given_the_last_read_customer_no_longer_listed_when_planned_then_every_customer_is_read(self, caplog):
        refresh = resumed({"sync_id": SYNC, "done_through": "gone", "done_beyond": ["b"]})
        refresh.plan(["a", "b"])

        assert not any(refresh.is_finished({"customer_id": c}) for c in "ab")
        assert "no longer listed" in caplog.text

    def test_given_a_state_of_version_0_3_0_when_planned_then_every_customer_is_read(self):
        for old in ({"states": []}, {"states": [{"partition": {"customer_id": "a"}, "cursor": {"ending_before": "2024-03-14T00:00:00+00:00"}}]}):
            refresh = resumed(old)
            refresh.plan(["a"])
            assert not refresh.is_finished({"customer_id": "a"})

    def test_given_an_unreadable_state_when_planned_then_every_customer_is_read(self):
        refresh = resumed({"sync_id": SYNC, "done_through": ["a"], "done_beyond": "b"})
        refresh.plan(["a", "b"])

        assert not any(refresh.is_finished({"customer_id": c}) for c in "ab")


# Through the source, with mocked HTTP.


def _catalog_of_sync(sync_id):
    configured = catalog(INVOICES, sync_mode=SyncMode.full_refresh)
    configured.streams[0].sync_id = sync_id
    return configured


def _state(stream_state):
    return StateBuilder().with_stream_state(INVOICES, stream_state).build()


def _three_customers(http_mocker):
    mock_every_customer(http_mocker, [customer(CUSTOMER), customer(OTHER_CUSTOMER), customer(THIRD_CUSTOMER)])
    for number, customer_id in enumerate((CUSTOMER, OTHER_CUSTOMER, THIRD_CUSTOMER)):
        http_mocker.get(invoices_request(customer_id), page([invoice(f"inv-{number}")]))


def _stream_states(output):
    return [message.state.stream.stream_state.__dict__ for message in output.state_messages]


class TestResumableInvoices:
    def test_given_discover_then_per_customer_full_refresh_streams_are_resumable_and_account_lists_are_not(self):
        streams = discovered(config())

        assert all(streams[name].is_resumable for name in (INVOICES, "invoice_line_items", "contracts", "balances"))
        assert not streams["credit_types"].is_resumable

    @HttpMocker()
    def test_given_a_new_sync_when_read_then_a_state_follows_each_customer_and_the_last_says_complete(self, http_mocker: HttpMocker = None):
        _three_customers(http_mocker)

        output = read_catalog(_catalog_of_sync(SYNC), config(max_concurrency=1))

        assert _stream_states(output) == [
            {"sync_id": SYNC, "done_through": CUSTOMER, "done_beyond": []},
            {"sync_id": SYNC, "done_through": OTHER_CUSTOMER, "done_beyond": []},
            {"sync_id": SYNC, "done_through": THIRD_CUSTOMER, "done_beyond": []},
            {"sync_id": SYNC, "complete": True},
        ]

    @HttpMocker()
    def test_given_a_state_of_this_sync_when_read_then_only_unfinished_customers_are_requested(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(CUSTOMER), customer(OTHER_CUSTOMER), customer(THIRD_CUSTOMER)])
        http_mocker.get(invoices_request(THIRD_CUSTOMER), page([invoice("inv-2")]))

        output = read_catalog(_catalog_of_sync(SYNC), config(), state=_state({"sync_id": SYNC, "done_through": OTHER_CUSTOMER, "done_beyond": []}))

        assert [message.record.data["id"] for message in output.records] == ["inv-2"]
        assert _stream_states(output)[-1] == {"sync_id": SYNC, "complete": True}

    @HttpMocker()
    def test_given_a_state_of_another_sync_when_read_then_every_customer_is_read(self, http_mocker: HttpMocker = None):
        _three_customers(http_mocker)

        output = read_catalog(_catalog_of_sync(SYNC), config(), state=_state({"sync_id": SYNC - 1, "complete": True}))

        assert sorted(message.record.data["id"] for message in output.records) == ["inv-0", "inv-1", "inv-2"]

    @HttpMocker()
    def test_given_pyairbytes_sync_id_and_a_complete_state_when_read_then_every_customer_is_read_again(self, http_mocker: HttpMocker = None):
        # PyAirbyte gives every sync sync_id 1: its next sync is a new one, not a retry with nothing left.
        _three_customers(http_mocker)

        output = read_catalog(_catalog_of_sync(1), config(), state=_state({"complete": True}))

        assert sorted(message.record.data["id"] for message in output.records) == ["inv-0", "inv-1", "inv-2"]
        assert _stream_states(output)[-1] == {"complete": True}

    @HttpMocker()
    def test_given_a_state_of_version_0_3_0_when_read_then_every_customer_is_read(self, http_mocker: HttpMocker = None):
        _three_customers(http_mocker)

        output = read_catalog(_catalog_of_sync(SYNC), config(), state=_state({"states": []}))

        assert sorted(message.record.data["id"] for message in output.records) == ["inv-0", "inv-1", "inv-2"]
        assert _stream_states(output)[-1] == {"sync_id": SYNC, "complete": True}

    @HttpMocker()
    def test_given_customers_listed_out_of_creation_order_when_read_then_they_are_read_oldest_first_archived_ones_among_them(self, http_mocker: HttpMocker = None):
        created = {CUSTOMER: "2024-01-03T00:00:00Z", OTHER_CUSTOMER: "2024-01-01T00:00:00Z", THIRD_CUSTOMER: "2024-01-02T00:00:00Z"}
        listed = {customer_id: {**customer(customer_id), "created_at": at} for customer_id, at in created.items()}
        # An archived customer keeps its place: archiving one between two attempts moves no customer
        # across the point a resumed attempt starts from.
        mock_every_customer(http_mocker, [listed[CUSTOMER], listed[OTHER_CUSTOMER]], archived=[{**listed[THIRD_CUSTOMER], "archived_at": "2024-02-01T00:00:00Z"}])
        for number, customer_id in enumerate(created):
            http_mocker.get(invoices_request(customer_id), page([invoice(f"inv-{number}")]))

        output = read_catalog(_catalog_of_sync(SYNC), config(max_concurrency=1))

        assert [state.get("done_through") for state in _stream_states(output)[:3]] == [OTHER_CUSTOMER, THIRD_CUSTOMER, CUSTOMER]
