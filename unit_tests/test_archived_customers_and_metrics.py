"""Nothing churned disappears: streams synced as a full refresh (which overwrites their table) read
archived customers whatever include_archived_customers says, streams with a cursor too when the
catalog picks full refresh; incremental syncs follow it; archived billable metrics are listed, with
their usage."""

import logging
from typing import Any, Dict, List

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from source_metronome.config import parse_config
from source_metronome.directory import Directory
from source_metronome.pacing import SyncBudget
from source_metronome.streams.endpoint import Endpoint
from source_metronome.streams.partitioned import CustomerStream
from source_metronome.sync_context import SyncContext
from unit_tests.builders import (
    BASE,
    CUSTOMER,
    METRIC,
    OTHER_CUSTOMER,
    OTHER_METRIC,
    catalog_of,
    config,
    cost_item,
    costs_request,
    customer,
    customers_request,
    metric,
    mock_every_customer,
    metrics_request,
    page,
    read_catalog,
    records,
    usage_item,
    usage_request,
)

ARCHIVED_AT = "2024-03-10T00:00:00+00:00"
THIRD_CUSTOMER = "5f0c5c33-4b59-4f55-9f3e-6c2f41a0c7d1"
LOGGER = logging.getLogger("airbyte")


def _archived(customer_id: str, name: str = "Churned, Inc.") -> Dict[str, Any]:
    return {**customer(customer_id, name), "archived_at": ARCHIVED_AT}


def _invoices_request(customer_id: str) -> HttpRequest:
    return HttpRequest(f"{BASE}/customers/{customer_id}/invoices", query_params={"sort": "date_asc", "limit": "100"})


def _invoice(invoice_id: str, customer_id: str) -> Dict[str, Any]:
    line_item = {"type": "usage", "name": "CPU hours", "credit_type": {"id": "usd"}, "total": 100.0}
    return {"id": invoice_id, "customer_id": customer_id, "status": "FINALIZED", "total": 100.0, "line_items": [line_item]}


def _customer_ids(found: List[Dict[str, Any]]) -> List[str]:
    return [record["customer_id"] for record in found]


class TestFullRefreshStreamsReadArchivedCustomers:
    @HttpMocker()
    def test_given_an_archived_customer_when_customers_and_invoices_read_then_both_keep_it_without_include_archived(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([_archived(OTHER_CUSTOMER)]))
        http_mocker.get(_invoices_request(CUSTOMER), page([_invoice("inv-1", CUSTOMER)]))
        http_mocker.get(_invoices_request(OTHER_CUSTOMER), page([_invoice("inv-2", OTHER_CUSTOMER)]))

        output = read_catalog(
            catalog_of(customers=SyncMode.full_refresh, invoices=SyncMode.full_refresh, invoice_line_items=SyncMode.full_refresh),
            config(include_archived_customers=False, max_concurrency=1),
        )

        assert [(record["id"], record.get("archived_at")) for record in records(output, "customers")] == [(CUSTOMER, None), (OTHER_CUSTOMER, ARCHIVED_AT)]
        assert [record["id"] for record in records(output, "invoices")] == ["inv-1", "inv-2"]
        assert _customer_ids(records(output, "invoice_line_items")) == [CUSTOMER, OTHER_CUSTOMER]
        assert not output.errors

    @HttpMocker()
    def test_given_a_customer_in_both_lists_when_read_then_it_is_read_once_in_active_then_archived_order_as_archived(self, http_mocker: HttpMocker = None):
        # Archived between the two listings: in both, read once, at its first place, its archived copy emitted.
        http_mocker.get(customers_request(), page([customer(THIRD_CUSTOMER, "Third"), customer()]))
        http_mocker.get(customers_request(only_archived=True), page([_archived(OTHER_CUSTOMER), _archived(CUSTOMER, "Example, Inc.")]))
        for customer_id in (THIRD_CUSTOMER, CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(_invoices_request(customer_id), page([_invoice(f"inv-{customer_id}", customer_id)]))

        output = read_catalog(catalog_of(customers=SyncMode.full_refresh, invoices=SyncMode.full_refresh), config(max_concurrency=1))

        assert [(record["id"], record.get("archived_at")) for record in records(output, "customers")] == [
            (THIRD_CUSTOMER, None),
            (CUSTOMER, ARCHIVED_AT),
            (OTHER_CUSTOMER, ARCHIVED_AT),
        ]
        assert _customer_ids(records(output, "invoices")) == [THIRD_CUSTOMER, CUSTOMER, OTHER_CUSTOMER]

    @HttpMocker()
    def test_given_a_per_customer_stream_without_a_cursor_added_later_then_it_reads_archived_customers_by_its_family(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([_archived(OTHER_CUSTOMER)]))
        settings = parse_config(config())
        budget = SyncBudget(settings.requests_per_second, LOGGER)
        context = SyncContext(settings, budget, Directory(settings, budget, LOGGER))
        later = Endpoint(name="customer_alerts", path="/v1/customer-alerts/list", method="POST", family=CustomerStream, primary_key="id", docs="")

        partitions = [partition["customer_id"] for partition in CustomerStream(later, context).partitions()]

        assert partitions == [CUSTOMER, OTHER_CUSTOMER]


class TestStreamsWithACursorSyncedAsFullRefreshReadArchivedCustomers:
    @HttpMocker()
    def test_given_include_archived_off_when_costs_synced_as_full_refresh_then_the_archived_customer_is_read(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()], [_archived(OTHER_CUSTOMER)])
        http_mocker.get(costs_request(CUSTOMER), page([cost_item(1)]))
        http_mocker.get(costs_request(OTHER_CUSTOMER), page([cost_item(2, cost=9.5)]))

        output = read_catalog(
            catalog_of(customer_costs=SyncMode.full_refresh, customer_cost_line_items=SyncMode.full_refresh),
            config(include_archived_customers=False, max_concurrency=1),
        )

        assert [(record["customer_id"], record["start_timestamp"]) for record in records(output, "customer_costs")] == [
            (CUSTOMER, "2024-03-01T00:00:00+00:00"),
            (OTHER_CUSTOMER, "2024-03-02T00:00:00+00:00"),
        ]
        assert [(record["customer_id"], record["cost"]) for record in records(output, "customer_cost_line_items")] == [(CUSTOMER, 123.45), (OTHER_CUSTOMER, 9.5)]
        assert not output.errors

    @HttpMocker()
    def test_given_include_archived_off_when_costs_synced_incrementally_then_the_archived_customer_is_not_read(self, http_mocker: HttpMocker = None):
        # Mocked as for the full refresh above: the mocker fails the test on any request not made, so
        # neither the archived list nor the archived customer's costs may be asked for.
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(costs_request(CUSTOMER), page([cost_item(1)]))

        output = read_catalog(catalog_of(customer_costs=SyncMode.incremental), config(include_archived_customers=False, max_concurrency=1))

        assert _customer_ids(records(output, "customer_costs")) == [CUSTOMER]
        assert not output.errors

    @HttpMocker()
    def test_given_window_size_none_when_usage_synced_then_the_archived_customer_is_read_as_the_stream_is_full_refresh_only(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()], [_archived(OTHER_CUSTOMER)])
        total = {**usage_item(1, value=42.0), "ending_before": "2024-03-16T00:00:00+00:00"}
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(metrics_request(customer_id), page([metric()]))
            http_mocker.post(usage_request(customer_id, window_size="NONE"), page([total]))

        output = read_catalog(
            catalog_of(usage_with_groups=SyncMode.full_refresh),
            config(window_size="NONE", include_archived_customers=False, max_concurrency=1),
        )

        assert [(record["customer_id"], record["value"]) for record in records(output, "usage_with_groups")] == [(CUSTOMER, 42.0), (OTHER_CUSTOMER, 42.0)]
        assert not output.errors


