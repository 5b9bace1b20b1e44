"""Issue 8 end to end: the `customers`, `billable_metrics` and `customer_cost_line_items` streams,
the requests they add to a sync (none for what another stream already asked), and the usage
settings `group_keys`/`group_filters` and `current_period`, each through the connector's command
line against the fake Metronome, compared with the ground truth."""

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import pytest
from airbyte_cdk.models import Type
from jsonschema import Draft7Validator, FormatChecker

from integration_tests.conftest import connector_config
from integration_tests.connector_cli import run_connector, write_json
from integration_tests.fake_metronome import (
    BILLING_STREAMS,
    BILLABLE_METRICS,
    COST_LINE_ITEMS,
    COSTS,
    CUSTOMERS,
    USAGE,
    DatasetOptions,
    FakeMetronome,
    LoggedRequest,
    expected_cost_line_items,
    expected_customers,
    expected_line_item_cursors,
    expected_records,
)
from integration_tests.record_checks import assert_cursors_match, assert_records_match

SMALL = DatasetOptions(customers=3, metrics_per_customer=3, days_of_history=10)
# Archived customers, one whose plan has a UNIQUE metric (no costs), and null usage values.
VARIED = SMALL.with_changes(customers=4, archived_share=0.25, unique_plan_share=0.25, null_share=0.1)
NEW_STREAMS = (CUSTOMERS, BILLABLE_METRICS, COST_LINE_ITEMS)
ORIGINAL = {USAGE: "incremental", COSTS: "incremental"}
ALL_FIVE = {**ORIGINAL, CUSTOMERS: "full_refresh", BILLABLE_METRICS: "full_refresh", COST_LINE_ITEMS: "incremental"}
BOTH_COST_STREAMS = {COSTS: "incremental", COST_LINE_ITEMS: "incremental"}
CUSTOMERS_PATH = "/v1/customers"
USAGE_PATH = "/v1/usage/groups"


# Helpers


def discover(fake: FakeMetronome, settings: Mapping[str, Any], tmp_path: Path) -> Dict[str, Dict[str, Any]]:
    """The streams `source-metronome discover` declares, by name, as emitted."""
    config = write_json(tmp_path / "discover-config.json", connector_config(fake, settings))
    run = run_connector(["discover", "--config", str(config)], now=fake.now)
    assert run.returncode == 0, f"discover failed: {run.error_messages()}\n{run.stderr[-3000:]}"
    [catalog] = [raw["catalog"] for raw in run.raw_messages if raw["type"] == "CATALOG"]
    return {stream["name"]: stream for stream in catalog["streams"]}


# jsonschema leaves `date-time` unchecked without an optional package; a destination would still
# choke on a timestamp it cannot parse, so the check is made here.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time_with_offset(value: Any) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def assert_records_fit_schema(stream: str, schema: Mapping[str, Any], records: List[Mapping[str, Any]]) -> None:
    validator = Draft7Validator(schema, format_checker=FORMATS)
    problems = [f"{json.dumps(record)[:200]}: {error.message}" for record in records for error in validator.iter_errors(record)]
    assert not problems, f"{stream}: {len(problems)} schema problems, e.g. {problems[:3]}"


def signature(request: LoggedRequest) -> Tuple[str, str, str, str]:
    """A request as its parameters make it, whatever order they came in: two equal signatures ask
    the server the same thing twice."""
    query = json.dumps(sorted((name, sorted(values)) for name, values in request.query.items()))
    return request.method, request.path, query, json.dumps(request.body, sort_keys=True)


def request_counts(fake: FakeMetronome) -> Counter:
    return Counter(signature(request) for request in fake.requests)


def repeated(counts: Counter) -> List[Tuple[str, ...]]:
    return [request for request, count in counts.items() if count > 1]


def customer_ids_asked(request: LoggedRequest) -> List[str]:
    """The ids of a GET /v1/customers?customer_ids=… (comma-separated or repeated)."""
    return [customer_id for value in request.query.get("customer_ids", []) for customer_id in value.split(",") if customer_id]


def costs_requests(fake: FakeMetronome) -> List[LoggedRequest]:
    return [request for request in fake.requests if request.path.endswith("/costs")]


