"""Records' identity functions (records.py): invoice and cost line items keep every served field and
get a stable id, the same whatever order Metronome serves them in; a rate schedule entry gets a
rate_id from what identifies it."""

import hashlib
import json

import pytest
from airbyte_cdk.sources.types import StreamSlice

from source_metronome.records import cost_line_items, invoice_line_item_digest, invoice_line_items, rate_id, with_customer
from unit_tests.builders import CUSTOMER, RATES_START, USD, rate_schedule_entry

SLICE = StreamSlice(partition={"customer_id": CUSTOMER}, cursor_slice={})


def _seat(total: float) -> dict:
    return {"type": "scheduled", "name": "Seats", "credit_type": USD, "total": total, "product_id": "p-1"}


def _usage(total: float) -> dict:
    return {"type": "usage", "name": "API calls", "credit_type": USD, "total": total, "product_id": "p-2", "group_key": "region", "group_value": "us"}


def _ids_by_total(records: list) -> dict:
    return {record["total"]: record["line_item_id"] for record in records}


def _invoice(*line_items: dict) -> dict:
    return {
        "id": "inv-1",
        "customer_id": CUSTOMER,
        "start_timestamp": "2024-02-01T00:00:00+00:00",
        "end_timestamp": "2024-03-01T00:00:00+00:00",
        "total": sum(item["total"] for item in line_items),
        "line_items": list(line_items),
    }


class TestInvoiceLineItems:
    def test_each_line_item_keeps_its_served_fields_and_names_its_invoice(self):
        [record] = invoice_line_items(_invoice(_seat(1250.25)), SLICE)

        assert record["total"] == 1250.25 and record["credit_type"] == USD and record["name"] == "Seats"
        assert record["invoice_id"] == "inv-1" and record["customer_id"] == CUSTOMER
        assert (record["invoice_start_timestamp"], record["invoice_end_timestamp"]) == ("2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00")

    def test_identical_line_items_on_one_invoice_are_numbered_by_content_whatever_the_served_order(self):
        served = list(invoice_line_items(_invoice(_seat(10), _seat(20), _seat(30)), SLICE))
        reordered = list(invoice_line_items(_invoice(_seat(30), _seat(10), _seat(20)), SLICE))

        digest = invoice_line_item_digest(_seat(10))
        assert [record["line_item_id"] for record in served] == [digest, f"{digest}-2", f"{digest}-3"]
        assert _ids_by_total(served) == _ids_by_total(reordered)

    def test_the_id_survives_a_change_of_amounts_but_not_of_identity(self):
        assert invoice_line_item_digest(_seat(10)) == invoice_line_item_digest({**_seat(99.5), "quantity": 3})
        assert invoice_line_item_digest(_seat(10)) != invoice_line_item_digest({**_seat(10), "product_id": "p-2"})
        assert len(invoice_line_item_digest(_seat(10))) == 16

    def test_an_invoice_without_line_items_has_no_line_item_records(self):
        assert list(invoice_line_items({**_invoice(), "line_items": None}, SLICE)) == []


class TestLineItemIdentity:
    """Charges that share every field but one the SDK's Invoice.LineItem uses to tell them apart get
    distinct keys, with no suffix, so no key depends on served order."""

    def _assert_told_apart(self, first: dict, second: dict) -> None:
        ids = [record["line_item_id"] for record in invoice_line_items(_invoice(first, second), SLICE)]
        reversed_ids = [record["line_item_id"] for record in invoice_line_items(_invoice(second, first), SLICE)]
        assert len(set(ids)) == 2 and not any("-" in line_item_id for line_item_id in ids)
        assert reversed_ids == ids[::-1]

    def test_tiers_of_one_charge_are_told_apart_by_level_and_start(self):
        self._assert_told_apart(
            {**_usage(60.0), "tier": {"level": 1, "starting_at": "0", "size": "100"}},
            {**_usage(60.0), "tier": {"level": 2, "starting_at": "100"}},
        )

    def test_several_credits_applied_to_one_product_are_told_apart_by_the_applied_credit(self):
        applied = {"type": "applied_commit_or_credit", "name": "Credits", "credit_type": USD, "total": -50.0, "product_id": "p-1"}
        self._assert_told_apart(
            {**applied, "applied_commit_or_credit": {"id": "credit-1", "type": "CREDIT"}},
            {**applied, "applied_commit_or_credit": {"id": "credit-2", "type": "CREDIT"}},
        )

    def test_segments_of_one_commit_are_told_apart_by_segment(self):
        commit = {"type": "commit_purchase", "name": "Commit", "credit_type": USD, "total": 500.0, "commit_id": "commit-1"}
        self._assert_told_apart({**commit, "commit_segment_id": "segment-1"}, {**commit, "commit_segment_id": "segment-2"})

    def test_a_postpaid_true_up_is_told_apart_from_the_commit_it_trues_up(self):
        charge = {"type": "scheduled", "name": "Minimum", "credit_type": USD, "total": 80.0, "product_id": "p-9"}
        self._assert_told_apart(charge, {**charge, "postpaid_commit": {"id": "postpaid-1"}})

    def test_line_items_of_a_consolidated_invoice_are_told_apart_by_their_origin(self):
        origin = {"customer_id": CUSTOMER, "contract_id": "contract-1", "invoice_id": "inv-9"}
        self._assert_told_apart(
            {**_usage(60.0), "origin": {**origin, "line_item_id": "line-1"}},
            {**_usage(60.0), "origin": {**origin, "line_item_id": "line-2"}},
        )

    def test_the_same_period_in_another_timestamp_form_is_the_same_charge(self):
        canonical = {**_usage(60.0), "starting_at": "2024-02-01T00:00:00+00:00", "ending_before": "2024-03-01T00:00:00+00:00"}
        zulu = {**_usage(60.0), "starting_at": "2024-02-01T00:00:00.000Z", "ending_before": "2024-03-01T00:00:00Z"}

        assert invoice_line_item_digest(canonical) == invoice_line_item_digest(zulu)


