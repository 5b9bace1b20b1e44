"""invoice_breakdowns: one partition per customer, GET /v1/customers/{id}/invoices/breakdowns asked
in ranges of at most 35 days (DAY) or 24 hours (HOUR), a cursor per customer on
breakdown_end_timestamp. invoice_breakdown_line_items are another view of the same pages
(test_invoice_breakdown_line_items.py)."""

import jsonschema
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    CUSTOMER,
    MARCH_16,
    OTHER_CUSTOMER,
    breakdown,
    breakdowns_request,
    catalog_of,
    config,
    customer,
    customers_request,
    discovered,
    error,
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


class TestRequests:
    @HttpMocker()
    def test_given_75_days_of_range_when_read_then_three_requests_of_at_most_35_days_follow_each_other(self, http_mocker: HttpMocker = None):
        pieces = [
            breakdowns_request("2024-01-01T00:00:00+00:00", "2024-02-05T00:00:00+00:00"),
            breakdowns_request("2024-02-05T00:00:00+00:00", "2024-03-11T00:00:00+00:00"),
            breakdowns_request("2024-03-11T00:00:00+00:00", MARCH_16),
        ]
        for number, request in enumerate(pieces):
            http_mocker.get(request, page([breakdown(number + 1, month=number + 1)]))

        output = read_stream(BREAKDOWNS, config(start_date="2024-01-01", customer_ids=[CUSTOMER]))

        for request in pieces:
            http_mocker.assert_number_of_calls(request, 1)
        assert [record["breakdown_start_timestamp"][:10] for record in records(output)] == ["2024-01-01", "2024-02-02", "2024-03-03"]
        # The cursor moves once, after the last piece: to the start of today, which is read again next time.
        assert last_state(output) == {"states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"breakdown_end_timestamp": "2024-03-15T00:00:00+00:00"}}]}

    @HttpMocker()
    def test_given_35_days_or_less_when_read_then_one_request_per_customer(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Other")]))
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(breakdowns_request("2024-02-10T00:00:00+00:00", customer_id=customer_id), page([breakdown(1)]))

        output = read_stream(BREAKDOWNS, config(start_date="2024-02-10"))

        assert sorted(record["customer_id"] for record in records(output)) == sorted([CUSTOMER, OTHER_CUSTOMER])

    @HttpMocker()
    def test_given_hourly_windows_when_read_then_one_request_per_day_with_window_size_hour(self, http_mocker: HttpMocker = None):
        days = ["2024-03-13T00:00:00+00:00", "2024-03-14T00:00:00+00:00", "2024-03-15T00:00:00+00:00", MARCH_16]
        requests = [breakdowns_request(start, end, window_size="HOUR") for start, end in zip(days, days[1:])]
        for request in requests:
            http_mocker.get(request, page([]))

        output = read_stream(BREAKDOWNS, config(start_date="2024-03-13", customer_ids=[CUSTOMER], breakdown_window_size="HOUR"))

        for request in requests:
            http_mocker.assert_number_of_calls(request, 1)
        assert not output.errors

    @HttpMocker()
    def test_given_several_pages_when_read_then_the_range_stays_in_the_query_with_next_page(self, http_mocker: HttpMocker = None):
        http_mocker.get(breakdowns_request("2024-03-01T00:00:00+00:00", limit=1), page([breakdown(1)], next_page="p2"))
        http_mocker.get(breakdowns_request("2024-03-01T00:00:00+00:00", limit=1, next_page="p2"), page([breakdown(2)]))

        output = read_stream(BREAKDOWNS, config(customer_ids=[CUSTOMER], page_size=1))

        assert [record["breakdown_start_timestamp"] for record in records(output)] == ["2024-03-01T00:00:00+00:00", "2024-03-02T00:00:00+00:00"]

    @HttpMocker()
    def test_given_archived_customers_included_when_read_then_their_breakdowns_are_read_too(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([customer(OTHER_CUSTOMER, "Churned")]))
        for customer_id in (CUSTOMER, OTHER_CUSTOMER):
            http_mocker.get(breakdowns_request("2024-03-01T00:00:00+00:00", customer_id=customer_id), page([breakdown(1)]))

        output = read_stream(BREAKDOWNS, config(include_archived_customers=True))

        assert sorted(record["customer_id"] for record in records(output)) == sorted([CUSTOMER, OTHER_CUSTOMER])


class TestRecordsAndKeys:
    @HttpMocker()
    def test_when_discovering_then_keys_and_cursor_are_declared_and_required(self, http_mocker: HttpMocker = None):
        streams = discovered(config())

        assert streams[BREAKDOWNS].source_defined_primary_key == [["id"], ["breakdown_start_timestamp"]]
        assert streams[LINE_ITEMS].source_defined_primary_key == [["invoice_id"], ["breakdown_start_timestamp"], ["line_item_id"]]
        for name in (BREAKDOWNS, LINE_ITEMS):
            assert streams[name].default_cursor_field == ["breakdown_end_timestamp"]
            assert set(streams[name].supported_sync_modes) == {SyncMode.full_refresh, SyncMode.incremental}
            assert {key for [key] in streams[name].source_defined_primary_key} <= set(streams[name].json_schema["required"])

    @HttpMocker()
    def test_given_z_timestamps_when_read_then_windows_are_keyed_in_one_canonical_form_and_fit_the_schema(self, http_mocker: HttpMocker = None):
        http_mocker.get(breakdowns_request("2024-03-01T00:00:00+00:00"), page([breakdown(1, form=".000Z")]))

        [record] = records(read_stream(BREAKDOWNS, config(customer_ids=[CUSTOMER])))

        assert (record["breakdown_start_timestamp"], record["breakdown_end_timestamp"]) == ("2024-03-01T00:00:00+00:00", "2024-03-02T00:00:00+00:00")
        assert record["customer_id"] == CUSTOMER and record["total"] == 250.0
        jsonschema.validate(record, schema(BREAKDOWNS))


class TestIncremental:
    @HttpMocker()
    def test_given_a_saved_cursor_when_read_then_lookback_is_reread_in_one_request_and_cursor_moves_to_the_start_of_today(self, http_mocker: HttpMocker = None):
        request = breakdowns_request("2024-03-03T00:00:00+00:00")
        http_mocker.get(request, page([breakdown(14)]))
        saved = [{"partition": {"customer_id": CUSTOMER}, "cursor": {"breakdown_end_timestamp": "2024-03-10T00:00:00+00:00"}}]

        output = read_stream(BREAKDOWNS, config(customer_ids=[CUSTOMER]), state_of(BREAKDOWNS, saved))

        http_mocker.assert_number_of_calls(request, 1)
        assert last_state(output) == {"states": [{"partition": {"customer_id": CUSTOMER}, "cursor": {"breakdown_end_timestamp": "2024-03-15T00:00:00+00:00"}}]}

    @HttpMocker()
    def test_given_a_later_piece_refused_when_read_then_the_partition_is_skipped_and_its_cursor_stays(self, http_mocker: HttpMocker = None):
        http_mocker.get(breakdowns_request("2024-01-01T00:00:00+00:00", "2024-02-05T00:00:00+00:00"), page([breakdown(1, month=1)]))
        http_mocker.get(breakdowns_request("2024-02-05T00:00:00+00:00", "2024-03-11T00:00:00+00:00"), error(400, "Something about this customer"))
        saved = [{"partition": {"customer_id": CUSTOMER}, "cursor": {"breakdown_end_timestamp": "2024-01-08T00:00:00+00:00"}}]

        output = read_stream(BREAKDOWNS, config(start_date="2024-01-01", customer_ids=[CUSTOMER]), state_of(BREAKDOWNS, saved))

        assert last_state(output) == {"states": saved}
        assert any("skipping customer_id" in message.log.message for message in output.logs)


class TestFullRefresh:
    @HttpMocker()
    def test_given_a_saved_cursor_when_full_refresh_then_every_window_from_start_date_is_read_and_the_saved_cursor_is_left_as_it_was(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        # A full refresh reads archived customers too (none here).
        http_mocker.get(customers_request(only_archived=True), page([]))
        http_mocker.get(breakdowns_request("2024-03-01T00:00:00+00:00"), page([breakdown(1), breakdown(2)]))
        saved = [{"partition": {"customer_id": CUSTOMER}, "cursor": {"breakdown_end_timestamp": "2024-03-10T00:00:00+00:00"}}]

        output = read_stream(BREAKDOWNS, config(), state_of(BREAKDOWNS, saved), sync_mode=SyncMode.full_refresh)

        assert [(record["customer_id"], record["breakdown_start_timestamp"]) for record in records(output)] == [
            (CUSTOMER, "2024-03-01T00:00:00+00:00"),
            (CUSTOMER, "2024-03-02T00:00:00+00:00"),
        ]
        assert last_state(output) == {"states": saved}, "a full refresh moves no cursor"
        assert not output.errors


class TestFeatureOff:
    @HttpMocker()
    def test_given_the_endpoint_refused_when_read_then_the_stream_is_skipped_with_one_warning_and_the_sync_goes_on(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        # The customers stream lists archived customers too.
        http_mocker.get(customers_request(only_archived=True), page([]))
        http_mocker.get(breakdowns_request("2024-03-01T00:00:00+00:00"), error(403, "This feature is not enabled for your account"))

        output = read_catalog(catalog_of(invoice_breakdowns=SyncMode.incremental, customers=SyncMode.full_refresh), config())

        assert not records(output, BREAKDOWNS) and len(records(output, "customers")) == 1
        warnings = [message.log.message for message in output.logs if message.log.level.name == "WARN" and BREAKDOWNS in message.log.message]
        assert len(warnings) == 1 and warnings[0].startswith("Skipping the invoice_breakdowns stream")
        assert not output.errors