def log_messages(run, level: Optional[str] = None) -> List[str]:
    return [raw["log"]["message"] for raw in run.raw_messages if raw["type"] == "LOG" and level in (None, raw["log"]["level"])]


def metric_id(fake: FakeMetronome, index: int) -> str:
    """The id of the fake's index-th billable metric (dataset.py's _metric(options, index))."""
    return list(fake.dataset.metrics)[index]


# Discover, records and schemas


def test_given_any_config_when_discovering_then_the_new_streams_declare_their_sync_modes_primary_keys_and_cursor(start_fake, tmp_path):
    fake = start_fake(SMALL)

    streams = discover(fake, {"start_date": "2024-03-10"}, tmp_path)

    assert set(streams) == {USAGE, COSTS, *NEW_STREAMS, *BILLING_STREAMS}
    for name, modes, primary_key in (
        (CUSTOMERS, ["full_refresh"], [["id"]]),
        (BILLABLE_METRICS, ["full_refresh"], [["customer_id"], ["id"]]),
        (COST_LINE_ITEMS, ["full_refresh", "incremental"], [["customer_id"], ["start_timestamp"], ["credit_type_id"], ["line_item_id"]]),
    ):
        assert sorted(streams[name]["supported_sync_modes"]) == modes, name
        assert streams[name]["source_defined_primary_key"] == primary_key, name
        assert {key for [key] in primary_key} <= set(streams[name]["json_schema"]["required"]), f"{name}: a primary key may be null"
    assert streams[COST_LINE_ITEMS]["source_defined_cursor"] is True
    assert streams[COST_LINE_ITEMS]["default_cursor_field"] == ["end_timestamp"]
    assert not streams[CUSTOMERS].get("default_cursor_field") and not streams[BILLABLE_METRICS].get("default_cursor_field")


def test_given_all_five_streams_when_syncing_then_every_stream_equals_the_ground_truth_and_fits_its_discovered_schema(start_fake, sync, tmp_path):
    fake = start_fake(VARIED)
    settings = {"start_date": "2024-03-11", "include_archived_customers": True, "group_by": {"key": "region"}}

    run = sync(fake, settings, sync_modes=ALL_FIVE)

    expected = expected_records(fake.dataset, settings)
    schemas = discover(fake, settings, tmp_path)
    for stream in ALL_FIVE:
        assert_records_match(stream, run.records(stream), expected[stream])
        assert_records_fit_schema(stream, schemas[stream]["json_schema"], run.records(stream))
    assert all(run.records(stream) for stream in NEW_STREAMS)
    assert {record["id"] for record in run.records(CUSTOMERS)} == {customer.id for customer in fake.dataset.customers}
    # line_item_id is compared as a string: both forms, with a group and without, are covered.
    assert any(record["line_item_id"].endswith(",null,null]") for record in expected[COST_LINE_ITEMS])
    assert any(record["group_key"] for record in expected[COST_LINE_ITEMS])


def test_given_customer_and_metric_ids_when_syncing_the_listings_then_customers_are_those_named_and_each_ones_metrics_are_all_emitted(
    start_fake, sync
):
    fake = start_fake(SMALL.with_changes(customers=4, archived_share=0.5))
    archived = next(customer for customer in fake.dataset.customers if customer.archived)
    active = next(customer for customer in fake.dataset.customers if not customer.archived)
    settings = {"start_date": "2024-03-12", "customer_ids": [archived.id, active.id], "billable_metric_ids": [active.metric_ids[0]]}

    run = sync(fake, settings, sync_modes={CUSTOMERS: "full_refresh", BILLABLE_METRICS: "full_refresh"})

    expected = expected_records(fake.dataset, settings)
    for stream in (CUSTOMERS, BILLABLE_METRICS):
        assert_records_match(stream, run.records(stream), expected[stream])
    # billable_metric_ids narrows usage, not the metrics listed: each customer's whole listing.
    assert len(run.records(BILLABLE_METRICS)) == len(archived.metric_ids) + len(active.metric_ids)
    listings = [request for request in fake.requests if request.path == CUSTOMERS_PATH]
    assert sorted(request.param("only_archived") or "false" for request in listings) == ["false", "true"]
    assert all(sorted(customer_ids_asked(request)) == sorted(settings["customer_ids"]) for request in listings)


