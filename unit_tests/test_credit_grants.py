"""credit_grants: the account's credit grants from POST /v1/credits/listGrants, paged in the query,
read whole every sync; skipped when the account has no plan-based billing."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from unit_tests.builders import CUSTOMER, assert_skipped_as_a_feature_off, catalog, config, error, list_request, page

PATH = "/v1/credits/listGrants"


def _grant(grant_id: str) -> dict:
    return {"id": grant_id, "customer_id": CUSTOMER, "name": "Welcome credit", "balance": {"including_pending": 1250.25}}


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_pages_when_read_then_every_grant_is_emitted_as_served(self, http_mocker: HttpMocker = None):
        http_mocker.post(list_request(PATH), page([_grant("g1")], next_page="p2"))
        http_mocker.post(list_request(PATH, next_page="p2"), page([_grant("g2")]))

        output = read(SourceMetronome(), config(), catalog("credit_grants", sync_mode=SyncMode.full_refresh))

        assert [message.record.data for message in output.records] == [_grant("g1"), _grant("g2")]
        assert not output.errors


class TestFeatureOff:
    @HttpMocker()
    def test_given_an_account_without_plan_based_billing_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        http_mocker.post(list_request(PATH), error(403, "Credit grants are not enabled for this account"))

        output = read(SourceMetronome(), config(), catalog("credit_grants", sync_mode=SyncMode.full_refresh))

        assert_skipped_as_a_feature_off(output, "credit_grants")
