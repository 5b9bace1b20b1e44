"""The fake's GET /v1/customers/{customer_id}/invoices/breakdowns and its ground truth, checked
against metronome-sdk 4.12's model, the streams' JSON schemas and the invoices it breaks down."""

from collections import defaultdict
from decimal import Decimal
from typing import Any, Dict, List, Tuple

import jsonschema
import pytest

from integration_tests.fake_metronome import DatasetOptions, FakeMetronome
from integration_tests.fake_metronome.finance import invoice_items
from integration_tests.fake_metronome.ground_truth_breakdowns import (
    BREAKDOWN_STREAMS,
    INVOICE_BREAKDOWNS,
    expected_breakdown_line_items,
    expected_breakdowns,
)
from integration_tests.test_fake_endpoints import BY_NAME, Client
from integration_tests.test_fake_finance_catalog import assert_fit_schema_with_and_without_nulls, numbers, schema_of

OPTIONS = DatasetOptions(customers=2, metrics_per_customer=2, days_of_history=4)
BREAKDOWNS = BY_NAME["invoice_breakdowns"]
# The fake's "now" is 2024-03-15 13:30: its invoices cover January to March.
JANUARY = {"starting_on": "2024-01-01T00:00:00+00:00", "ending_before": "2024-02-05T00:00:00+00:00"}
FEBRUARY_ON = {"starting_on": "2024-02-05T00:00:00+00:00", "ending_before": "2024-03-11T00:00:00+00:00"}
MARCH_ON = {"starting_on": "2024-03-11T00:00:00+00:00", "ending_before": "2024-03-16T00:00:00+00:00"}
EVERY_RANGE = (JANUARY, FEBRUARY_ON, MARCH_ON)


@pytest.fixture
def fake(start_fake) -> FakeMetronome:
    return start_fake(OPTIONS)


@pytest.fixture
def client(fake) -> Client:
    return Client(fake)


def every_window(client: Client, customer_id: str, **params: Any) -> List[Dict[str, Any]]:
    return [item for dates in EVERY_RANGE for item in client.items(BREAKDOWNS, customer_id, **dates, **params)]


class TestShapes:
    @pytest.mark.parametrize("stream", BREAKDOWN_STREAMS)
    @pytest.mark.parametrize("revision", [0, 1])
    def test_every_ground_truth_record_fits_its_streams_json_schema_with_and_without_nulls(self, start_fake, stream, revision):
        fake = start_fake(OPTIONS.with_changes(archived_share=0.5))
        fake.revision = revision
        expected = expected_breakdowns if stream == INVOICE_BREAKDOWNS else expected_breakdown_line_items

        records = expected(fake.dataset, {"start_date": "2024-01-01", "include_archived_customers": True})

        assert_fit_schema_with_and_without_nulls(stream, records)

    @pytest.mark.parametrize("stream", BREAKDOWN_STREAMS)
    def test_every_schema_is_draft_07_and_describes_its_amounts(self, stream):
        schema = schema_of(stream)

        jsonschema.Draft7Validator.check_schema(schema)
        for path, node in numbers(schema):
            if path.rsplit(".", 1)[-1] in ("total", "unit_price", "subtotal"):
                assert node.get("description", "").startswith("An amount, in the credit type"), path
        assert schema["properties"]["breakdown_start_timestamp"]["format"] == "date-time"


