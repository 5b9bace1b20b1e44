"""The connector's command line against the fake Metronome, compared record by record with the
ground truth computed from the fake's dataset."""

from datetime import timedelta
from typing import Any, Dict, List

import pytest
from airbyte_cdk.models import Type

from integration_tests.conftest import requests_to
from integration_tests.fake_metronome import (
    COSTS,
    USAGE,
    Z_MILLIS_STYLE,
    DatasetOptions,
    FakeMetronome,
    cursors_of,
    expected_cursors,
    expected_records,
)
from integration_tests.fake_metronome.timestamps import parse_timestamp
from integration_tests.record_checks import assert_cursors_match, assert_records_match, changed_keys

SMALL = DatasetOptions(customers=3, metrics_per_customer=3, days_of_history=10)


def assert_sync_matches_ground_truth(fake: FakeMetronome, settings: Dict[str, Any], run, state=None) -> Dict[str, List[Dict[str, Any]]]:
    expected = expected_records(fake.dataset, settings, state=state)
    for stream in (USAGE, COSTS):
        assert_records_match(stream, run.records(stream), expected[stream])
    return expected


class TestWindows:
    def test_given_day_windows_when_syncing_then_every_record_matches(self, start_fake, sync):
        fake = start_fake(SMALL.with_changes(null_share=0.2))
        settings = {"start_date": "2024-03-08", "window_size": "DAY"}

        run = sync(fake, settings)

        expected = assert_sync_matches_ground_truth(fake, settings, run)
        assert any(record["value"] is None for record in expected[USAGE]), "the dataset should hold null values"
        assert {record["group_id"] for record in expected[USAGE]} == {"{}"}

    def test_given_none_window_when_syncing_then_one_total_per_group_spans_the_range(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {"start_date": "2024-03-01", "window_size": "NONE", "group_by": {"key": "region"}}

        run = sync(fake, settings, sync_modes={USAGE: "full_refresh", COSTS: "full_refresh"})

        expected = assert_sync_matches_ground_truth(fake, settings, run)
        assert {(record["starting_on"], record["ending_before"]) for record in expected[USAGE]} == {
            ("2024-03-01T00:00:00+00:00", "2024-03-16T00:00:00+00:00")
        }

    def test_given_z_millis_timestamps_when_syncing_then_records_carry_the_offset_form(self, start_fake, sync):
        fake = start_fake(SMALL, timestamp_style=Z_MILLIS_STYLE)
        # A start_date in the middle of a day is floored to its midnight, as Metronome requires.
        settings = {"start_date": "2024-03-12T08:00:00Z", "window_size": "HOUR"}

        run = sync(fake, settings)

        assert_sync_matches_ground_truth(fake, settings, run)
        assert all(record["starting_on"].endswith("+00:00") for record in run.records(USAGE))
        assert min(record["starting_on"] for record in run.records(USAGE)) == "2024-03-12T00:00:00+00:00"

    def test_given_a_past_end_date_when_syncing_then_no_window_reaches_it_and_cursors_stop_there(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {"start_date": "2024-03-09", "end_date": "2024-03-12"}

        run = sync(fake, settings)

        assert_sync_matches_ground_truth(fake, settings, run)
        assert max(record["ending_before"] for record in run.records(USAGE)) == "2024-03-12T00:00:00+00:00"
        assert {cursor for entry in run.stream_states()[COSTS]["states"] for cursor in entry["cursor"].values()} == {"2024-03-12T00:00:00+00:00"}


class TestGrouping:
    def test_given_a_key_some_metrics_lack_when_syncing_then_those_are_read_ungrouped(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {"start_date": "2024-03-13", "window_size": "HOUR", "group_by": {"key": "region"}}

        run = sync(fake, settings)

        expected = assert_sync_matches_ground_truth(fake, settings, run)
        group_ids = {record["group_id"] for record in expected[USAGE]}
        assert {"{}", '{"region":"region-a"}', '{"region":null}'} <= group_ids
        assert all(request.body.get("group_by") in (None, {"key": "region"}) for request in requests_to(fake, "/v1/usage/groups"))

    def test_given_group_values_when_syncing_then_only_those_values_are_emitted(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {"start_date": "2024-03-10", "group_by": {"key": "region", "values": ["region-b"]}}

        run = sync(fake, settings)

        expected = assert_sync_matches_ground_truth(fake, settings, run)
        assert {record["group_id"] for record in expected[USAGE]} == {"{}", '{"region":"region-b"}'}


class TestPartitions:
    @pytest.mark.parametrize("include_archived", [True, False], ids=["archived_included", "archived_excluded"])
    def test_given_archived_customers_when_syncing_then_read_only_if_included(self, start_fake, sync, include_archived):
        fake = start_fake(SMALL.with_changes(customers=4, archived_share=0.5))
        settings = {"start_date": "2024-03-12", "include_archived_customers": include_archived}

        run = sync(fake, settings)

        assert_sync_matches_ground_truth(fake, settings, run)
        wanted = {customer.id for customer in fake.dataset.customers if include_archived or not customer.archived}
        assert {record["customer_id"] for record in run.records(COSTS)} == wanted
        asked_for_archived = any(request.param("only_archived") == "true" for request in fake.requests)
        assert asked_for_archived == include_archived

    def test_given_configured_ids_when_syncing_then_nothing_is_listed_and_names_are_absent(self, start_fake, sync):
        fake = start_fake(SMALL)
        first, second = fake.dataset.customers[:2]
        settings = {"start_date": "2024-03-12", "customer_ids": [first.id, second.id], "billable_metric_ids": list(first.metric_ids[:2])}

        run = sync(fake, settings)

        assert_sync_matches_ground_truth(fake, settings, run)
        assert {request.path for request in fake.requests} == {"/v1/usage/groups", f"/v1/customers/{first.id}/costs", f"/v1/customers/{second.id}/costs"}
        assert all("billable_metric_name" not in record for record in run.records(USAGE))

    def test_given_configured_metrics_and_group_by_when_syncing_then_metrics_are_listed_for_keys(self, start_fake, sync):
        fake = start_fake(SMALL)
        # A metric off the first customer's plan: it is read for that customer too, ungrouped and unnamed.
        off_plan = next(metric_id for metric_id in fake.dataset.metrics if metric_id not in fake.dataset.customers[0].metric_ids)
        settings = {"start_date": "2024-03-12", "billable_metric_ids": [*fake.dataset.customers[0].metric_ids, off_plan], "group_by": {"key": "region"}}

        run = sync(fake, settings)

        expected = assert_sync_matches_ground_truth(fake, settings, run)
        assert any(record["billable_metric_name"] is None for record in expected[USAGE])
        assert any(record["billable_metric_name"] is not None for record in expected[USAGE])

    def test_given_a_unique_metric_plan_when_syncing_costs_then_other_customers_still_emitted(self, start_fake, sync):
        fake = start_fake(SMALL.with_changes(unique_plan_share=0.34))
        settings = {"start_date": "2024-03-12"}

        run = sync(fake, settings)

        expected = assert_sync_matches_ground_truth(fake, settings, run)
        refused = [request for request in fake.requests if request.path.endswith("/costs") and request.status == 400]
        assert len(refused) == 1
        assert len({record["customer_id"] for record in expected[COSTS]}) == 2


class TestPagination:
    def test_given_page_size_two_when_syncing_then_every_endpoint_is_paged_without_loss(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {"start_date": "2024-03-10", "page_size": 2}

        run = sync(fake, settings)

        assert_sync_matches_ground_truth(fake, settings, run)
        paged_paths = {request.path.split("/")[-1] for request in fake.requests if request.param("next_page")}
        assert paged_paths == {"customers", "billable-metrics", "groups", "costs"}


class TestIncremental:
    def test_given_a_first_sync_then_state_is_per_partition_at_the_last_complete_day(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {"start_date": "2024-03-10"}

        run = sync(fake, settings)

        state_messages = [raw["state"] for raw in run.raw_messages if raw["type"] == "STATE"]
        assert len(state_messages) == len(run.of_type(Type.STATE)) > 0
        for state in state_messages:
            assert state["type"] == "STREAM"
            assert set(state["stream"]["stream_state"]) == {"states"}
            for entry in state["stream"]["stream_state"]["states"]:
                assert set(entry) == {"partition", "cursor"}
        final = run.stream_states()
        assert_cursors_match(final, expected_cursors(fake.dataset, settings))
        assert {cursor for stream in final.values() for entry in stream["states"] for cursor in entry["cursor"].values()} == {
            "2024-03-15T00:00:00+00:00"
        }

    def test_given_late_events_when_resuming_then_changes_within_the_lookback_are_emitted(self, start_fake, sync):
        fake = start_fake(SMALL.with_changes(late_days=3))
        settings = {"start_date": "2024-03-05", "lookback_days": 2, "group_by": {"key": "region"}}
        first = sync(fake, settings)
        saved = first.stream_states()
        fake.advance(days=2)
        fake.revision = 1
        fake.reset_requests()

        second = sync(fake, settings, state_messages=list(first.last_states().values()))

        assert_sync_matches_ground_truth(fake, settings, second, state=saved)
        assert_cursors_match(second.stream_states(), expected_cursors(fake.dataset, settings, state=saved))
        first_cursor = "2024-03-15T00:00:00+00:00"
        changed_complete_days = [key for key in changed_keys(USAGE, first.records(USAGE), second.records(USAGE)) if key[-1] < first_cursor]
        assert changed_complete_days, "late events should change days the first sync had already completed"
        assert min(record["starting_on"] for record in second.records(USAGE)) == "2024-03-13T00:00:00+00:00"
        assert max(record["starting_on"] for record in second.records(USAGE)) == "2024-03-17T00:00:00+00:00"

    def test_given_saved_state_when_resuming_then_no_request_reaches_past_the_lookback(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {"start_date": "2024-03-01", "lookback_days": 3}
        first = sync(fake, settings)
        saved = {stream: cursors_of(state) for stream, state in first.stream_states().items()}
        fake.advance(days=1)
        fake.reset_requests()

        sync(fake, settings, state_messages=list(first.last_states().values()))

        dated = [request for request in fake.requests if request.dated("starting_on")]
        assert dated
        for request in dated:
            if request.path == "/v1/usage/groups":
                cursor = saved[USAGE][(request.body["customer_id"], request.body["billable_metric_id"])]
            else:
                cursor = saved[COSTS][(request.path.split("/")[3],)]
            assert parse_timestamp(request.dated("starting_on")) == cursor - timedelta(days=3)
