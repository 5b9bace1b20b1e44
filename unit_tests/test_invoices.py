"""invoices: GET /v1/customers/{customer_id}/invoices (sort=date_asc, every status), one partition
per customer, archived customers included, full refresh only (invoices change until finalized and may
be voided later). invoice_line_items are another view of the same pages (test_invoice_line_items.py)."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    ARCHIVED_AT,
    CUSTOMER,
    OTHER_CUSTOMER,
    archived_customer,
    catalog_of,
    config,
    customer,
    customers_request,
    invoice,
    invoice_line_item,
    invoices_request,
    last_state,
    page,
    read_catalog,
    read_stream,
    records,
)



class TestFullRefresh:
    @HttpMocker()
    def test_given_two_customers_and_two_pages_when_read_then_every_invoice_is_emitted_with_its_customer(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Other")]))
        # Full refreshes read archived customers too (none here).
        http_mocker.get(customers_request(only_archived=True), page([]))
        http_mocker.get(invoices_request(CUSTOMER), page([invoice("i1", "FINALIZED", invoice_line_item("CPU hours", 1250.25))], next_page="p2"))
        http_mocker.get(invoices_request(CUSTOMER, next_page="p2"), page([invoice("i2", "VOID")]))
        http_mocker.get(invoices_request(OTHER_CUSTOMER), page([invoice("i3", "DRAFT")]))

        output = read_stream("invoices", config(max_concurrency=1), sync_mode=SyncMode.full_refresh)

        assert [(message.record.data["id"], message.record.data["customer_id"], message.record.data["status"]) for message in output.records] == [
            ("i1", CUSTOMER, "FINALIZED"),
            ("i2", CUSTOMER, "VOID"),
            ("i3", OTHER_CUSTOMER, "DRAFT"),
        ]
        # Amounts as served, line items included.
        assert output.records[0].record.data["line_items"] == [invoice_line_item("CPU hours", 1250.25)]
        assert output.records[0].record.data["total"] == 1250.25
        # The last STATE says the refresh is done: a retried attempt of this sync reads nothing again.
        assert last_state(output) == {"complete": True}
        assert not output.errors


class TestArchivedCustomers:
    @HttpMocker()
    def test_given_an_archived_customer_and_include_archived_off_when_invoices_and_line_items_read_then_both_keep_it(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([archived_customer(OTHER_CUSTOMER)]))
        http_mocker.get(invoices_request(CUSTOMER), page([invoice("inv-1", "FINALIZED", invoice_line_item("CPU hours", 100.0))]))
        http_mocker.get(invoices_request(OTHER_CUSTOMER), page([invoice("inv-2", "FINALIZED", invoice_line_item("CPU hours", 100.0))]))

        output = read_catalog(
            catalog_of(customers=SyncMode.full_refresh, invoices=SyncMode.full_refresh, invoice_line_items=SyncMode.full_refresh),
            config(include_archived_customers=False, max_concurrency=1),
        )

        assert [(record["id"], record.get("archived_at")) for record in records(output, "customers")] == [
            (CUSTOMER, None),
            (OTHER_CUSTOMER, ARCHIVED_AT),
        ]
        assert [record["id"] for record in records(output, "invoices")] == ["inv-1", "inv-2"]
        assert [record["customer_id"] for record in records(output, "invoice_line_items")] == [CUSTOMER, OTHER_CUSTOMER]
        assert not output.errors
