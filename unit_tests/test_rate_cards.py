"""rate_cards: the account's rate cards from POST /v1/contract-pricing/rate-cards/list, paged in the
query, read whole every sync; skipped when the account has no contract pricing."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from unit_tests.builders import assert_skipped_as_a_feature_off, catalog, config, error, list_request, page

PATH = "/v1/contract-pricing/rate-cards/list"


def _rate_card(rate_card_id: str) -> dict:
    return {"id": rate_card_id, "name": "Standard", "created_at": "2024-01-01T00:00:00Z", "fiat_credit_type": {"id": "usd", "name": "USD (cents)"}}


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_pages_when_read_then_every_rate_card_is_emitted_as_served(self, http_mocker: HttpMocker = None):
        http_mocker.post(list_request(PATH), page([_rate_card("rc1")], next_page="p2"))
        http_mocker.post(list_request(PATH, next_page="p2"), page([_rate_card("rc2")]))

        output = read(SourceMetronome(), config(), catalog("rate_cards", sync_mode=SyncMode.full_refresh))

        assert [message.record.data["id"] for message in output.records] == ["rc1", "rc2"]
        assert output.records[0].record.data["fiat_credit_type"] == {"id": "usd", "name": "USD (cents)"}
        assert not output.errors


class TestFeatureOff:
    @HttpMocker()
    def test_given_an_account_without_contract_pricing_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        http_mocker.post(list_request(PATH), error(404, "Not found"))

        output = read(SourceMetronome(), config(), catalog("rate_cards", sync_mode=SyncMode.full_refresh))

        assert_skipped_as_a_feature_off(output, "rate_cards")