class TestCostLineItemIds:
    def test_breakdown_entries_with_the_same_name_and_group_get_numbered_ids_by_cost_whatever_the_order(self):
        def day(*costs: float) -> dict:
            breakdown = [{"name": "CPU hours", "group_key": "region", "group_value": "us", "cost": cost} for cost in costs]
            return {"start_timestamp": "2024-03-01T00:00:00+00:00", "end_timestamp": "2024-03-02T00:00:00+00:00", "credit_types": {"usd": {"line_item_breakdown": breakdown}}}

        served = {row["cost"]: row["line_item_id"] for row in cost_line_items(day(5.0, 2.5), SLICE)}
        reordered = {row["cost"]: row["line_item_id"] for row in cost_line_items(day(2.5, 5.0), SLICE)}

        assert served == reordered
        assert served[2.5] == '["CPU hours","region","us"]' and served[5.0] == '["CPU hours","region","us"]-2'


class TestWithCustomer:
    def test_the_partition_customer_is_added_and_the_rest_kept(self):
        [record] = with_customer({"id": "b-1", "balance": 0.1}, SLICE)
        assert record == {"id": "b-1", "balance": 0.1, "customer_id": CUSTOMER}


class TestRateId:
    BASE_ENTRY = rate_schedule_entry("p1", pricing_group_values={"region": "us", "tier": "a"}, ending_before="2024-04-01T00:00:00+00:00", billing_frequency="MONTHLY")

    @pytest.mark.parametrize(
        "change",
        [
            {"product_id": "p2"},
            {"pricing_group_values": {"region": "eu", "tier": "a"}},
            {"pricing_group_values": None},
            {"starting_at": "2024-03-02T00:00:00+00:00"},
            {"ending_before": None},
            {"billing_frequency": "ANNUAL"},
        ],
    )
    def test_entries_that_differ_in_an_identifying_field_get_different_ids(self, change):
        assert rate_id({**self.BASE_ENTRY, **change}) != rate_id(self.BASE_ENTRY)

    def test_the_id_stays_when_the_price_or_the_timestamp_form_or_the_key_order_changes(self):
        same = {
            **self.BASE_ENTRY,
            "rate": {"rate_type": "FLAT", "price": 99.0},
            "entitled": False,
            "starting_at": "2024-03-01T00:00:00.000Z",
            "pricing_group_values": {"tier": "a", "region": "us"},
        }

        assert rate_id(same) == rate_id(self.BASE_ENTRY)

    def test_no_pricing_group_values_and_empty_ones_are_the_same_entry(self):
        assert rate_id(rate_schedule_entry("p1", pricing_group_values={})) == rate_id(rate_schedule_entry("p1"))

    def test_the_id_is_the_documented_digest(self):
        identity = json.dumps(["p1", {"region": "us", "tier": "a"}, "MONTHLY", RATES_START, "2024-04-01T00:00:00+00:00"], separators=(",", ":"), sort_keys=True)
        assert rate_id(self.BASE_ENTRY) == hashlib.sha256(identity.encode()).hexdigest()[:16]
