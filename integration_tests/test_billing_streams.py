"""The finance, catalog and audit streams end to end: each read through the connector's command
line against the fake Metronome and compared with the ground truth."""

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Dict

import pytest

from integration_tests.conftest import discover_streams, requests_to
from integration_tests.fake_metronome import (
    AUDIT_LOGS,
    BILLING_STREAMS,
    CONTRACTS,
    CUSTOMERS,
    INVOICE_LINE_ITEMS,
    INVOICES,
    PACKAGES,
    PRODUCTS,
    DatasetOptions,
    expected_audit_logs,
    expected_billing_records,
)
from integration_tests.record_checks import assert_records_match, assert_records_within

SMALL = DatasetOptions(customers=3, metrics_per_customer=2, days_of_history=10)
SETTINGS = {"start_date": "2024-02-01"}
ALL_BILLING = {stream: "incremental" if stream == AUDIT_LOGS else "full_refresh" for stream in BILLING_STREAMS}
INVOICES_PATH_END = "/invoices"


class TestDiscover:
    def test_each_stream_declares_its_primary_key_and_sync_modes(self, start_fake, tmp_path: Path):
        fake = start_fake(SMALL)

        streams = discover_streams(fake, SETTINGS, tmp_path)

        assert set(BILLING_STREAMS) <= set(streams)
        assert streams[INVOICE_LINE_ITEMS]["source_defined_primary_key"] == [["invoice_id"], ["line_item_id"]]
        assert streams[AUDIT_LOGS]["supported_sync_modes"] == ["full_refresh", "incremental"]
        assert streams[AUDIT_LOGS]["default_cursor_field"] == ["timestamp"]
        for name in set(BILLING_STREAMS) - {AUDIT_LOGS, INVOICE_LINE_ITEMS}:
            assert streams[name]["supported_sync_modes"] == ["full_refresh"], name
            assert streams[name]["source_defined_primary_key"] == [["id"]], name


class TestFullSync:
    def test_every_stream_equals_the_ground_truth(self, start_fake, sync):
        fake = start_fake(SMALL)

        run = sync(fake, SETTINGS, sync_modes=ALL_BILLING)

        expected = expected_billing_records(fake.dataset, SETTINGS)
        for stream in BILLING_STREAMS:
            assert run.records(stream), f"{stream}: the fake serves records, the sync emitted none"
            assert_records_match(stream, run.records(stream), expected[stream])

    def test_each_invoice_total_is_the_sum_of_its_line_items_as_served(self, start_fake, sync):
        fake = start_fake(SMALL)

        run = sync(fake, SETTINGS, sync_modes={INVOICES: "full_refresh", INVOICE_LINE_ITEMS: "full_refresh"})

        sums: Dict[str, Decimal] = {}
        for line_item in run.records(INVOICE_LINE_ITEMS):
            # Decimal of the served text: the sum is checked without binary rounding.
            sums[line_item["invoice_id"]] = sums.get(line_item["invoice_id"], Decimal(0)) + Decimal(str(line_item["total"]))
        invoices = run.records(INVOICES)
        assert {invoice["status"] for invoice in invoices} >= {"DRAFT", "FINALIZED", "VOID"}
        for invoice in invoices:
            assert Decimal(str(invoice["total"])) == sums.get(invoice["id"], Decimal(0)), invoice["id"]

    def test_both_invoice_streams_request_each_page_once(self, start_fake, sync):
        fake = start_fake(SMALL)

        sync(fake, {**SETTINGS, "page_size": 2}, sync_modes={INVOICES: "full_refresh", INVOICE_LINE_ITEMS: "full_refresh"})

        invoice_requests = requests_to(fake, INVOICES_PATH_END)
        signatures = Counter((request.path, tuple(sorted((k, tuple(v)) for k, v in request.query.items()))) for request in invoice_requests)
        assert invoice_requests and max(signatures.values()) == 1
        assert all(request.query.get("sort") == ["date_asc"] for request in invoice_requests)
        pages_per_customer = Counter(request.path for request in invoice_requests)
        # Archived customers included: invoices are a full refresh.
        assert len(pages_per_customer) == len(fake.dataset.customers)
        assert max(pages_per_customer.values()) > 1, "page_size 2 should take more than one page for some customer"

    def test_a_draft_finalized_later_is_read_with_its_new_status(self, start_fake, sync):
        fake = start_fake(SMALL)
        first = sync(fake, SETTINGS, sync_modes={INVOICES: "full_refresh"})
        fake.revision = 1

        second = sync(fake, SETTINGS, sync_modes={INVOICES: "full_refresh"})

        before = {invoice["id"]: invoice["status"] for invoice in first.records(INVOICES)}
        after = {invoice["id"]: invoice["status"] for invoice in second.records(INVOICES)}
        assert before.keys() == after.keys()
        assert [invoice_id for invoice_id in before if before[invoice_id] == "DRAFT" and after[invoice_id] != "DRAFT"]
        assert_records_match(INVOICES, second.records(INVOICES), expected_billing_records(fake.dataset, SETTINGS)[INVOICES])