def test_given_more_than_a_hundred_customer_ids_when_syncing_customers_then_each_listing_asks_for_at_most_a_hundred(start_fake, sync):
    fake = start_fake(SMALL.with_changes(customers=105, archived_share=0.2, days_of_history=2))
    named = [customer.id for customer in reversed(fake.dataset.customers)]
    settings = {"start_date": "2024-03-14", "customer_ids": named}

    run = sync(fake, settings, sync_modes={CUSTOMERS: "full_refresh"})

    assert_records_match(CUSTOMERS, run.records(CUSTOMERS), expected_customers(fake.dataset, settings))
    assert len(run.records(CUSTOMERS)) == 105
    assert {request.path for request in fake.requests} == {CUSTOMERS_PATH}
    for only_archived in ("false", "true"):
        asked = [customer_ids_asked(request) for request in fake.requests if (request.param("only_archived") or "false") == only_archived]
        assert all(0 < len(ids) <= 100 for ids in asked), [len(ids) for ids in asked]
        assert sorted(customer_id for ids in asked for customer_id in ids) == sorted(named)


# Requests: what the new streams add to a sync


@pytest.mark.parametrize(
    "settings, name_metrics",
    [
        ({"start_date": "2024-03-12", "include_archived_customers": True, "page_size": 2}, False),
        # Named metrics with group_by: usage lists each customer's metrics for their group keys.
        ({"start_date": "2024-03-12", "group_by": {"key": "region"}}, True),
    ],
    ids=["everything_listed_paged_by_two", "metric_ids_with_group_by"],
)
def test_given_listings_the_original_streams_need_when_all_five_streams_sync_then_not_one_request_is_added_or_repeated(
    start_fake, sync, settings, name_metrics
):
    """Customers, each one's billable metrics and every costs page are already read for usage and
    costs: the new streams' records come from those answers, not from asking again."""
    fake = start_fake(SMALL.with_changes(customers=4, archived_share=0.25))
    if name_metrics:
        settings = {**settings, "billable_metric_ids": list(fake.dataset.customers[0].metric_ids)}
    sync(fake, settings, sync_modes=ORIGINAL)
    original = request_counts(fake)
    fake.reset_requests()

    run = sync(fake, settings, sync_modes=ALL_FIVE)

    everything = request_counts(fake)
    assert not repeated(everything), f"asked more than once: {repeated(everything)[:5]}"
    assert everything - original == Counter(), f"requests the new streams added: {list(everything - original)[:5]}"
    assert original - everything == Counter(), f"requests missing: {list(original - everything)[:5]}"
    assert all(run.records(stream) for stream in NEW_STREAMS)


def test_given_named_customers_and_metrics_when_all_five_streams_sync_then_only_the_customer_listings_and_metric_listings_are_added(
    start_fake, sync
):
    fake = start_fake(SMALL.with_changes(customers=4, archived_share=0.25))
    named = [customer.id for customer in fake.dataset.customers[:3]]
    settings = {"start_date": "2024-03-12", "customer_ids": named, "billable_metric_ids": list(fake.dataset.customers[0].metric_ids[:2])}
    sync(fake, settings, sync_modes=ORIGINAL)
    original = request_counts(fake)
    fake.reset_requests()

    sync(fake, settings, sync_modes=ALL_FIVE)

    everything = request_counts(fake)
    assert not repeated(everything), f"asked more than once: {repeated(everything)[:5]}"
    assert original - everything == Counter()
    added = [request for request in fake.requests if signature(request) in everything - original]
    assert Counter((request.path, request.param("only_archived")) for request in added) == Counter(
        {(CUSTOMERS_PATH, None): 1, (CUSTOMERS_PATH, "true"): 1, **{(f"/v1/customers/{customer_id}/billable-metrics", None): 1 for customer_id in named}}
    )
    assert all(sorted(customer_ids_asked(request)) == sorted(named) for request in added if request.path == CUSTOMERS_PATH)


