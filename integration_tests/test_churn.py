"""Nothing churned disappears, end to end against the fake: customers archived between two syncs keep
their rows and records (in every stream synced as a full refresh, costs included), an archived
metric keeps its usage history, and invoice line items keep their keys whatever order Metronome
serves them in."""

from typing import Any, Dict, List, Mapping, Tuple

import pytest

from integration_tests.fake_metronome import (
    BALANCES,
    BILLABLE_METRICS,
    CONTRACTS,
    COST_LINE_ITEMS,
    COSTS,
    CUSTOMERS,
    INVOICE_LINE_ITEMS,
    INVOICES,
    USAGE,
    DatasetOptions,
    expected_cursors,
    expected_records,
    primary_key,
)
from integration_tests.fake_metronome.timestamps import format_timestamp
from integration_tests.record_checks import assert_cursors_match, assert_records_match

SMALL = DatasetOptions(customers=4, metrics_per_customer=2, days_of_history=10)
SETTINGS = {"start_date": "2024-03-08"}
PER_CUSTOMER_FULL_REFRESH = (INVOICES, INVOICE_LINE_ITEMS, CONTRACTS, BALANCES)
EVERY_PER_CUSTOMER_STREAM = {
    CUSTOMERS: "full_refresh",
    BILLABLE_METRICS: "full_refresh",
    **{stream: "full_refresh" for stream in PER_CUSTOMER_FULL_REFRESH},
    USAGE: "incremental",
    COSTS: "incremental",
}


def _of_customers(records: List[Mapping[str, Any]], customer_ids: List[str]) -> List[Mapping[str, Any]]:
    return [record for record in records if record["customer_id"] in customer_ids]


class TestCustomersArchivedBetweenSyncs:
    @pytest.mark.parametrize("include_archived", [False, True], ids=["option_off", "option_on_as_saved_by_0_3_0"])
    def test_given_customers_archived_after_sync_1_when_sync_2_then_their_rows_and_every_full_refresh_record_remain(self, start_fake, sync, include_archived):
        fake = start_fake(SMALL)
        settings = {**SETTINGS, "include_archived_customers": include_archived}
        first = sync(fake, settings, sync_modes=EVERY_PER_CUSTOMER_STREAM)
        churned = [customer.id for customer in fake.dataset.customers[1:3]]
        fake.advance(hours=2)
        fake.archive_customers(*churned)
        saved = first.stream_states()

        second = sync(fake, settings, sync_modes=EVERY_PER_CUSTOMER_STREAM, state_messages=list(first.last_states().values()))

        archived_rows = {row["id"]: row.get("archived_at") for row in second.records(CUSTOMERS) if row["id"] in churned}
        assert archived_rows == {customer_id: format_timestamp(fake.now) for customer_id in churned}
        for stream in PER_CUSTOMER_FULL_REFRESH + (BILLABLE_METRICS,):
            kept = _of_customers(second.records(stream), churned)
            assert kept and kept == _of_customers(first.records(stream), churned), f"{stream}: the churned customers' records changed"
        # Every stream exact, usage and costs resumed from sync 1's state (archived customers' usage
        # read again only with the option; their saved cursors are kept either way).
        expected = expected_records(fake.dataset, settings, state=saved)
        for stream, records in expected.items():
            if stream in EVERY_PER_CUSTOMER_STREAM:
                assert_records_match(stream, second.records(stream), records)
        assert bool(_of_customers(second.records(USAGE), churned)) == include_archived
        assert_cursors_match(second.stream_states(), expected_cursors(fake.dataset, settings, state=saved))


