"""customer_plans: GET /v1/customers/{customer_id}/plans per customer, `limit`/`next_page` in the
query, keyed by customer and plan."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from source_metronome import SourceMetronome
from unit_tests.builders import BASE, CUSTOMER, OTHER_CUSTOMER, catalog, config, customer, error, mock_every_customer, page


def _plans_request(customer_id: str, next_page=None) -> HttpRequest:
    return HttpRequest(f"{BASE}/customers/{customer_id}/plans", query_params={"limit": "100", **({"next_page": next_page} if next_page else {})})


def _plan(plan_id: str) -> dict:
    return {"id": plan_id, "plan_id": "p", "plan_name": "Growth", "plan_description": "", "custom_fields": {}, "starting_on": "2024-01-01T00:00:00+00:00"}


def _read(**overrides):
    return read(SourceMetronome(), config(**overrides), catalog("customer_plans", sync_mode=SyncMode.full_refresh))


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_customers_and_two_pages_when_read_then_every_plan_comes_with_its_customer(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(), customer(OTHER_CUSTOMER, "Other")])
        http_mocker.get(_plans_request(CUSTOMER), page([_plan("cp1")], next_page="more"))
        http_mocker.get(_plans_request(CUSTOMER, next_page="more"), page([_plan("cp2")]))
        http_mocker.get(_plans_request(OTHER_CUSTOMER), page([_plan("cp3")]))

        output = _read(max_concurrency=1)

        rows = sorted((message.record.data["customer_id"], message.record.data["id"]) for message in output.records)
        assert rows == sorted([(CUSTOMER, "cp1"), (CUSTOMER, "cp2"), (OTHER_CUSTOMER, "cp3")])


class TestFeatureOff:
    @HttpMocker()
    def test_given_a_contracts_account_refusing_plans_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(), customer(OTHER_CUSTOMER, "Other")])
        http_mocker.get(_plans_request(CUSTOMER), error(404, "Not found"))
        http_mocker.get(_plans_request(OTHER_CUSTOMER), error(404, "Not found"))

        output = _read(max_concurrency=1)

        assert not output.records and not output.errors
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert len(warnings) == 1 and warnings[0].startswith("Skipping the customer_plans stream")