def test_given_both_cost_streams_with_the_same_ranges_when_syncing_then_each_costs_page_is_requested_once(start_fake, sync):
    fake = start_fake(SMALL.with_changes(unique_plan_share=0.34))
    settings = {"start_date": "2024-03-08", "page_size": 3}

    run = sync(fake, settings, sync_modes=BOTH_COST_STREAMS)

    expected = expected_records(fake.dataset, settings)
    for stream in BOTH_COST_STREAMS:
        assert_records_match(stream, run.records(stream), expected[stream])
    pages = Counter(signature(request) for request in costs_requests(fake) if request.status == 200)
    assert not repeated(pages), f"costs pages asked more than once: {repeated(pages)[:5]}"
    # 8 days by 3 a page: 3 pages for each of the 2 customers with costs (the third is on a UNIQUE plan).
    assert len(pages) == 3 * 2


# Line items


def test_given_a_costs_sync_when_adding_up_line_items_then_each_days_credit_type_total_is_their_exact_sum(start_fake, sync):
    fake = start_fake(SMALL.with_changes(customers=4, null_share=0.2))
    settings = {"start_date": "2024-03-09"}

    run = sync(fake, settings, sync_modes={COSTS: "full_refresh", COST_LINE_ITEMS: "full_refresh"})

    sums: Dict[Tuple[str, str, str], float] = {}
    for item in run.records(COST_LINE_ITEMS):
        key = (item["customer_id"], item["start_timestamp"], item["credit_type_id"])
        sums[key] = sums.get(key, 0) + item["cost"]
    totals = {
        (day["customer_id"], day["start_timestamp"], credit_type_id): credit_type["cost"]
        for day in run.records(COSTS)
        for credit_type_id, credit_type in day["credit_types"].items()
    }
    # The fake's costs are whole quarters of a cent: their sums are exact in floating point.
    assert sums == totals
    assert len({key[2] for key in totals}) == 2, "both credit types should be covered"


def test_given_saved_state_when_line_items_resume_incrementally_then_they_read_from_their_cursors_less_the_lookback(start_fake, sync):
    fake = start_fake(SMALL.with_changes(late_days=3))
    settings = {"start_date": "2024-03-05", "lookback_days": 2}
    first = sync(fake, settings, sync_modes=BOTH_COST_STREAMS)
    assert_cursors_match(first.stream_states(), {COST_LINE_ITEMS: expected_line_item_cursors(fake.dataset, settings)})
    saved = first.stream_states()
    fake.advance(days=2)
    fake.revision = 1
    fake.reset_requests()

    second = sync(fake, settings, sync_modes=BOTH_COST_STREAMS, state_messages=list(first.last_states().values()))

    expected = expected_cost_line_items(fake.dataset, settings, state=saved)
    assert_records_match(COST_LINE_ITEMS, second.records(COST_LINE_ITEMS), expected)
    assert_cursors_match(second.stream_states(), {COST_LINE_ITEMS: expected_line_item_cursors(fake.dataset, settings, state=saved)})
    assert min(record["start_timestamp"] for record in second.records(COST_LINE_ITEMS)) == "2024-03-13T00:00:00+00:00"
    # Same saved cursors for both streams, so the same ranges: each page once.
    assert not repeated(Counter(signature(request) for request in costs_requests(fake)))


def test_given_state_for_line_items_only_when_syncing_both_cost_streams_then_each_reads_its_own_range(start_fake, sync):
    fake = start_fake(SMALL)
    settings = {"start_date": "2024-03-05", "lookback_days": 1}
    first = sync(fake, settings, sync_modes={COST_LINE_ITEMS: "incremental"})
    saved = first.stream_states()
    fake.advance(days=1)
    fake.reset_requests()

    second = sync(fake, settings, sync_modes=BOTH_COST_STREAMS, state_messages=[first.last_states()[COST_LINE_ITEMS]])

    expected = expected_records(fake.dataset, settings, state=saved)
    for stream in BOTH_COST_STREAMS:
        assert_records_match(stream, second.records(stream), expected[stream])
    assert {request.param("starting_on") for request in costs_requests(fake)} == {"2024-03-05T00:00:00+00:00", "2024-03-14T00:00:00+00:00"}


