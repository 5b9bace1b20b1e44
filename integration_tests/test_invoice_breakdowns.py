"""invoice_breakdowns and invoice_breakdown_line_items end to end: read through the connector's
command line against the fake Metronome and compared with the ground truth, across two syncs with
late usage between them, in requests of at most 35 days, on an account without the endpoint."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Tuple

import pytest

from integration_tests.conftest import discover_streams, requests_to
from integration_tests.fake_metronome import CUSTOMERS, INVOICE_LINE_ITEMS, DatasetOptions, primary_key
from integration_tests.fake_metronome.ground_truth_breakdowns import (
    INVOICE_BREAKDOWN_LINE_ITEMS,
    INVOICE_BREAKDOWNS,
    expected_breakdown_cursors,
    expected_breakdown_line_items,
    expected_breakdowns,
)
from integration_tests.fake_metronome.timestamps import parse_timestamp
from integration_tests.record_checks import assert_cursors_match, assert_records_fit_schema, assert_records_match, changed_keys

SMALL = DatasetOptions(customers=3, metrics_per_customer=2, days_of_history=10, archived_share=0.34)
# 75 days up to the fake's "now" (2024-03-15 13:30): three requests per customer.
SINCE_JANUARY = {"start_date": "2024-01-01"}
BOTH = {INVOICE_BREAKDOWNS: "incremental", INVOICE_BREAKDOWN_LINE_ITEMS: "incremental"}
PATH_END = "/invoices/breakdowns"


def deduplicated(stream: str, *syncs: List[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    """What a destination deduplicating on the primary key holds after these syncs, in order."""
    table: Dict[Tuple[Any, ...], Mapping[str, Any]] = {}
    for records in syncs:
        table.update((primary_key(stream, record), record) for record in records)
    return list(table.values())


class TestFirstSync:
    def test_both_streams_equal_the_ground_truth_and_fit_their_schemas(self, start_fake, sync, tmp_path):
        fake = start_fake(SMALL)
        settings = {**SINCE_JANUARY, "include_archived_customers": True}

        run = sync(fake, settings, sync_modes=BOTH)

        schemas = discover_streams(fake, settings, tmp_path)
        for stream, expected in ((INVOICE_BREAKDOWNS, expected_breakdowns(fake.dataset, settings)), (INVOICE_BREAKDOWN_LINE_ITEMS, expected_breakdown_line_items(fake.dataset, settings))):
            assert run.records(stream), f"{stream}: the fake serves records, the sync emitted none"
            assert_records_match(stream, run.records(stream), expected)
            assert_records_fit_schema(stream, schemas[stream]["json_schema"], run.records(stream))
        assert {record["customer_id"] for record in run.records(INVOICE_BREAKDOWNS)} == {customer.id for customer in fake.dataset.customers}
        assert {record["status"] for record in run.records(INVOICE_BREAKDOWNS)} == {"DRAFT", "FINALIZED", "VOID"}
        assert_cursors_match(run.stream_states(), {stream: expected_breakdown_cursors(fake.dataset, settings) for stream in BOTH})

    def test_given_the_option_off_when_both_synced_as_full_refresh_then_archived_customers_are_read_too(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {**SINCE_JANUARY, "include_archived_customers": False}
        archived = {customer.id for customer in fake.dataset.customers if customer.archived}
        assert archived, "the dataset should have an archived customer"

        run = sync(fake, settings, sync_modes={stream: "full_refresh" for stream in BOTH})

        # A full refresh overwrites the table: leaving archived customers out would delete their rows.
        assert archived <= {record["customer_id"] for record in run.records(INVOICE_BREAKDOWNS)}
        assert_records_match(INVOICE_BREAKDOWNS, run.records(INVOICE_BREAKDOWNS), expected_breakdowns(fake.dataset, settings, full_refresh=True))
        assert_records_match(INVOICE_BREAKDOWN_LINE_ITEMS, run.records(INVOICE_BREAKDOWN_LINE_ITEMS), expected_breakdown_line_items(fake.dataset, settings, full_refresh=True))

    def test_each_customer_costs_one_request_per_35_days_and_both_streams_share_every_page(self, start_fake, sync):
        fake = start_fake(SMALL)

        sync(fake, SINCE_JANUARY, sync_modes=BOTH)

        asked = requests_to(fake, PATH_END)
        assert all(request.status == 200 for request in asked)
        ranges = Counter((request.path, request.param("starting_on"), request.param("ending_before"), request.param("next_page")) for request in asked)
        assert max(ranges.values()) == 1, "a page was requested twice"
        active = [customer for customer in fake.dataset.customers if not customer.archived]
        # 75 days: ceil(75 / 35) = 3 requests per customer, the pages of breakdowns fitting in one each (100 a page).
        assert len(asked) == 3 * len(active)
        for request in asked:
            span = parse_timestamp(request.param("ending_before")) - parse_timestamp(request.param("starting_on"))
            assert timedelta(days=1) <= span <= timedelta(days=35) and request.param("window_size") == "DAY"

    def test_line_items_summed_over_an_invoices_windows_are_its_line_items_on_the_invoice(self, start_fake, sync):
        fake = start_fake(SMALL)

        # Archived customers too, as the full-refresh invoices read them whatever the setting says.
        run = sync(fake, {**SINCE_JANUARY, "include_archived_customers": True}, sync_modes={INVOICE_BREAKDOWN_LINE_ITEMS: "incremental", INVOICE_LINE_ITEMS: "full_refresh"})

        sums: Dict[Tuple[str, str], Decimal] = {}
        for item in run.records(INVOICE_BREAKDOWN_LINE_ITEMS):
            key = (item["invoice_id"], item["line_item_id"])
            # Decimal of the emitted text: the sum is checked without binary rounding.
            sums[key] = sums.get(key, Decimal(0)) + Decimal(str(item["total"]))
        on_invoices = {(item["invoice_id"], item["line_item_id"]): Decimal(str(item["total"])) for item in run.records(INVOICE_LINE_ITEMS)}
        # Every invoice's period lies within the range read: each line item's windows add up to it exactly.
        assert sums == on_invoices

    def test_given_hourly_windows_then_one_request_per_customer_and_day_and_records_equal_the_ground_truth(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {"start_date": "2024-03-14", "breakdown_window_size": "HOUR"}

        run = sync(fake, settings, sync_modes=BOTH)

        assert_records_match(INVOICE_BREAKDOWNS, run.records(INVOICE_BREAKDOWNS), expected_breakdowns(fake.dataset, settings))
        assert_records_match(INVOICE_BREAKDOWN_LINE_ITEMS, run.records(INVOICE_BREAKDOWN_LINE_ITEMS), expected_breakdown_line_items(fake.dataset, settings))
        asked = requests_to(fake, PATH_END)
        active = [customer for customer in fake.dataset.customers if not customer.archived]
        assert len(asked) == 2 * len(active) and {request.param("window_size") for request in asked} == {"HOUR"}


class TestLateUsage:
    def test_given_late_usage_between_two_syncs_then_the_deduplicated_destination_ends_exact(self, start_fake, sync):
        fake = start_fake(SMALL)
        # The lookback reaches back to the start of the current billing period, whose draft is
        # finalized or voided in the meantime (each of its windows carries the invoice's status).
        settings = {**SINCE_JANUARY, "lookback_days": 14}
        first = sync(fake, settings, sync_modes=BOTH)
        saved = first.stream_states()
        fake.advance(days=1)
        fake.revision = 1

        second = sync(fake, settings, sync_modes=BOTH, state_messages=list(first.last_states().values()))

        for stream, expected in ((INVOICE_BREAKDOWNS, expected_breakdowns), (INVOICE_BREAKDOWN_LINE_ITEMS, expected_breakdown_line_items)):
            assert_records_match(stream, second.records(stream), expected(fake.dataset, settings, saved=saved[stream]))
            everything = expected(fake.dataset, settings)
            assert_records_match(stream, deduplicated(stream, first.records(stream), second.records(stream)), everything)
            # The late usage changed windows the first sync had already read.
            assert changed_keys(stream, first.records(stream), second.records(stream))
        # The late day's usage grew by the 10 late units per invoice, metric and group (a tiered metric's
        # late units land in whichever of its tiers they fall in).
        after, before = late_day_usage(second), late_day_usage(first)
        assert after and all(quantity == before[key] + 10 for key, quantity in after.items())
        # Only the lookback is read again: one request per customer.
        assert min(record["breakdown_start_timestamp"] for record in second.records(INVOICE_BREAKDOWNS)) == "2024-03-01T00:00:00+00:00"
        assert_cursors_match(second.stream_states(), {stream: expected_breakdown_cursors(fake.dataset, settings, saved=saved[stream]) for stream in BOTH})


def late_day_usage(run: Any) -> Dict[Tuple[Any, ...], float]:
    """The usage quantity of the late day's window, per invoice, metric and group (tiers summed)."""
    quantities: Dict[Tuple[str, str], float] = {}
    for item in run.records(INVOICE_BREAKDOWN_LINE_ITEMS):
        if item["breakdown_start_timestamp"] == "2024-03-13T00:00:00+00:00" and item["type"] == "usage":
            key = (item["invoice_id"], item["name"], item.get("group_key"), item.get("group_value"))
            quantities[key] = quantities.get(key, 0) + item["quantity"]
    return quantities


class TestAccountsWithoutBreakdowns:
    @pytest.mark.parametrize("status", [403, 404])
    def test_a_refused_endpoint_skips_both_streams_once_each_and_the_sync_goes_on(self, start_fake, sync, status: int):
        fake = start_fake(SMALL, disabled_endpoints={"invoice_breakdowns": status})

        run = sync(fake, SINCE_JANUARY, sync_modes={**BOTH, CUSTOMERS: "full_refresh", INVOICE_LINE_ITEMS: "full_refresh"})

        assert not run.records(INVOICE_BREAKDOWNS) and not run.records(INVOICE_BREAKDOWN_LINE_ITEMS)
        assert run.records(CUSTOMERS) and run.records(INVOICE_LINE_ITEMS)
        skipped = [message for message in run.log_messages("WARN") if message.startswith("Skipping the ")]
        assert sorted(message.split()[2] for message in skipped) == sorted(BOTH)
        assert not run.error_messages()
        # Each stream stopped at its first refusal rather than asking for every customer.
        assert len(requests_to(fake, PATH_END)) <= 2 * 4