class TestIncrementalStreamsFollowIncludeArchivedCustomers:
    @HttpMocker()
    def test_given_include_archived_off_when_costs_read_then_archived_customers_are_not_even_listed(self, http_mocker: HttpMocker = None):
        # The mocker fails the sync on any request not set up here: the archived list is not asked for.
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(costs_request(), page([cost_item(1)]))

        output = read_catalog(catalog_of(customer_costs=SyncMode.incremental), config())

        assert _customer_ids(records(output, "customer_costs")) == [CUSTOMER]
        assert not output.errors

    @HttpMocker()
    def test_given_a_config_saved_with_include_archived_when_costs_and_usage_read_then_archived_customers_are_read(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([_archived(OTHER_CUSTOMER)]))
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(costs_request(customer_id), page([cost_item(1)]))
            http_mocker.get(metrics_request(customer_id), page([metric()]))
            http_mocker.post(usage_request(customer_id), page([usage_item(1)]))

        output = read_catalog(
            catalog_of(customer_costs=SyncMode.incremental, usage_with_groups=SyncMode.incremental),
            {**config(max_concurrency=1), "include_archived_customers": True},
        )

        assert _customer_ids(records(output, "customer_costs")) == [CUSTOMER, OTHER_CUSTOMER]
        assert _customer_ids(records(output, "usage_with_groups")) == [CUSTOMER, OTHER_CUSTOMER]


class TestArchivedMetrics:
    @HttpMocker()
    def test_given_an_archived_metric_when_read_then_it_is_listed_with_archived_at_and_its_usage_is_read(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([]))
        # metrics_request asks with include_archived=true: without it Metronome leaves archived metrics out.
        http_mocker.get(metrics_request(), page([metric(), {**metric(OTHER_METRIC, "Retired"), "archived_at": ARCHIVED_AT}]))
        http_mocker.post(usage_request(), page([usage_item(1)]))
        http_mocker.post(usage_request(metric_id=OTHER_METRIC), page([usage_item(1, value=7.0), usage_item(2, value=3.0)]))

        output = read_catalog(catalog_of(billable_metrics=SyncMode.full_refresh, usage_with_groups=SyncMode.incremental), config())

        assert [(record["id"], record.get("archived_at")) for record in records(output, "billable_metrics")] == [(METRIC, None), (OTHER_METRIC, ARCHIVED_AT)]
        retired = [record["value"] for record in records(output, "usage_with_groups") if record["billable_metric_id"] == OTHER_METRIC]
        assert retired == [7.0, 3.0]