# group_keys and group_filters


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
def test_given_group_keys_when_syncing_then_metrics_offering_that_key_set_are_read_grouped_and_the_others_ungrouped_with_a_log(
    start_fake, sync, group_keys, group_filters, grouped_metrics
):
    # Seed 5 puts metrics 0..4 on plans: 0 and 4 without keys, 1 with region, 2 with region and
    # cluster (listed in both forms), 3 with region, cluster and tier (listed as group_by only).
    fake = start_fake(SMALL.with_changes(seed=5, group_keys_per_metric=3))
    settings = {"start_date": "2024-03-12", "group_keys": group_keys, **({"group_filters": group_filters} if group_filters else {})}

    run = sync(fake, settings, sync_modes=ORIGINAL)

    expected = expected_records(fake.dataset, settings)
    for stream in ORIGINAL:
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
    logs = log_messages(run)
    for metric in {record["billable_metric_id"] for record in expected[USAGE]} - grouped:
        assert any(metric in message and "ungrouped" in message.lower() for message in logs), f"no log says {metric} is read ungrouped"


def test_given_a_compound_group_when_syncing_then_group_id_is_the_sorted_compact_group_and_usage_records_carry_the_group(start_fake, sync):
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
def test_given_conflicting_grouping_settings_when_reading_then_one_config_error_names_both_keys_before_any_request(start_fake, sync, grouping, named):
    fake = start_fake(SMALL)

    run = sync(fake, {"start_date": "2024-03-12", **grouping}, sync_modes=ORIGINAL, expect_success=False)

    assert run.returncode == 1
    errors = [message.trace.error for message in run.of_type(Type.TRACE) if message.trace.error]
    assert [error.failure_type.value for error in errors] == ["config_error"]
    message = errors[0].message
    assert all(key in message for key in named), message
    assert message.endswith(".") and message.count(". ") == 0, f"one sentence: {message}"
    assert not run.records(USAGE) and fake.requests == []


# current_period


@pytest.mark.parametrize("window_size", ["DAY", "NONE"])
def test_given_current_period_when_syncing_then_usage_covers_each_billing_period_and_customers_without_a_plan_are_skipped_with_a_warning(
    start_fake, sync, tmp_path, window_size
):
    fake = start_fake(SMALL.with_changes(no_plan_share=0.34))
    settings = {"start_date": "2024-03-10", "window_size": window_size, "current_period": True}
    without_plan = [customer for customer in fake.dataset.customers if not customer.has_active_plan]
    assert len(without_plan) == 1

    run = sync(fake, settings, sync_modes={USAGE: "full_refresh", COSTS: "incremental"})

    expected = expected_records(fake.dataset, settings)
    for stream in ORIGINAL:
        assert_records_match(stream, run.records(stream), expected[stream])
    usage = [request for request in fake.requests if request.path == USAGE_PATH]
    assert all(request.body["current_period"] is True for request in usage)
    assert not any("starting_on" in request.body or "ending_before" in request.body for request in usage)
    assert {request.body["customer_id"] for request in usage if request.status == 400} == {without_plan[0].id}
    assert any(without_plan[0].id in message for message in log_messages(run, "WARN")), "no warning names the customer without a plan"
    # Costs keep to start_date.
    assert {request.param("starting_on") for request in costs_requests(fake)} == {"2024-03-10T00:00:00+00:00"}
    assert USAGE not in run.stream_states() or not run.stream_states()[USAGE].get("states")


def test_given_current_period_when_discovering_then_usage_is_full_refresh_only_without_a_cursor(start_fake, tmp_path):
    fake = start_fake(SMALL)

    streams = discover(fake, {"start_date": "2024-03-10", "current_period": True}, tmp_path)

    assert streams[USAGE]["supported_sync_modes"] == ["full_refresh"]
    assert not streams[USAGE].get("source_defined_cursor") and not streams[USAGE].get("default_cursor_field")
    assert sorted(streams[COSTS]["supported_sync_modes"]) == ["full_refresh", "incremental"]
