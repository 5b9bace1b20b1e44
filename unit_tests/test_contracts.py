"""contracts: POST /v2/contracts/list per customer with include_archived, 20 a page (Metronome's
limit), paged by a cursor in the body; full refresh only. contract_edits reads the same pages
(test_contract_edits.py)."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.builders import (
    CUSTOMER,
    assert_skipped_as_a_feature_off,
    config,
    contracts_page,
    contracts_request,
    customer,
    error,
    last_state,
    mock_every_customer,
    read_stream,
)


class TestFullRefresh:
    @HttpMocker()
    def test_given_more_than_twenty_contracts_when_read_then_the_body_cursor_is_followed(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()])
        http_mocker.post(contracts_request(CUSTOMER), contracts_page(CUSTOMER, [f"c{n}" for n in range(20)], cursor="next-20"))
        http_mocker.post(contracts_request(CUSTOMER, cursor="next-20"), contracts_page(CUSTOMER, ["c20"]))

        output = read_stream("contracts", config(), sync_mode=SyncMode.full_refresh)

        assert [message.record.data["id"] for message in output.records] == [f"c{n}" for n in range(21)]
        assert {message.record.data["customer_id"] for message in output.records} == {CUSTOMER}
        assert last_state(output) == {"complete": True}


class TestFeatureOff:
    @HttpMocker()
    def test_given_an_account_without_contracts_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()])
        http_mocker.post(contracts_request(CUSTOMER), error(403, "Contracts are not enabled for this account"))

        output = read_stream("contracts", config(), sync_mode=SyncMode.full_refresh)

        assert_skipped_as_a_feature_off(output, "contracts")
