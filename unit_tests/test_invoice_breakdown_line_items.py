"""invoice_breakdown_line_items: each line item of each daily (or hourly) window of
GET /v1/customers/{customer_id}/invoices/breakdowns, from the pages the invoice_breakdowns stream
reads (test_invoice_breakdowns.py has the requests); a cursor per customer on
breakdown_end_timestamp, kept apart from invoice_breakdowns' own."""

import jsonschema
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    BREAKDOWN_INVOICE,
    CUSTOMER,
    breakdown,
    breakdown_line_item,
    breakdowns_request,
    catalog_of,
    config,
    invoices_request,
    last_state,
    page,
    read_catalog,
    read_stream,
    records,
    schema,
    state_of,
)

BREAKDOWNS = "invoice_breakdowns"
LINE_ITEMS = "invoice_breakdown_line_items"
TWO_LINES = [breakdown_line_item("CPU hours", 250.0, 10.0, group_key="region", group_value="US-East"), breakdown_line_item("Platform fee", 5000.0, 1.0, type="scheduled")]


class TestIncremental:
    @HttpMocker()
    def test_given_no_state_when_read_alone_then_each_line_item_names_its_window_and_the_cursor_moves_to_the_start_of_today(self, http_mocker: HttpMocker = None):
        http_mocker.get(breakdowns_request("2024-03-01T00:00:00+00:00"), page([breakdown(1, line_items=TWO_LINES)]))

        output = read_stream(LINE_ITEMS, config(customer_ids=[CUSTOMER]))

        assert [(item["name"], item["total"], item["invoice_id"], item["breakdown_start_timestamp"]) for item in records(output)] == [
            ("CPU hours", 250.0, BREAKDOWN_INVOICE, "2024-03-01T00:00:00+00:00"),
            ("Platform fee", 5000.0, BREAKDOWN_INVOICE, "2024-03-01T00:00:00+00:00"),
        ]
        assert last_state(output) == {"states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"breakdown_end_timestamp": "2024-03-15T00:00:00+00:00"}}]}

    @HttpMocker()
    def test_given_a_saved_cursor_when_read_then_the_lookback_is_read_again_and_the_cursor_moves_to_the_start_of_today(self, http_mocker: HttpMocker = None):
        request = breakdowns_request("2024-03-03T00:00:00+00:00")
        http_mocker.get(request, page([breakdown(14, line_items=TWO_LINES)]))
        saved = [{"partition": {"customer_id": CUSTOMER}, "cursor": {"breakdown_end_timestamp": "2024-03-10T00:00:00+00:00"}}]

        output = read_stream(LINE_ITEMS, config(customer_ids=[CUSTOMER]), state_of(LINE_ITEMS, saved))

        http_mocker.assert_number_of_calls(request, 1)
        assert {item["breakdown_start_timestamp"] for item in records(output)} == {"2024-03-14T00:00:00+00:00"}
        assert last_state(output) == {"states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"breakdown_end_timestamp": "2024-03-15T00:00:00+00:00"}}]}


class TestFullRefresh:
    @HttpMocker()
    def test_given_a_saved_cursor_when_full_refresh_then_every_window_from_start_date_is_read_and_the_saved_cursor_is_left_as_it_was(self, http_mocker: HttpMocker = None):
        http_mocker.get(breakdowns_request("2024-03-01T00:00:00+00:00"), page([breakdown(1, line_items=TWO_LINES), breakdown(2, line_items=TWO_LINES[:1])]))
        saved = [{"partition": {"customer_id": CUSTOMER}, "cursor": {"breakdown_end_timestamp": "2024-03-10T00:00:00+00:00"}}]

        output = read_stream(LINE_ITEMS, config(customer_ids=[CUSTOMER]), state_of(LINE_ITEMS, saved), sync_mode=SyncMode.full_refresh)

        assert [item["breakdown_start_timestamp"][:10] for item in records(output)] == ["2024-03-01", "2024-03-01", "2024-03-02"]
        assert last_state(output) == {"states": saved}, "a full refresh moves no cursor"


class TestSharedPagesWithInvoiceBreakdowns:
    @HttpMocker()
    def test_given_both_streams_when_read_then_each_page_is_requested_once_and_line_items_add_up_to_each_window(self, http_mocker: HttpMocker = None):
        lines = [
            breakdown_line_item("CPU hours", 250.0, 10.0, group_key="region", group_value="US-East"),
            breakdown_line_item("CPU hours", 0.25, 1.0),
            breakdown_line_item("Platform fee", 5000.0, 1.0, type="scheduled"),
        ]
        request = breakdowns_request("2024-03-01T00:00:00+00:00")
        http_mocker.get(request, page([breakdown(1, line_items=lines), breakdown(2, line_items=lines[:2])]))

        output = read_catalog(catalog_of(invoice_breakdowns=SyncMode.incremental, invoice_breakdown_line_items=SyncMode.incremental), config(customer_ids=[CUSTOMER]))

        http_mocker.assert_number_of_calls(request, 1)
        windows = records(output, BREAKDOWNS)
        items = records(output, LINE_ITEMS)
        assert len(items) == 5
        for window in windows:
            in_window = [item for item in items if item["breakdown_start_timestamp"] == window["breakdown_start_timestamp"]]
            assert sum(item["total"] for item in in_window) == window["total"]
            assert {(item["invoice_id"], item["customer_id"], item["breakdown_end_timestamp"]) for item in in_window} == {(BREAKDOWN_INVOICE, CUSTOMER, window["breakdown_end_timestamp"])}
        keys = [(item["invoice_id"], item["breakdown_start_timestamp"], item["line_item_id"]) for item in items]
        assert len(set(keys)) == len(keys)
        for item in items:
            jsonschema.validate(item, schema(LINE_ITEMS))


class TestLineItemIds:
    @HttpMocker()
    def test_a_windows_line_item_has_the_line_item_id_of_its_line_on_the_invoice(self, http_mocker: HttpMocker = None):
        lines = [breakdown_line_item("CPU hours", 250.0, 10.0, group_key="region", group_value="US-East"), breakdown_line_item("Seats", 1000.0, 1.0, type="subscription")]
        http_mocker.get(breakdowns_request("2024-03-01T00:00:00+00:00"), page([breakdown(1, line_items=lines)]))
        invoice = {key: value for key, value in breakdown(1, line_items=[{**line, "total": line["total"] * 31} for line in lines]).items() if not key.startswith("breakdown_")}
        http_mocker.get(invoices_request(CUSTOMER), page([invoice]))

        output = read_catalog(catalog_of(invoice_breakdown_line_items=SyncMode.incremental, invoice_line_items=SyncMode.full_refresh), config(customer_ids=[CUSTOMER]))

        window_ids = [item["line_item_id"] for item in records(output, LINE_ITEMS)]
        invoice_ids = [item["line_item_id"] for item in records(output, "invoice_line_items")]
        assert window_ids == invoice_ids and len(set(window_ids)) == 2
