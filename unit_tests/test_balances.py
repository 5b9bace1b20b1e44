"""balances: POST /v1/contracts/customerBalances/list per customer, with archived, ledger, balance
and contract-level commits and credits asked for, `limit` (25, the documented default) and
`next_page` in the body; full refresh only."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from unit_tests.builders import BASE, CUSTOMER, OTHER_CUSTOMER, config, customer, error, last_state, mock_every_customer, page, read_stream, warnings

BALANCES_URL = f"{BASE}/contracts/customerBalances/list"
BALANCE_FLAGS = {"include_archived": True, "include_ledgers": True, "include_balance": True, "include_contract_balances": True}


def _balances_request(customer_id: str, next_page=None) -> HttpRequest:
    return HttpRequest(BALANCES_URL, body={**BALANCE_FLAGS, "customer_id": customer_id, "limit": 25, **({"next_page": next_page} if next_page else {})})


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_pages_when_read_then_limit_and_next_page_go_in_the_body_and_customer_id_is_added(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()])
        http_mocker.post(_balances_request(CUSTOMER), page([{"id": "commit-1", "type": "PREPAID"}], next_page="b2"))
        http_mocker.post(_balances_request(CUSTOMER, next_page="b2"), page([{"id": "credit-1", "type": "CREDIT"}]))

        output = read_stream("balances", config(), sync_mode=SyncMode.full_refresh)

        assert [(message.record.data["id"], message.record.data["customer_id"]) for message in output.records] == [("commit-1", CUSTOMER), ("credit-1", CUSTOMER)]
        assert last_state(output) == {"complete": True}


class TestRefusedCustomers:
    @HttpMocker()
    def test_given_a_404_for_a_later_customer_when_read_then_only_that_customer_is_skipped(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(), customer(OTHER_CUSTOMER, "Gone")])
        http_mocker.post(_balances_request(CUSTOMER), page([{"id": "commit-1"}]))
        http_mocker.post(_balances_request(OTHER_CUSTOMER), error(404, "Customer not found"))

        output = read_stream("balances", config(max_concurrency=1), sync_mode=SyncMode.full_refresh)

        assert [message.record.data["id"] for message in output.records] == ["commit-1"]
        found = warnings(output)
        assert any(f"skipping customer_id {OTHER_CUSTOMER}" in warning for warning in found)
        assert not any(warning.startswith("Skipping the balances stream") for warning in found)
