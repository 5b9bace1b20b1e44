"""plans: the account's plans from GET /v1/plans, paged in the query, read whole every sync;
skipped when the account has no plan-based billing (a contracts account may refuse the endpoint)."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from unit_tests.builders import assert_skipped_as_a_feature_off, catalog, config, error, list_request, page

PATH = "/v1/plans"


def _plan(plan_id: str) -> dict:
    return {"id": plan_id, "name": "Pro", "description": "The pro plan", "custom_fields": {}}


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_pages_when_read_then_every_plan_is_emitted_as_served(self, http_mocker: HttpMocker = None):
        http_mocker.get(list_request(PATH), page([_plan("pl1")], next_page="p2"))
        http_mocker.get(list_request(PATH, next_page="p2"), page([_plan("pl2")]))

        output = read(SourceMetronome(), config(), catalog("plans", sync_mode=SyncMode.full_refresh))

        assert [message.record.data for message in output.records] == [_plan("pl1"), _plan("pl2")]
        assert not output.errors


class TestFeatureOff:
    @HttpMocker()
    def test_given_a_contracts_account_refusing_plans_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        http_mocker.get(list_request(PATH), error(403, "This feature is not enabled for your account"))

        output = read(SourceMetronome(), config(), catalog("plans", sync_mode=SyncMode.full_refresh))

        assert_skipped_as_a_feature_off(output, "plans")
