"""invoices and invoice_line_items: two views of the same pages of
GET /v1/customers/{customer_id}/invoices (sort=date_asc, every status), one partition per customer,
full refresh; with both in a sync, each page is requested once."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from source_metronome import SourceMetronome
from unit_tests.builders import BASE, CUSTOMER, OTHER_CUSTOMER, catalog, config, customer, customers_request, page


def _invoices_request(customer_id: str, next_page=None) -> HttpRequest:
    params = {"sort": "date_asc", "limit": "100", **({"next_page": next_page} if next_page else {})}
    return HttpRequest(f"{BASE}/customers/{customer_id}/invoices", query_params=params)


def _line_item(name: str, total: float) -> dict:
    return {"type": "usage", "name": name, "credit_type": {"id": "usd", "name": "USD (cents)"}, "total": total, "quantity": 3}


def _invoice(invoice_id: str, status: str, *line_items: dict) -> dict:
    return {
        "id": invoice_id,
        "status": status,
        "start_timestamp": "2024-02-01T00:00:00+00:00",
        "end_timestamp": "2024-03-01T00:00:00+00:00",
        "total": sum(item["total"] for item in line_items),
        "line_items": list(line_items),
    }


class TestInvoicesFullRefresh:
    @HttpMocker()
    def test_given_two_customers_and_two_pages_when_read_then_every_invoice_is_emitted_with_its_customer(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Other")]))
        # Full refreshes read archived customers too (none here).
        http_mocker.get(customers_request(only_archived=True), page([]))
        http_mocker.get(_invoices_request(CUSTOMER), page([_invoice("i1", "FINALIZED", _line_item("CPU hours", 1250.25))], next_page="p2"))
        http_mocker.get(_invoices_request(CUSTOMER, next_page="p2"), page([_invoice("i2", "VOID")]))
        http_mocker.get(_invoices_request(OTHER_CUSTOMER), page([_invoice("i3", "DRAFT")]))

        output = read(SourceMetronome(), config(max_concurrency=1), catalog("invoices", sync_mode=SyncMode.full_refresh))

        assert [(message.record.data["id"], message.record.data["customer_id"], message.record.data["status"]) for message in output.records] == [
            ("i1", CUSTOMER, "FINALIZED"),
            ("i2", CUSTOMER, "VOID"),
            ("i3", OTHER_CUSTOMER, "DRAFT"),
        ]
        # Amounts as served, line items included.
        assert output.records[0].record.data["line_items"] == [_line_item("CPU hours", 1250.25)]
        assert output.records[0].record.data["total"] == 1250.25
        assert not output.errors


class TestInvoiceLineItemsFullRefresh:
    @HttpMocker()
    def test_given_an_invoice_when_read_then_each_line_item_is_a_record_naming_its_invoice_and_period(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        # Full refreshes read archived customers too (none here).
        http_mocker.get(customers_request(only_archived=True), page([]))
        http_mocker.get(_invoices_request(CUSTOMER), page([_invoice("i1", "FINALIZED", _line_item("CPU hours", 1250.25), _line_item("Storage", 0.75))]))

        output = read(SourceMetronome(), config(), catalog("invoice_line_items", sync_mode=SyncMode.full_refresh))

        records = [message.record.data for message in output.records]
        assert [(record["name"], record["total"], record["invoice_id"], record["customer_id"]) for record in records] == [
            ("CPU hours", 1250.25, "i1", CUSTOMER),
            ("Storage", 0.75, "i1", CUSTOMER),
        ]
        assert {(record["invoice_start_timestamp"], record["invoice_end_timestamp"]) for record in records} == {("2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00")}
        assert len({record["line_item_id"] for record in records}) == 2


class TestSharedPages:
    @HttpMocker()
    def test_given_both_streams_in_one_sync_when_read_then_each_invoices_page_is_requested_once(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        # Full refreshes read archived customers too (none here).
        http_mocker.get(customers_request(only_archived=True), page([]))
        first, second = _invoices_request(CUSTOMER), _invoices_request(CUSTOMER, next_page="p2")
        http_mocker.get(first, page([_invoice("i1", "FINALIZED", _line_item("CPU hours", 10))], next_page="p2"))
        http_mocker.get(second, page([_invoice("i2", "DRAFT", _line_item("Seats", 20))]))

        output = read(SourceMetronome(), config(), catalog("invoices", "invoice_line_items", sync_mode=SyncMode.full_refresh))

        assert [(message.record.stream, message.record.data.get("invoice_id") or message.record.data["id"]) for message in output.records] == [
            ("invoices", "i1"),
            ("invoices", "i2"),
            ("invoice_line_items", "i1"),
            ("invoice_line_items", "i2"),
        ]
        http_mocker.assert_number_of_calls(first, 1)
        http_mocker.assert_number_of_calls(second, 1)
