"""rate_card_rates: the account's rate cards listed once, then one POST
/v1/contract-pricing/rate-cards/getRateSchedule per rate-card page, `limit`/`next_page` in the
query, and a rate_id for entries Metronome gives no id (how it is made: test_records.py)."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from source_metronome import SourceMetronome
from unit_tests.builders import BASE, RATES_START, catalog, config, error, page, rate_schedule_entry

RATE_CARDS_URL = f"{BASE}/contract-pricing/rate-cards/list"
SCHEDULE_URL = f"{BASE}/contract-pricing/rate-cards/getRateSchedule"


def _rate_cards_request(limit: int = 100, next_page=None) -> HttpRequest:
    # The list takes no body fields: the CDK sends none for an empty JSON body.
    return HttpRequest(RATE_CARDS_URL, query_params={"limit": str(limit), **({"next_page": next_page} if next_page else {})})


def _schedule_request(rate_card_id: str, next_page=None, limit: int = 100, **body) -> HttpRequest:
    query = {"limit": str(limit), **({"next_page": next_page} if next_page else {})}
    return HttpRequest(SCHEDULE_URL, query_params=query, body={"rate_card_id": rate_card_id, "starting_at": RATES_START, **body})


def _read(**overrides):
    return read(SourceMetronome(), config(**overrides), catalog("rate_card_rates", sync_mode=SyncMode.full_refresh))


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_rate_cards_when_read_then_each_schedule_is_read_page_by_page_from_start_date(self, http_mocker: HttpMocker = None):
        listing = _rate_cards_request()
        http_mocker.post(listing, page([{"id": "rc1"}, {"id": "rc2"}]))
        http_mocker.post(_schedule_request("rc1"), page([rate_schedule_entry("p1")], next_page="rc1-2"))
        http_mocker.post(_schedule_request("rc1", next_page="rc1-2"), page([rate_schedule_entry("p2")]))
        http_mocker.post(_schedule_request("rc2"), page([rate_schedule_entry("p1", price=2.0)]))

        output = _read(max_concurrency=1)

        rows = sorted((message.record.data["rate_card_id"], message.record.data["product_id"], message.record.data["rate"]["price"]) for message in output.records)
        assert rows == [("rc1", "p1", 1.5), ("rc1", "p2", 1.5), ("rc2", "p1", 2.0)]
        assert all(len(message.record.data["rate_id"]) == 16 for message in output.records)
        http_mocker.assert_number_of_calls(listing, 1)

    @HttpMocker()
    def test_given_an_end_date_when_read_then_ending_before_is_sent(self, http_mocker: HttpMocker = None):
        http_mocker.post(_rate_cards_request(), page([{"id": "rc1"}]))
        http_mocker.post(_schedule_request("rc1", ending_before="2024-04-01T00:00:00+00:00"), page([rate_schedule_entry("p1")]))

        output = _read(end_date="2024-04-01")

        assert [message.record.data["product_id"] for message in output.records] == ["p1"]


class TestFeatureOff:
    @HttpMocker()
    def test_given_contract_pricing_refused_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        http_mocker.post(_rate_cards_request(), error(403, "Contract pricing is not enabled"))

        output = _read()

        assert not output.records and not output.errors
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert len(warnings) == 1 and warnings[0].startswith("Skipping the rate_card_rates stream")

