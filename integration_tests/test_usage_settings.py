"""The usage settings `group_keys`/`group_filters` and `current_period` end to end, through the
connector's command line against the fake Metronome, compared with the ground truth."""

import json

import pytest
from airbyte_cdk.models import Type

from integration_tests.conftest import discover_streams, requests_to
from integration_tests.fake_metronome import COSTS, USAGE, DatasetOptions, FakeMetronome, expected_records
from integration_tests.record_checks import assert_records_match

SMALL = DatasetOptions(customers=3, metrics_per_customer=3, days_of_history=10)
USAGE_AND_COSTS = {USAGE: "incremental", COSTS: "incremental"}
USAGE_PATH = "/v1/usage/groups"


def metric_id(fake: FakeMetronome, index: int) -> str:
    """The id of the fake's index-th billable metric (dataset.py's _metric(options, index))."""
    return list(fake.dataset.metrics)[index]


class TestGroupKeys:
    @pytest.mark.parametrize(
        "group_keys, group_filters, grouped_metrics",
        [
            (["cluster", "region"], None, {2}),
            (["region", "cluster"], {"cluster": ["cluster-b"]}, {2}),
            # Metric 3 holds region, cluster and tier, but its listing names them only in the older
            # group_by: as single keys, so it offers no compound.
            (["tier", "cluster", "region"], None, set()),
            (["region"], {"region": ["region-b"]}, {1, 2, 3}),
        ],
        ids=["compound_in_any_order", "compound_filtered", "compound_listed_only_as_group_by", "single_key_filtered"],
    )
    def test_given_group_keys_when_syncing_then_metrics_offering_them_are_grouped_and_others_logged(
        self, start_fake, sync, group_keys, group_filters, grouped_metrics
    ):
        # Seed 5 puts metrics 0..4 on plans: 0 and 4 without keys, 1 with region, 2 with region and
        # cluster (listed in both forms), 3 with region, cluster and tier (listed as group_by only).
        fake = start_fake(SMALL.with_changes(seed=5, group_keys_per_metric=3))
        settings = {"start_date": "2024-03-12", "group_keys": group_keys, **({"group_filters": group_filters} if group_filters else {})}

        run = sync(fake, settings, sync_modes=USAGE_AND_COSTS)

        expected = expected_records(fake.dataset, settings)
        for stream in USAGE_AND_COSTS:
            assert_records_match(stream, run.records(stream), expected[stream])
        grouped = {metric_id(fake, index) for index in grouped_metrics}
        assert {record["billable_metric_id"] for record in expected[USAGE] if "group" in record} == grouped
        for request in (request for request in fake.requests if request.path == USAGE_PATH):
            assert "group_by" not in request.body
            if request.body["billable_metric_id"] in grouped:
                assert sorted(request.body["group_key"]) == sorted(group_keys)
                assert request.body.get("group_filters") == group_filters
            else:
                assert "group_key" not in request.body and "group_filters" not in request.body
        logs = run.log_messages()
        for metric in {record["billable_metric_id"] for record in expected[USAGE]} - grouped:
            assert any(metric in message and "ungrouped" in message.lower() for message in logs), f"no log says {metric} is read ungrouped"

    def test_given_a_compound_group_when_syncing_then_group_id_is_the_sorted_compact_group(self, start_fake, sync):
        fake = start_fake(SMALL.with_changes(seed=5, group_keys_per_metric=3))
        settings = {"start_date": "2024-03-14", "group_keys": ["region", "cluster"], "group_filters": {"region": ["region-a"]}}

        run = sync(fake, settings, sync_modes={USAGE: "incremental"})

        compound = [record for record in run.records(USAGE) if record["billable_metric_id"] == metric_id(fake, 2)]
        assert {record["group_id"] for record in compound} == {
            '{"cluster":"cluster-a","region":"region-a"}',
            '{"cluster":"cluster-b","region":"region-a"}',
            '{"cluster":null,"region":"region-a"}',
        }
        assert all(json.loads(record["group_id"]) == record["group"] for record in compound)
        assert {record["group_id"] for record in run.records(USAGE) if record["billable_metric_id"] != metric_id(fake, 2)} == {"{}"}

    @pytest.mark.parametrize(
        "grouping, named",
        [
            ({"group_by": {"key": "region"}, "group_keys": ["region"]}, ("group_by", "group_keys")),
            ({"group_filters": {"region": ["region-a"]}}, ("group_filters", "group_keys")),
        ],
        ids=["group_by_with_group_keys", "group_filters_without_group_keys"],
    )
    def test_given_conflicting_grouping_when_reading_then_one_config_error_before_any_request(self, start_fake, sync, grouping, named):
        fake = start_fake(SMALL)

        run = sync(fake, {"start_date": "2024-03-12", **grouping}, sync_modes=USAGE_AND_COSTS, expect_success=False)

        assert run.returncode == 1
        errors = [message.trace.error for message in run.of_type(Type.TRACE) if message.trace.error]
        assert [error.failure_type.value for error in errors] == ["config_error"]
        message = errors[0].message
        assert all(key in message for key in named), message
        assert message.endswith(".") and message.count(". ") == 0, f"one sentence: {message}"
        assert not run.records(USAGE) and fake.requests == []


class TestCurrentPeriod:
    @pytest.mark.parametrize("window_size", ["DAY", "NONE"])
    def test_given_current_period_when_syncing_then_each_billing_period_is_read_and_planless_skipped(self, start_fake, sync, tmp_path, window_size):
        fake = start_fake(SMALL.with_changes(no_plan_share=0.34))
        settings = {"start_date": "2024-03-10", "window_size": window_size, "current_period": True}
        without_plan = [customer for customer in fake.dataset.customers if not customer.has_active_plan]
        assert len(without_plan) == 1

        run = sync(fake, settings, sync_modes={USAGE: "full_refresh", COSTS: "incremental"})

        expected = expected_records(fake.dataset, settings)
        for stream in USAGE_AND_COSTS:
            assert_records_match(stream, run.records(stream), expected[stream])
        usage = [request for request in fake.requests if request.path == USAGE_PATH]
        assert all(request.body["current_period"] is True for request in usage)
        assert not any("starting_on" in request.body or "ending_before" in request.body for request in usage)
        assert {request.body["customer_id"] for request in usage if request.status == 400} == {without_plan[0].id}
        assert any(without_plan[0].id in message for message in run.log_messages("WARN")), "no warning names the customer without a plan"
        # Costs keep to start_date.
        assert {request.param("starting_on") for request in requests_to(fake, "/costs")} == {"2024-03-10T00:00:00+00:00"}
        assert USAGE not in run.stream_states() or not run.stream_states()[USAGE].get("states")

    def test_given_current_period_when_discovering_then_usage_is_full_refresh_only(self, start_fake, tmp_path):
        fake = start_fake(SMALL)

        streams = discover_streams(fake, {"start_date": "2024-03-10", "current_period": True}, tmp_path)

        assert streams[USAGE]["supported_sync_modes"] == ["full_refresh"]
        assert not streams[USAGE].get("source_defined_cursor") and not streams[USAGE].get("default_cursor_field")
        assert sorted(streams[COSTS]["supported_sync_modes"]) == ["full_refresh", "incremental"]
