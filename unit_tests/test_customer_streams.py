"""Per-customer lists: contracts paged by a body cursor, balances by a body next_page, and a 404
that concerns one customer once the endpoint has answered for another."""

import json

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_metronome import SourceMetronome
from unit_tests.builders import BASE, CUSTOMER, OTHER_CUSTOMER, catalog, config, customer, customers_request, error, page

CONTRACTS_URL = f"{BASE.removesuffix('/v1')}/v2/contracts/list"
BALANCES_URL = f"{BASE}/contracts/customerBalances/list"
BALANCE_FLAGS = {"include_archived": True, "include_ledgers": True, "include_balance": True, "include_contract_balances": True}


def _contracts_request(customer_id: str, cursor=None) -> HttpRequest:
    body = {"include_archived": True, "customer_id": customer_id, "limit": 20, **({"cursor": cursor} if cursor else {})}
    return HttpRequest(CONTRACTS_URL, body=body)


def _contracts_page(ids, cursor=None) -> HttpResponse:
    return HttpResponse(json.dumps({"data": [{"id": contract_id, "customer_id": CUSTOMER} for contract_id in ids], "cursor": cursor}))


class TestContracts:
    @HttpMocker()
    def test_given_more_than_twenty_contracts_when_read_then_the_body_cursor_is_followed(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([]))
        http_mocker.post(_contracts_request(CUSTOMER), _contracts_page([f"c{n}" for n in range(20)], cursor="next-20"))
        http_mocker.post(_contracts_request(CUSTOMER, cursor="next-20"), _contracts_page(["c20"]))

        output = read(SourceMetronome(), config(), catalog("contracts", sync_mode=SyncMode.full_refresh))

        assert [message.record.data["id"] for message in output.records] == [f"c{n}" for n in range(21)]
        assert {message.record.data["customer_id"] for message in output.records} == {CUSTOMER}


class TestBalances:
    @HttpMocker()
    def test_given_two_pages_when_read_then_limit_and_next_page_go_in_the_body_and_customer_id_is_added(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer()]))
        http_mocker.get(customers_request(only_archived=True), page([]))
        first = {**BALANCE_FLAGS, "customer_id": CUSTOMER, "limit": 25}
        http_mocker.post(HttpRequest(BALANCES_URL, body=first), page([{"id": "commit-1", "type": "PREPAID"}], next_page="b2"))
        http_mocker.post(HttpRequest(BALANCES_URL, body={**first, "next_page": "b2"}), page([{"id": "credit-1", "type": "CREDIT"}]))

        output = read(SourceMetronome(), config(), catalog("balances", sync_mode=SyncMode.full_refresh))

        assert [(message.record.data["id"], message.record.data["customer_id"]) for message in output.records] == [("commit-1", CUSTOMER), ("credit-1", CUSTOMER)]

    @HttpMocker()
    def test_given_a_404_for_a_later_customer_when_read_then_only_that_customer_is_skipped(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(), page([customer(), customer(OTHER_CUSTOMER, "Gone")]))
        http_mocker.get(customers_request(only_archived=True), page([]))
        http_mocker.post(HttpRequest(BALANCES_URL, body={**BALANCE_FLAGS, "customer_id": CUSTOMER, "limit": 25}), page([{"id": "commit-1"}]))
        http_mocker.post(HttpRequest(BALANCES_URL, body={**BALANCE_FLAGS, "customer_id": OTHER_CUSTOMER, "limit": 25}), error(404, "Customer not found"))

        output = read(SourceMetronome(), config(max_concurrency=1), catalog("balances", sync_mode=SyncMode.full_refresh))

        assert [message.record.data["id"] for message in output.records] == ["commit-1"]
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert any(f"skipping customer_id {OTHER_CUSTOMER}" in warning for warning in warnings)
        assert not any(warning.startswith("Skipping the balances stream") for warning in warnings)