class TestCostsSyncedAsFullRefreshAfterChurn:
    def test_given_a_customer_archived_after_sync_1_when_costs_refreshed_with_the_option_off_then_none_of_its_rows_is_deleted(self, start_fake, sync):
        fake = start_fake(SMALL)
        settings = {**SETTINGS, "include_archived_customers": False}
        refreshed = {COSTS: "full_refresh", COST_LINE_ITEMS: "full_refresh"}
        first = sync(fake, settings, sync_modes=refreshed)
        churned = [customer.id for customer in fake.dataset.customers if _of_customers(first.records(COSTS), [customer.id])][:1]
        assert churned, "the dataset should have a customer with costs"
        fake.advance(hours=2)
        fake.archive_customers(*churned)

        second = sync(fake, settings, sync_modes=refreshed)

        # The destination's table is overwritten by sync 2: every row sync 1 wrote must be in it again.
        for stream in refreshed:
            kept = {primary_key(stream, row) for row in _of_customers(second.records(stream), churned)}
            written = {primary_key(stream, row) for row in _of_customers(first.records(stream), churned)}
            assert written and written <= kept, f"{stream}: the archived customer's rows would be deleted"
        expected = expected_records(fake.dataset, settings, full_refresh=refreshed)
        for stream in refreshed:
            assert_records_match(stream, second.records(stream), expected[stream])


class TestArchivedMetric:
    def test_given_a_metric_archived_after_use_when_synced_twice_then_it_is_listed_and_its_usage_is_exact(self, start_fake, sync):
        fake = start_fake(SMALL.with_changes(retired_metrics=1))
        [retired_id] = fake.dataset.customers[0].retired_metric_ids
        retired = fake.dataset.metrics[retired_id]
        modes = {USAGE: "incremental", BILLABLE_METRICS: "full_refresh"}
        first = sync(fake, SETTINGS, sync_modes=modes)
        expected_first = expected_records(fake.dataset, SETTINGS)
        saved = first.stream_states()
        fake.advance(days=1)
        fake.revision = 1

        second = sync(fake, SETTINGS, sync_modes=modes, state_messages=list(first.last_states().values()))

        expected_second = expected_records(fake.dataset, SETTINGS, state=saved)
        for run, expected in ((first, expected_first), (second, expected_second)):
            assert_records_match(USAGE, run.records(USAGE), expected[USAGE])
            assert_records_match(BILLABLE_METRICS, run.records(BILLABLE_METRICS), expected[BILLABLE_METRICS])
        listed = [row for row in second.records(BILLABLE_METRICS) if row["id"] == retired.id]
        assert len(listed) == len(fake.dataset.customers) and all(row["archived_at"] for row in listed)
        history = [row["value"] for row in first.records(USAGE) if row["billable_metric_id"] == retired.id]
        assert history and sum(value or 0 for value in history) > 0, "the archived metric's usage history should be read"


class TestLineItemsServedInAnotherOrder:
    def test_given_line_items_reversed_in_sync_2_then_every_charge_keeps_its_key_and_keys_stay_unique(self, start_fake, sync):
        fake = start_fake(SMALL)
        first = sync(fake, SETTINGS, sync_modes={INVOICE_LINE_ITEMS: "full_refresh"})
        fake.line_items_reversed = True

        second = sync(fake, SETTINGS, sync_modes={INVOICE_LINE_ITEMS: "full_refresh"})

        before, after = _keys_by_charge(first.records(INVOICE_LINE_ITEMS)), _keys_by_charge(second.records(INVOICE_LINE_ITEMS))
        assert before == after
        served_order = [(row["invoice_id"], row["line_item_id"]) for row in first.records(INVOICE_LINE_ITEMS)]
        assert served_order != [(row["invoice_id"], row["line_item_id"]) for row in second.records(INVOICE_LINE_ITEMS)]
        assert len(set(served_order)) == len(served_order)
        tiered = [row for row in second.records(INVOICE_LINE_ITEMS) if row.get("tier")]
        assert tiered and not any("-" in row["line_item_id"] for row in tiered), "tiers of one charge are told apart without a suffix"
        assert_records_match(INVOICE_LINE_ITEMS, second.records(INVOICE_LINE_ITEMS), expected_records(fake.dataset, SETTINGS)[INVOICE_LINE_ITEMS])


def _keys_by_charge(rows: List[Mapping[str, Any]]) -> Dict[Tuple[str, str], str]:
    """Each charge (its invoice and every served field, amounts included) to its key."""
    keys = {}
    for row in rows:
        charge = (row["invoice_id"], repr(sorted((name, repr(value)) for name, value in row.items() if name != "line_item_id")))
        assert charge not in keys, "two line items identical in every field"
        keys[charge] = row["line_item_id"]
    return keys

