"""billing_provider_configurations: POST /v1/getCustomerBillingProviderConfigurations per customer
with include_archived, answered whole (no page parameters), keyed by id."""

import json

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_metronome import SourceMetronome
from unit_tests.builders import BASE, CUSTOMER, OTHER_CUSTOMER, catalog, config, customer, error, mock_every_customer

CONFIGURATIONS_URL = f"{BASE}/getCustomerBillingProviderConfigurations"


def _configurations_request(customer_id: str) -> HttpRequest:
    return HttpRequest(CONFIGURATIONS_URL, query_params={}, body={"customer_id": customer_id, "include_archived": True})


def _configurations(customer_id: str, *ids: str) -> HttpResponse:
    # The SDK's response has `data` only: no page token.
    items = [{"id": item_id, "customer_id": customer_id, "billing_provider": "stripe", "archived_at": None} for item_id in ids]
    return HttpResponse(json.dumps({"data": items}))


def _read(**overrides):
    return read(SourceMetronome(), config(**overrides), catalog("billing_provider_configurations", sync_mode=SyncMode.full_refresh))


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_customers_when_read_then_one_request_each_without_page_parameters(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(), customer(OTHER_CUSTOMER, "Other")])
        first, second = _configurations_request(CUSTOMER), _configurations_request(OTHER_CUSTOMER)
        http_mocker.post(first, _configurations(CUSTOMER, "bc1", "bc2-archived"))
        http_mocker.post(second, _configurations(OTHER_CUSTOMER, "bc3"))

        output = _read(max_concurrency=1)

        rows = sorted((message.record.data["id"], message.record.data["customer_id"]) for message in output.records)
        assert rows == [("bc1", CUSTOMER), ("bc2-archived", CUSTOMER), ("bc3", OTHER_CUSTOMER)]
        http_mocker.assert_number_of_calls(first, 1)
        http_mocker.assert_number_of_calls(second, 1)


class TestFeatureOff:
    @HttpMocker()
    def test_given_the_endpoint_refused_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()])
        http_mocker.post(_configurations_request(CUSTOMER), error(404, "Not found"))

        output = _read()

        assert not output.records and not output.errors
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert len(warnings) == 1 and warnings[0].startswith("Skipping the billing_provider_configurations stream")
