"""customers: the customer list the sync reads to find its partitions, emitted as it was listed.
GET /v1/customers, active customers and then the archived ones (only_archived=true), read whole every
sync; requested once per sync however many streams need it; a customer archived between the two
listings is read once, as archived."""

import logging
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome.config import parse_config
from source_metronome.directory import Directory
from source_metronome.pacing import SyncBudget
from source_metronome.streams.endpoint import Endpoint
from source_metronome.streams.partitioned import CustomerStream
from source_metronome.sync_context import SyncContext
from unit_tests.builders import (
    ARCHIVED_AT,
    CUSTOMER,
    METRIC,
    OTHER_CUSTOMER,
    OTHER_METRIC,
    archived_customer,
    catalog,
    catalog_of,
    config,
    customer,
    customers_request,
    invoice,
    invoices_request,
    metric,
    metrics_request,
    page,
    read_catalog,
    read_stream,
    records,
    usage_item,
    usage_request,
)

THIRD_CUSTOMER = "5f0c5c33-4b59-4f55-9f3e-6c2f41a0c7d1"
LOGGER = logging.getLogger("airbyte")



class TestFullRefresh:
    @HttpMocker()
    def test_given_two_pages_when_read_then_both_are_emitted_in_one_sync(self, http_mocker: HttpMocker = None):
        # The CDK would read one page per sync ("resumable full refresh"): streams/base.py opts out.
        http_mocker.get(customers_request(), page([customer()], next_page="p2"))
        http_mocker.get(customers_request(next_page="p2"), page([customer(OTHER_CUSTOMER, "Other")]))
        http_mocker.get(customers_request(only_archived=True), page([]))

        output = read_stream("customers", config(), sync_mode=SyncMode.full_refresh)

        assert [message.record.data["id"] for message in output.records] == [CUSTOMER, OTHER_CUSTOMER]
        assert not output.errors

    @HttpMocker()
    def test_given_configured_customers_when_read_then_they_are_listed_by_id_active_and_archived(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(customer_ids=[CUSTOMER]), page([]))
        http_mocker.get(customers_request(only_archived=True, customer_ids=[CUSTOMER]), page([{**customer(), "archived_at": "2024-02-01T00:00:00+00:00"}]))

        output = read_catalog(catalog("customers", sync_mode=SyncMode.full_refresh), config(customer_ids=[CUSTOMER]))

        assert [record["archived_at"] for record in records(output, "customers")] == ["2024-02-01T00:00:00+00:00"]


class TestArchivedCustomers:
    """The list is read whole, archived customers included, whatever include_archived_customers says:
    a full refresh overwrites the table."""

    @HttpMocker()
    def test_given_include_archived_off_when_read_then_archived_customers_are_listed_with_archived_at(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([archived_customer(OTHER_CUSTOMER)]))

        output = read_stream("customers", config(include_archived_customers=False), sync_mode=SyncMode.full_refresh)

        assert [(record["id"], record.get("archived_at")) for record in records(output, "customers")] == [(CUSTOMER, None), (OTHER_CUSTOMER, ARCHIVED_AT)]
        assert not output.errors

    @HttpMocker()
    def test_given_a_customer_in_both_lists_when_read_then_it_is_read_once_in_active_then_archived_order_as_archived(self, http_mocker: HttpMocker = None):
        # Archived between the two listings: in both, read once, at its first place, its archived copy emitted.
        http_mocker.get(customers_request(), page([customer(THIRD_CUSTOMER, "Third"), customer()]))
        http_mocker.get(customers_request(only_archived=True), page([archived_customer(OTHER_CUSTOMER), archived_customer(CUSTOMER, "Example, Inc.")]))
        for customer_id in (THIRD_CUSTOMER, CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(invoices_request(customer_id), page([invoice(f"inv-{customer_id}")]))

        output = read_catalog(catalog_of(customers=SyncMode.full_refresh, invoices=SyncMode.full_refresh), config(max_concurrency=1))

        assert [(record["id"], record.get("archived_at")) for record in records(output, "customers")] == [
            (THIRD_CUSTOMER, None),
            (CUSTOMER, ARCHIVED_AT),
            (OTHER_CUSTOMER, ARCHIVED_AT),
        ]
        assert [record["customer_id"] for record in records(output, "invoices")] == [THIRD_CUSTOMER, CUSTOMER, OTHER_CUSTOMER]

    @HttpMocker()
    def test_given_a_per_customer_stream_without_a_cursor_added_later_then_it_reads_archived_customers_by_its_family(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([archived_customer(OTHER_CUSTOMER)]))
        settings = parse_config(config())
        budget = SyncBudget(settings.requests_per_second, LOGGER)
        context = SyncContext(settings, budget, Directory(settings, budget, LOGGER))
        later = Endpoint(name="customer_alerts", path="/v1/customer-alerts/list", method="POST", family=CustomerStream, primary_key="id", docs="")

        partitions = [partition["customer_id"] for partition in CustomerStream(later, context).partitions()]

        assert partitions == [CUSTOMER, OTHER_CUSTOMER]


class TestListedOncePerSync:
    @HttpMocker()
    def test_given_usage_customers_and_metrics_streams_when_read_then_each_list_is_requested_once(self, http_mocker: HttpMocker = None):
        customers, metrics = customers_request(), metrics_request()
        http_mocker.get(customers, page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([]))
        http_mocker.get(metrics, page([metric(), metric(OTHER_METRIC, "Storage")]))
        http_mocker.post(usage_request(), page([usage_item(1)]))
        http_mocker.post(usage_request(metric_id=OTHER_METRIC), page([usage_item(1)]))

        output = read_catalog(
            catalog_of(usage_with_groups=SyncMode.incremental, customers=SyncMode.full_refresh, billable_metrics=SyncMode.full_refresh), config()
        )

        http_mocker.assert_number_of_calls(customers, 1)
        http_mocker.assert_number_of_calls(metrics, 1)
        assert [record["id"] for record in records(output, "customers")] == [CUSTOMER]
        assert [(record["customer_id"], record["id"], record["name"]) for record in records(output, "billable_metrics")] == [
            (CUSTOMER, METRIC, "CPU hours"),
            (CUSTOMER, OTHER_METRIC, "Storage"),
        ]
        assert len(records(output, "usage_with_groups")) == 2