class TestAccountsWithoutAFeature:
    @pytest.mark.parametrize("status", [403, 404])
    def test_a_refused_endpoint_skips_its_stream_once_and_the_sync_goes_on(self, start_fake, sync, status: int):
        fake = start_fake(SMALL, disabled_endpoints={"contracts": status, "packages": status})

        run = sync(fake, SETTINGS, sync_modes={CONTRACTS: "full_refresh", PACKAGES: "full_refresh", PRODUCTS: "full_refresh", CUSTOMERS: "full_refresh"})

        assert not run.records(CONTRACTS) and not run.records(PACKAGES)
        assert run.records(PRODUCTS) and run.records(CUSTOMERS)
        skipped = [message for message in run.log_messages("WARN") if message.startswith("Skipping the ")]
        assert sorted(message.split()[2] for message in skipped) == [CONTRACTS, PACKAGES]
        assert not run.error_messages()
        # The per-customer stream stopped at its first refusal rather than asking for every customer.
        assert sum(request.path == "/v2/contracts/list" for request in fake.requests) <= 2 * 4


class TestAuditLogs:
    def test_a_second_sync_reads_new_entries_and_loses_none(self, start_fake, sync):
        fake = start_fake(SMALL)
        first = sync(fake, SETTINGS, sync_modes={AUDIT_LOGS: "incremental"})
        state = first.last_states()[AUDIT_LOGS]
        fake.advance(days=1)

        second = sync(fake, SETTINGS, sync_modes={AUDIT_LOGS: "incremental"}, state_messages=[state])

        everything = expected_audit_logs(fake.dataset, SETTINGS)
        by_id = {record["id"]: record for record in first.records(AUDIT_LOGS) + second.records(AUDIT_LOGS)}
        assert_records_match(AUDIT_LOGS, list(by_id.values()), everything)
        new_ids = {entry["id"] for entry in everything} - {record["id"] for record in first.records(AUDIT_LOGS)}
        assert new_ids and new_ids <= {record["id"] for record in second.records(AUDIT_LOGS)}
        # Only the lookback hour before the saved cursor is read again.
        assert len(second.records(AUDIT_LOGS)) < len(first.records(AUDIT_LOGS)) + len(new_ids)
        assert_records_within(AUDIT_LOGS, second.records(AUDIT_LOGS), everything)
        assert second.stream_states()[AUDIT_LOGS]["timestamp"] >= first.stream_states()[AUDIT_LOGS]["timestamp"]

    @pytest.mark.parametrize("empty_last_page", [False, True])
    def test_the_window_goes_on_the_first_request_only_and_an_empty_last_page_ends_quietly(self, start_fake, sync, empty_last_page: bool):
        fake = start_fake(SMALL, audit_rejects_window_with_next_page=True, audit_empty_last_page_with_token=empty_last_page)

        run = sync(fake, {**SETTINGS, "page_size": 3}, sync_modes={AUDIT_LOGS: "incremental"})

        assert_records_match(AUDIT_LOGS, run.records(AUDIT_LOGS), expected_audit_logs(fake.dataset, SETTINGS))
        requests = [request for request in fake.requests if request.path == "/v1/auditLogs"]
        assert len(requests) > 1 and all(request.status == 200 for request in requests)
        assert not run.log_messages("WARN")
