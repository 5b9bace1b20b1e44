"""products: the account's products, archived ones included (archive_filter=ALL), from POST
/v1/contract-pricing/products/list, paged in the query, read whole every sync; skipped when the
account has no contract pricing."""

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import catalog, config, error, last_state, list_request, page, read_catalog, read_stream, warnings

PATH = "/v1/contract-pricing/products/list"
ALL_ARCHIVED = {"archive_filter": "ALL"}


def _product(product_id: str, archived_at=None) -> dict:
    # The CDK's serializer leaves null fields out of records: archived_at only when set.
    return {"id": product_id, "type": "USAGE", "current": {"name": "CPU hours"}, **({"archived_at": archived_at} if archived_at else {})}


class TestFullRefresh:
    @HttpMocker()
    def test_given_archived_products_over_two_pages_when_read_then_all_are_emitted_as_served(self, http_mocker: HttpMocker = None):
        http_mocker.post(list_request(PATH, body=ALL_ARCHIVED), page([_product("pr1")], next_page="p2"))
        http_mocker.post(list_request(PATH, body=ALL_ARCHIVED, next_page="p2"), page([_product("old", archived_at="2024-02-01T00:00:00Z")]))

        output = read_stream("products", config(), sync_mode=SyncMode.full_refresh)

        assert [message.record.data for message in output.records] == [_product("pr1"), _product("old", archived_at="2024-02-01T00:00:00Z")]
        assert last_state(output) == {"__ab_no_cursor_state_message": True}
        assert not output.errors


class TestFeatureOff:
    @pytest.mark.parametrize("status", [403, 404])
    def test_given_an_account_without_the_feature_when_read_then_the_stream_is_skipped_with_one_warning(self, status: int):
        with HttpMocker() as http_mocker:
            http_mocker.post(list_request(PATH, body=ALL_ARCHIVED), error(status, "Contract pricing is not enabled"))
            http_mocker.get(list_request("/v1/credit-types/list"), page([{"id": "usd", "name": "USD (cents)"}]))

            output = read_catalog(catalog("products", "credit_types", sync_mode=SyncMode.full_refresh), config())

        assert [message.record.stream for message in output.records] == ["credit_types"]
        assert len([warning for warning in warnings(output) if warning.startswith("Skipping the products stream")]) == 1
        assert not output.errors
