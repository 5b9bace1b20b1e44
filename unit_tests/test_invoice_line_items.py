"""invoice_line_items: each line item of each invoice, from the pages of
GET /v1/customers/{customer_id}/invoices that the invoices stream reads; full refresh only. With both
streams in a sync, each page is requested once. How a line item gets its line_item_id:
test_records.py."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    CUSTOMER,
    catalog,
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
    def test_given_an_invoice_when_read_then_each_line_item_is_a_record_naming_its_invoice_and_period(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        # Full refreshes read archived customers too (none here).
        http_mocker.get(customers_request(only_archived=True), page([]))
        http_mocker.get(invoices_request(CUSTOMER), page([invoice("i1", "FINALIZED", invoice_line_item("CPU hours", 1250.25), invoice_line_item("Storage", 0.75))]))

        output = read_stream("invoice_line_items", config(), sync_mode=SyncMode.full_refresh)

        found = records(output)
        assert [(record["name"], record["total"], record["invoice_id"], record["customer_id"]) for record in found] == [
            ("CPU hours", 1250.25, "i1", CUSTOMER),
            ("Storage", 0.75, "i1", CUSTOMER),
        ]
        assert {(record["invoice_start_timestamp"], record["invoice_end_timestamp"]) for record in found} == {("2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00")}
        assert len({record["line_item_id"] for record in found}) == 2
        assert last_state(output) == {"complete": True}


class TestSharedPagesWithInvoices:
    @HttpMocker()
    def test_given_both_streams_in_one_sync_when_read_then_each_invoices_page_is_requested_once(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        # Full refreshes read archived customers too (none here).
        http_mocker.get(customers_request(only_archived=True), page([]))
        first, second = invoices_request(CUSTOMER), invoices_request(CUSTOMER, next_page="p2")
        http_mocker.get(first, page([invoice("i1", "FINALIZED", invoice_line_item("CPU hours", 10))], next_page="p2"))
        http_mocker.get(second, page([invoice("i2", "DRAFT", invoice_line_item("Seats", 20))]))

        output = read_catalog(catalog("invoices", "invoice_line_items", sync_mode=SyncMode.full_refresh), config())

        assert [(message.record.stream, message.record.data.get("invoice_id") or message.record.data["id"]) for message in output.records] == [
            ("invoices", "i1"),
            ("invoices", "i2"),
            ("invoice_line_items", "i1"),
            ("invoice_line_items", "i2"),
        ]
        http_mocker.assert_number_of_calls(first, 1)
        http_mocker.assert_number_of_calls(second, 1)
