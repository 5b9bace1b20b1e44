"""contract_edits: one POST /v2/contracts/getEditHistory per contract of each customer, archived
contracts included, with the contracts list shared with the contracts stream."""

import json

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_metronome import SourceMetronome
from unit_tests.builders import BASE, CUSTOMER, OTHER_CUSTOMER, catalog, catalog_of, config, contracts_page, contracts_request, customer, error, mock_every_customer

EDITS_URL = f"{BASE.removesuffix('/v1')}/v2/contracts/getEditHistory"


def _edits_request(customer_id: str, contract_id: str) -> HttpRequest:
    # No page parameters at all: the endpoint answers every edit at once.
    return HttpRequest(EDITS_URL, query_params={}, body={"customer_id": customer_id, "contract_id": contract_id})


def _edits(*ids: str) -> HttpResponse:
    return HttpResponse(json.dumps({"data": [{"id": edit_id, "timestamp": "2024-01-02T00:00:00+00:00"} for edit_id in ids]}))


def _read(*streams: str, **overrides):
    return read(SourceMetronome(), config(**overrides), catalog(*streams, sync_mode=SyncMode.full_refresh))


class TestFullRefresh:
    @HttpMocker()
    def test_given_contracts_on_two_pages_when_read_then_each_contracts_edits_are_asked_once_with_customer_and_contract(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(), customer(OTHER_CUSTOMER, "Other")])
        http_mocker.post(contracts_request(CUSTOMER), contracts_page(CUSTOMER, ["c1"], cursor="more"))
        http_mocker.post(contracts_request(CUSTOMER, cursor="more"), contracts_page(CUSTOMER, ["c2-archived"]))
        http_mocker.post(contracts_request(OTHER_CUSTOMER), contracts_page(OTHER_CUSTOMER, ["c3"]))
        edit_requests = []
        for customer_id, contract_id, edits in ((CUSTOMER, "c1", ["e1", "e2"]), (CUSTOMER, "c2-archived", ["e3"]), (OTHER_CUSTOMER, "c3", [])):
            edit_requests.append(_edits_request(customer_id, contract_id))
            http_mocker.post(edit_requests[-1], _edits(*edits))

        output = _read("contract_edits", max_concurrency=1)

        rows = sorted((message.record.data["id"], message.record.data["customer_id"], message.record.data["contract_id"]) for message in output.records)
        assert rows == [("e1", CUSTOMER, "c1"), ("e2", CUSTOMER, "c1"), ("e3", CUSTOMER, "c2-archived")]
        for request in edit_requests:
            http_mocker.assert_number_of_calls(request, 1)

    @HttpMocker()
    def test_given_a_contract_repeated_across_pages_when_read_then_its_edits_are_asked_once(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()])
        http_mocker.post(contracts_request(CUSTOMER), contracts_page(CUSTOMER, ["c1"], cursor="more"))
        http_mocker.post(contracts_request(CUSTOMER, cursor="more"), contracts_page(CUSTOMER, ["c1"]))
        edits = _edits_request(CUSTOMER, "c1")
        http_mocker.post(edits, _edits("e1"))

        output = _read("contract_edits")

        assert [message.record.data["id"] for message in output.records] == ["e1"]
        http_mocker.assert_number_of_calls(edits, 1)


class TestSharedPagesWithContracts:
    @HttpMocker()
    def test_given_contracts_and_contract_edits_in_one_sync_when_read_in_either_order_then_each_contracts_page_is_requested_once(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()])
        first, second = contracts_request(CUSTOMER), contracts_request(CUSTOMER, cursor="more")
        http_mocker.post(first, contracts_page(CUSTOMER, ["c1"], cursor="more"))
        http_mocker.post(second, contracts_page(CUSTOMER, ["c2"]))
        http_mocker.post(_edits_request(CUSTOMER, "c1"), _edits("e1"))
        http_mocker.post(_edits_request(CUSTOMER, "c2"), _edits("e2"))

        for order in (("contracts", "contract_edits"), ("contract_edits", "contracts")):
            output = read(SourceMetronome(), config(), catalog_of(**{stream: SyncMode.full_refresh for stream in order}))

            by_stream = {stream: sorted(message.record.data["id"] for message in output.records if message.record.stream == stream) for stream in order}
            assert by_stream == {"contracts": ["c1", "c2"], "contract_edits": ["e1", "e2"]}
        # Two syncs, one request per page each.
        http_mocker.assert_number_of_calls(first, 2)
        http_mocker.assert_number_of_calls(second, 2)


class TestFeatureOff:
    @HttpMocker()
    def test_given_an_account_without_contracts_when_read_then_the_stream_is_skipped_with_one_warning(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(), customer(OTHER_CUSTOMER, "Other")])
        http_mocker.post(contracts_request(CUSTOMER), error(403, "Contracts are not enabled for this account"))
        http_mocker.post(contracts_request(OTHER_CUSTOMER), error(403, "Contracts are not enabled for this account"))

        output = _read("contract_edits")

        assert not output.records and not output.errors
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert len(warnings) == 1 and warnings[0].startswith("Skipping the contract_edits stream: Metronome answered 403")


class TestRefusedPartitions:
    @HttpMocker()
    def test_given_one_contract_refused_after_another_was_read_then_only_that_contract_is_skipped(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer()])
        http_mocker.post(contracts_request(CUSTOMER), contracts_page(CUSTOMER, ["c1", "c2"]))
        http_mocker.post(_edits_request(CUSTOMER, "c1"), _edits("e1"))
        http_mocker.post(_edits_request(CUSTOMER, "c2"), error(404, "Contract not found"))

        output = _read("contract_edits", max_concurrency=1)

        assert [message.record.data["id"] for message in output.records] == ["e1"]
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert any("skipping customer_id" in warning and "contract_id c2" in warning for warning in warnings)
        assert not any(warning.startswith("Skipping the contract_edits stream") for warning in warnings)

    @HttpMocker()
    def test_given_a_customer_gone_after_another_was_listed_then_only_that_customers_contracts_are_skipped(self, http_mocker: HttpMocker = None):
        mock_every_customer(http_mocker, [customer(), customer(OTHER_CUSTOMER, "Gone")])
        http_mocker.post(contracts_request(CUSTOMER), contracts_page(CUSTOMER, ["c1"]))
        http_mocker.post(contracts_request(OTHER_CUSTOMER), error(404, "Customer not found"))
        http_mocker.post(_edits_request(CUSTOMER, "c1"), _edits("e1"))

        output = _read("contract_edits", max_concurrency=1)

        assert [message.record.data["id"] for message in output.records] == ["e1"] and not output.errors
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert any(f"skipping customer_id {OTHER_CUSTOMER}" in warning for warning in warnings)
        assert not any(warning.startswith("Skipping the contract_edits stream") for warning in warnings)
