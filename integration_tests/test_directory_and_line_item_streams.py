"""The `customers`, `billable_metrics` and `customer_cost_line_items` streams end to end: what
discover declares, records equal to the ground truth and fitting their schemas, and the requests
they add to a sync (none for what another stream already asked), through the connector's command
line against the fake Metronome."""

import json
from collections import Counter
from typing import Dict, List, Tuple

import pytest

from integration_tests.conftest import discover_streams, requests_to
from integration_tests.fake_metronome import (
    BILLING_STREAMS,
    CONTRACTS_ERA_STREAMS,
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
from integration_tests.fake_metronome.ground_truth_breakdowns import BREAKDOWN_STREAMS
from integration_tests.record_checks import assert_cursors_match, assert_records_fit_schema, assert_records_match

SMALL = DatasetOptions(customers=3, metrics_per_customer=3, days_of_history=10)
# Archived customers, one whose plan has a UNIQUE metric (no costs), and null usage values.
VARIED = SMALL.with_changes(customers=4, archived_share=0.25, unique_plan_share=0.25, null_share=0.1)
DIRECTORY_AND_LINE_ITEM_STREAMS = (CUSTOMERS, BILLABLE_METRICS, COST_LINE_ITEMS)
USAGE_AND_COSTS = {USAGE: "incremental", COSTS: "incremental"}
ALL_FIVE = {**USAGE_AND_COSTS, CUSTOMERS: "full_refresh", BILLABLE_METRICS: "full_refresh", COST_LINE_ITEMS: "incremental"}
BOTH_COST_STREAMS = {COSTS: "incremental", COST_LINE_ITEMS: "incremental"}
CUSTOMERS_PATH = "/v1/customers"

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


class TestDiscover:
    def test_when_discovering_then_modes_keys_and_cursor_are_declared(self, start_fake, tmp_path):
        fake = start_fake(SMALL)

        streams = discover_streams(fake, {"start_date": "2024-03-10"}, tmp_path)

        assert set(streams) == {USAGE, COSTS, *DIRECTORY_AND_LINE_ITEM_STREAMS, *BILLING_STREAMS, *BREAKDOWN_STREAMS, *CONTRACTS_ERA_STREAMS}
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


class TestRecords:
    def test_given_all_five_streams_when_syncing_then_each_matches_and_fits_its_schema(self, start_fake, sync, tmp_path):
        fake = start_fake(VARIED)
        settings = {"start_date": "2024-03-11", "include_archived_customers": True, "group_by": {"key": "region"}}

        run = sync(fake, settings, sync_modes=ALL_FIVE)

        expected = expected_records(fake.dataset, settings)
        schemas = discover_streams(fake, settings, tmp_path)
        for stream in ALL_FIVE:
            assert_records_match(stream, run.records(stream), expected[stream])
            assert_records_fit_schema(stream, schemas[stream]["json_schema"], run.records(stream))
        assert all(run.records(stream) for stream in DIRECTORY_AND_LINE_ITEM_STREAMS)
        assert {record["id"] for record in run.records(CUSTOMERS)} == {customer.id for customer in fake.dataset.customers}
        # line_item_id is compared as a string: both forms, with a group and without, are covered.
        assert any(record["line_item_id"].endswith(",null,null]") for record in expected[COST_LINE_ITEMS])
        assert any(record["group_key"] for record in expected[COST_LINE_ITEMS])

    def test_given_configured_ids_when_syncing_listings_then_named_customers_with_all_their_metrics(self, start_fake, sync):
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

    def test_given_over_a_hundred_customer_ids_when_syncing_then_each_listing_asks_for_at_most_100(self, start_fake, sync):
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


class TestSharedRequests:
    """What these streams add to a sync's requests: nothing the usage and cost streams already asked."""

    @pytest.mark.parametrize(
        "settings, name_metrics",
        [
            ({"start_date": "2024-03-12", "include_archived_customers": True, "page_size": 2}, False),
            # Named metrics with group_by: usage lists each customer's metrics for their group keys.
            ({"start_date": "2024-03-12", "group_by": {"key": "region"}}, True),
        ],
        ids=["everything_listed_paged_by_two", "metric_ids_with_group_by"],
    )
    def test_given_all_five_streams_when_syncing_then_no_request_is_added_or_repeated(self, start_fake, sync, settings, name_metrics):
        """Customers, each one's billable metrics and every costs page are already read for usage and
        costs: these streams' records come from those answers, not from asking again. Only the
        archived customers, which customers and billable_metrics list whatever
        include_archived_customers says, add their list and their metric listings when usage and
        costs leave them out."""
        fake = start_fake(SMALL.with_changes(customers=4, archived_share=0.25))
        if name_metrics:
            settings = {**settings, "billable_metric_ids": list(fake.dataset.customers[0].metric_ids)}
        sync(fake, settings, sync_modes=USAGE_AND_COSTS)
        usage_and_costs = request_counts(fake)
        fake.reset_requests()

        run = sync(fake, settings, sync_modes=ALL_FIVE)

        everything = request_counts(fake)
        assert not repeated(everything), f"asked more than once: {repeated(everything)[:5]}"
        added = Counter((request.path, request.param("only_archived")) for request in fake.requests if signature(request) in everything - usage_and_costs)
        archived = [customer.id for customer in fake.dataset.customers if customer.archived]
        for_archived = {(CUSTOMERS_PATH, "true"): 1, **{(f"/v1/customers/{customer_id}/billable-metrics", None): 1 for customer_id in archived}}
        assert added == (Counter() if settings.get("include_archived_customers") else Counter(for_archived)), "requests the directory and line-item streams added"
        assert usage_and_costs - everything == Counter(), f"requests missing: {list(usage_and_costs - everything)[:5]}"
        assert all(run.records(stream) for stream in DIRECTORY_AND_LINE_ITEM_STREAMS)

    def test_given_configured_ids_when_all_five_sync_then_only_the_listings_are_added(self, start_fake, sync):
        fake = start_fake(SMALL.with_changes(customers=4, archived_share=0.25))
        named = [customer.id for customer in fake.dataset.customers[:3]]
        settings = {"start_date": "2024-03-12", "customer_ids": named, "billable_metric_ids": list(fake.dataset.customers[0].metric_ids[:2])}
        sync(fake, settings, sync_modes=USAGE_AND_COSTS)
        usage_and_costs = request_counts(fake)
        fake.reset_requests()

        sync(fake, settings, sync_modes=ALL_FIVE)

        everything = request_counts(fake)
        assert not repeated(everything), f"asked more than once: {repeated(everything)[:5]}"
        assert usage_and_costs - everything == Counter()
        added = [request for request in fake.requests if signature(request) in everything - usage_and_costs]
        assert Counter((request.path, request.param("only_archived")) for request in added) == Counter(
            {(CUSTOMERS_PATH, None): 1, (CUSTOMERS_PATH, "true"): 1, **{(f"/v1/customers/{customer_id}/billable-metrics", None): 1 for customer_id in named}}
        )
        assert all(sorted(customer_ids_asked(request)) == sorted(named) for request in added if request.path == CUSTOMERS_PATH)

    def test_given_both_cost_streams_when_syncing_then_each_costs_page_is_requested_once(self, start_fake, sync):
        fake = start_fake(SMALL.with_changes(unique_plan_share=0.34))
        settings = {"start_date": "2024-03-08", "page_size": 3}

        run = sync(fake, settings, sync_modes=BOTH_COST_STREAMS)

        expected = expected_records(fake.dataset, settings)
        for stream in BOTH_COST_STREAMS:
            assert_records_match(stream, run.records(stream), expected[stream])
        pages = Counter(signature(request) for request in requests_to(fake, "/costs") if request.status == 200)
        assert not repeated(pages), f"costs pages asked more than once: {repeated(pages)[:5]}"
        # 8 days by 3 a page: 3 pages for each of the 2 customers with costs (the third is on a UNIQUE plan).
        assert len(pages) == 3 * 2


class TestLineItems:
    def test_when_syncing_then_line_items_add_up_to_each_days_credit_type_total(self, start_fake, sync):
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

    def test_given_saved_state_when_resuming_then_line_items_read_from_cursor_less_lookback(self, start_fake, sync):
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
        assert not repeated(Counter(signature(request) for request in requests_to(fake, "/costs")))

    def test_given_state_for_line_items_only_when_syncing_both_then_each_reads_its_own_range(self, start_fake, sync):
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
        assert {request.param("starting_on") for request in requests_to(fake, "/costs")} == {"2024-03-05T00:00:00+00:00", "2024-03-14T00:00:00+00:00"}