class TestRequestRules:
    @pytest.mark.parametrize(
        "params",
        [
            {"starting_on": "2024-01-01T00:00:00Z", "ending_before": "2024-02-06T00:00:00Z"},
            {"starting_on": "2024-03-01T00:00:00Z", "ending_before": "2024-03-02T01:00:00Z", "window_size": "HOUR"},
            {"starting_on": "2024-03-01T06:00:00Z", "ending_before": "2024-03-02T00:00:00Z"},
            {"starting_on": "2024-03-01T06:30:00Z", "ending_before": "2024-03-02T00:00:00Z", "window_size": "HOUR"},
            {"ending_before": "2024-03-02T00:00:00Z"},
            {"starting_on": "2024-03-02T00:00:00Z", "ending_before": "2024-03-02T00:00:00Z"},
            {"starting_on": "2024-03-01T00:00:00Z", "ending_before": "2024-03-02T00:00:00Z", "window_size": "WEEK"},
            {"starting_on": "2024-03-01T00:00:00Z", "ending_before": "2024-03-02T00:00:00Z", "sort": "newest"},
        ],
        ids=["36_days", "25_hours", "day_off_midnight", "hour_off_the_hour", "no_start", "empty_range", "unknown_window", "unknown_sort"],
    )
    def test_given_a_bad_parameter_then_400_with_a_message(self, fake, client, params):
        response = client.request("GET", f"/v1/customers/{fake.dataset.customers[0].id}/invoices/breakdowns", **params)

        assert response.status_code == 400 and response.json()["message"]

    def test_given_35_days_or_24_hours_in_any_case_then_200(self, fake, client):
        customer_id = fake.dataset.customers[0].id

        assert client.items(BREAKDOWNS, customer_id, **JANUARY)
        assert client.items(BREAKDOWNS, customer_id, window_size="hour", starting_on="2024-03-14T00:00:00Z", ending_before="2024-03-15T00:00:00Z")

    def test_given_an_unknown_customer_then_404(self, client):
        response = client.request("GET", "/v1/customers/00000000-0000-4000-8000-000000000000/invoices/breakdowns", **JANUARY)

        assert response.status_code == 404

    def test_given_a_small_limit_then_the_pages_add_up_to_the_one_page_list_without_repeats(self, fake, client):
        customer_id = fake.dataset.customers[0].id

        pages = client.pages(BREAKDOWNS, customer_id, limit=7, **FEBRUARY_ON)

        assert len(pages) > 1 and [item for page in pages for item in page] == client.items(BREAKDOWNS, customer_id, **FEBRUARY_ON)

    def test_given_filters_then_only_matching_windows_and_line_items_come(self, fake, client):
        customer_id = fake.dataset.customers[0].id

        finalized = every_window(client, customer_id, status="FINALIZED")
        without_zeros = client.items(BREAKDOWNS, customer_id, skip_zero_qty_line_items="true", **MARCH_ON)

        assert finalized and {item["status"] for item in finalized} == {"FINALIZED"}
        assert all(line.get("quantity") != 0 for item in without_zeros for line in item["line_items"])
        assert sum(len(item["line_items"]) for item in without_zeros) < sum(len(item["line_items"]) for item in client.items(BREAKDOWNS, customer_id, **MARCH_ON))


class TestWindowsAddUpToInvoices:
    @pytest.mark.parametrize("revision", [0, 1])
    def test_each_invoice_line_items_quantity_and_total_is_the_sum_over_its_daily_windows(self, fake, client, revision):
        fake.revision = revision
        for customer in fake.dataset.customers:
            totals: Dict[Tuple[str, int], Decimal] = defaultdict(Decimal)
            quantities: Dict[Tuple[str, int], Decimal] = defaultdict(Decimal)
            for window in every_window(client, customer.id):
                assert Decimal(str(window["total"])) == sum(Decimal(str(line["total"])) for line in window["line_items"])
                for number, line in enumerate(window["line_items"]):
                    totals[(window["id"], number)] += Decimal(str(line["total"]))
                    quantities[(window["id"], number)] += Decimal(str(line.get("quantity") or 0))

            for invoice in invoice_items(fake.dataset, customer):
                for number, line in enumerate(invoice["line_items"]):
                    assert totals[(invoice["id"], number)] == Decimal(str(line["total"])), (invoice["id"], number)
                    assert quantities[(invoice["id"], number)] == Decimal(str(line.get("quantity") or 0)), (invoice["id"], number)

    def test_given_late_usage_then_the_window_it_is_dated_in_changes_and_the_draft_changes_status_everywhere(self, fake, client):
        customer_id = fake.dataset.customers[0].id
        before = {(item["id"], item["breakdown_start_timestamp"]): item for item in client.items(BREAKDOWNS, customer_id, **MARCH_ON)}
        fake.advance(days=1)
        fake.revision = 1

        after = {(item["id"], item["breakdown_start_timestamp"]): item for item in client.items(BREAKDOWNS, customer_id, **MARCH_ON)}

        # Events of a revision are dated from late_days (3) before it arrived (2024-03-16).
        changed = sorted(key[1] for key in before if before[key]["total"] != after[key]["total"])
        assert changed == ["2024-03-13T00:00:00+00:00"]
        assert {item["status"] for item in before.values()} == {"DRAFT"} and {item["status"] for item in after.values()} == {"FINALIZED"}


class TestGroundTruth:
    def test_the_ground_truth_is_what_the_fake_serves_read_as_the_streams_read_it(self, fake, client):
        fake.revision = 1
        config = {"start_date": "2024-01-01"}

        served = [{**item, "customer_id": customer.id} for customer in fake.dataset.customers for item in every_window(client, customer.id)]

        assert expected_breakdowns(fake.dataset, config) == served
        rows = expected_breakdown_line_items(fake.dataset, config)
        assert [(row["invoice_id"], row["breakdown_start_timestamp"], row["total"]) for row in rows] == [
            (item["id"], item["breakdown_start_timestamp"], line["total"]) for item in served for line in item["line_items"]
        ]
        keys = {(row["invoice_id"], row["breakdown_start_timestamp"], row["line_item_id"]) for row in rows}
        assert len(keys) == len(rows)
