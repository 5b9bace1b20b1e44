"""rate_card_rates: the account's rate cards listed once, then one POST
/v1/contract-pricing/rate-cards/getRateSchedule per rate-card page, `limit`/`next_page` in the
query, and a rate_id for entries Metronome gives no id."""

import hashlib
import json

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from source_metronome import SourceMetronome
from source_metronome.records import rate_id
from unit_tests.builders import BASE, catalog, config, error, page

RATE_CARDS_URL = f"{BASE}/contract-pricing/rate-cards/list"
SCHEDULE_URL = f"{BASE}/contract-pricing/rate-cards/getRateSchedule"
START = "2024-03-01T00:00:00+00:00"


def _rate_cards_request(limit: int = 100, next_page=None) -> HttpRequest:
    # The list takes no body fields: the CDK sends none for an empty JSON body.
    return HttpRequest(RATE_CARDS_URL, query_params={"limit": str(limit), **({"next_page": next_page} if next_page else {})})


def _schedule_request(rate_card_id: str, next_page=None, limit: int = 100, **body) -> HttpRequest:
    query = {"limit": str(limit), **({"next_page": next_page} if next_page else {})}
    return HttpRequest(SCHEDULE_URL, query_params=query, body={"rate_card_id": rate_card_id, "starting_at": START, **body})


def _entry(product_id: str, price: float = 1.5, starting_at: str = START, **fields):
    return {"product_id": product_id, "product_name": product_id, "entitled": True, "starting_at": starting_at, "rate": {"rate_type": "FLAT", "price": price}, **fields}


def _read(**overrides):
    return read(SourceMetronome(), config(**overrides), catalog("rate_card_rates", sync_mode=SyncMode.full_refresh))


class TestRequestsAndPaging:
    @HttpMocker()
    def test_given_two_rate_cards_when_read_then_each_schedule_is_read_page_by_page_from_start_date(self, http_mocker: HttpMocker = None):
        listing = _rate_cards_request()
        http_mocker.post(listing, page([{"id": "rc1"}, {"id": "rc2"}]))
        http_mocker.post(_schedule_request("rc1"), page([_entry("p1")], next_page="rc1-2"))
        http_mocker.post(_schedule_request("rc1", next_page="rc1-2"), page([_entry("p2")]))
        http_mocker.post(_schedule_request("rc2"), page([_entry("p1", price=2.0)]))

        output = _read(max_concurrency=1)

        rows = sorted((message.record.data["rate_card_id"], message.record.data["product_id"], message.record.data["rate"]["price"]) for message in output.records)
        assert rows == [("rc1", "p1", 1.5), ("rc1", "p2", 1.5), ("rc2", "p1", 2.0)]
        assert all(len(message.record.data["rate_id"]) == 16 for message in output.records)
        http_mocker.assert_number_of_calls(listing, 1)

    @HttpMocker()
    def test_given_an_end_date_when_read_then_ending_before_is_sent(self, http_mocker: HttpMocker = None):
        http_mocker.post(_rate_cards_request(), page([{"id": "rc1"}]))
        http_mocker.post(_schedule_request("rc1", ending_before="2024-04-01T00:00:00+00:00"), page([_entry("p1")]))

        output = _read(end_date="2024-04-01")

        assert [message.record.data["product_id"] for message in output.records] == ["p1"]

    @HttpMocker()
    def test_given_contract_pricing_refused_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        http_mocker.post(_rate_cards_request(), error(403, "Contract pricing is not enabled"))

        output = _read()

        assert not output.records and not output.errors
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert len(warnings) == 1 and warnings[0].startswith("Skipping the rate_card_rates stream")


class TestRateId:
    BASE_ENTRY = _entry("p1", pricing_group_values={"region": "us", "tier": "a"}, ending_before="2024-04-01T00:00:00+00:00", billing_frequency="MONTHLY")

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
        assert rate_id(_entry("p1", pricing_group_values={})) == rate_id(_entry("p1"))

    def test_the_id_is_the_documented_digest(self):
        identity = json.dumps(["p1", {"region": "us", "tier": "a"}, "MONTHLY", START, "2024-04-01T00:00:00+00:00"], separators=(",", ":"), sort_keys=True)
        assert rate_id(self.BASE_ENTRY) == hashlib.sha256(identity.encode()).hexdigest()[:16]
