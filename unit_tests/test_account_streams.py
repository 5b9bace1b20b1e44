"""Account-wide lists: read whole, every page, in a full refresh; the audit log from its saved
timestamp; and streams of a feature the account lacks skipped."""

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest
from airbyte_cdk.test.state_builder import StateBuilder

from source_metronome import SourceMetronome
from unit_tests.builders import BASE, CUSTOMER, OTHER_CUSTOMER, catalog, config, customer, customers_request, error, page, warnings


class TestFullRefresh:
    @HttpMocker()
    def test_given_two_pages_when_read_then_both_are_emitted_in_one_sync(self, http_mocker: HttpMocker = None):
        # The CDK would read one page per sync ("resumable full refresh"): streams/base.py opts out.
        http_mocker.get(customers_request(), page([customer()], next_page="p2"))
        http_mocker.get(customers_request(next_page="p2"), page([customer(OTHER_CUSTOMER, "Other")]))
        http_mocker.get(customers_request(only_archived=True), page([]))

        output = read(SourceMetronome(), config(), catalog("customers", sync_mode=SyncMode.full_refresh))

        assert [message.record.data["id"] for message in output.records] == [CUSTOMER, OTHER_CUSTOMER]
        assert not output.errors


AUDIT_URL = f"{BASE}/auditLogs"


def _audit_request(**params: str) -> HttpRequest:
    return HttpRequest(AUDIT_URL, query_params={"sort": "date_asc", "limit": "100", **params})


def _entry(entry_id: str, timestamp: str) -> dict:
    return {"id": entry_id, "timestamp": timestamp, "action": "update", "resource_type": "contract", "resource_id": "c-1"}


class TestAuditLogs:
    @HttpMocker()
    def test_given_no_state_when_read_then_the_window_starts_at_start_date_on_the_first_request_only(self, http_mocker: HttpMocker = None):
        http_mocker.get(_audit_request(starting_on="2024-03-01T00:00:00+00:00"), page([_entry("a", "2024-03-02T10:00:00+00:00")], next_page="p2"))
        http_mocker.get(_audit_request(next_page="p2"), page([_entry("b", "2024-03-03T10:00:00Z")]))

        output = read(SourceMetronome(), config(), catalog("audit_logs"))

        assert [message.record.data["id"] for message in output.records] == ["a", "b"]
        assert output.most_recent_state.stream_state.__dict__ == {"timestamp": "2024-03-03T10:00:00+00:00"}

    @HttpMocker()
    def test_given_a_saved_timestamp_when_read_incrementally_then_the_hour_before_it_is_read_again(self, http_mocker: HttpMocker = None):
        http_mocker.get(_audit_request(starting_on="2024-03-10T09:30:00+00:00"), page([_entry("old", "2024-03-10T10:00:00+00:00")]))

        state = StateBuilder().with_stream_state("audit_logs", {"timestamp": "2024-03-10T10:30:00+00:00"}).build()
        output = read(SourceMetronome(), config(), catalog("audit_logs"), state)

        assert [message.record.data["id"] for message in output.records] == ["old"]
        # An entry re-read from the lookback does not move the cursor back.
        assert output.most_recent_state.stream_state.__dict__ == {"timestamp": "2024-03-10T10:30:00+00:00"}

    @HttpMocker()
    def test_given_a_saved_timestamp_when_full_refresh_then_it_reads_from_start_date(self, http_mocker: HttpMocker = None):
        http_mocker.get(_audit_request(starting_on="2024-03-01T00:00:00+00:00"), page([_entry("a", "2024-03-02T10:00:00+00:00")]))

        state = StateBuilder().with_stream_state("audit_logs", {"timestamp": "2024-03-10T10:30:00+00:00"}).build()
        output = read(SourceMetronome(), config(), catalog("audit_logs", sync_mode=SyncMode.full_refresh), state)

        assert [message.record.data["id"] for message in output.records] == ["a"]

    @HttpMocker()
    def test_given_an_empty_last_page_with_a_token_when_read_then_the_list_ends_without_a_warning(self, http_mocker: HttpMocker = None):
        http_mocker.get(_audit_request(starting_on="2024-03-01T00:00:00+00:00"), page([_entry("a", "2024-03-02T10:00:00+00:00")], next_page="p2"))
        http_mocker.get(_audit_request(next_page="p2"), page([], next_page="p3"))

        output = read(SourceMetronome(), config(), catalog("audit_logs"))

        assert [message.record.data["id"] for message in output.records] == ["a"]
        assert not [log for log in output.logs if log.log.level.value == "WARN"]

    @HttpMocker()
    def test_given_the_documented_end_an_empty_page_handing_back_the_token_it_was_sent_when_read_then_no_warning(self, http_mocker: HttpMocker = None):
        # metronome-sdk's resources/v1/audit_logs.py: "An empty data array means no new logs yet;
        # continue polling with the same next_page token".
        http_mocker.get(_audit_request(starting_on="2024-03-01T00:00:00+00:00"), page([_entry("a", "2024-03-02T10:00:00+00:00")], next_page="p2"))
        http_mocker.get(_audit_request(next_page="p2"), page([], next_page="p2"))

        output = read(SourceMetronome(), config(), catalog("audit_logs"))

        assert [message.record.data["id"] for message in output.records] == ["a"]
        assert warnings(output) == []
        assert output.most_recent_state.stream_state.__dict__ == {"timestamp": "2024-03-02T10:00:00+00:00"}

    @HttpMocker()
    def test_given_a_page_of_entries_handing_back_the_token_it_was_sent_when_read_then_pagination_ends_with_a_warning(self, http_mocker: HttpMocker = None):
        http_mocker.get(_audit_request(starting_on="2024-03-01T00:00:00+00:00"), page([_entry("a", "2024-03-02T10:00:00+00:00")], next_page="p2"))
        http_mocker.get(_audit_request(next_page="p2"), page([_entry("b", "2024-03-03T10:00:00+00:00")], next_page="p2"))

        output = read(SourceMetronome(), config(), catalog("audit_logs"))

        assert [message.record.data["id"] for message in output.records] == ["a", "b"]
        assert warnings(output) == ["Metronome's GET /v1/auditLogs answered with the same next_page token it was sent; pagination ended there."]


class TestBrokenPaginationOfOtherLists:
    """Only the audit log ends with an empty page carrying a token: elsewhere either is a fault."""

    @HttpMocker()
    def test_given_a_page_handing_back_the_token_it_was_sent_when_read_then_pagination_ends_with_a_warning(self, http_mocker: HttpMocker = None):
        http_mocker.get(_credit_types_request(), page([{"id": "usd", "name": "USD (cents)"}], next_page="p2"))
        http_mocker.get(_credit_types_request(next_page="p2"), page([{"id": "eur", "name": "EUR (cents)"}], next_page="p2"))

        output = read(SourceMetronome(), config(), catalog("credit_types", sync_mode=SyncMode.full_refresh))

        assert [message.record.data["id"] for message in output.records] == ["usd", "eur"]
        assert warnings(output) == ["Metronome's GET /v1/credit-types/list answered with the same next_page token it was sent; pagination ended there."]

    @HttpMocker()
    def test_given_an_empty_page_with_a_token_when_read_then_pagination_ends_with_a_warning(self, http_mocker: HttpMocker = None):
        http_mocker.get(_credit_types_request(), page([{"id": "usd", "name": "USD (cents)"}], next_page="p2"))
        http_mocker.get(_credit_types_request(next_page="p2"), page([], next_page="p3"))

        output = read(SourceMetronome(), config(), catalog("credit_types", sync_mode=SyncMode.full_refresh))

        assert [message.record.data["id"] for message in output.records] == ["usd"]
        assert warnings(output) == ["Metronome's GET /v1/credit-types/list answered an empty page that still carries a next_page token; pagination ended there."]


def _credit_types_request(**params: str) -> HttpRequest:
    return HttpRequest(f"{BASE}/credit-types/list", query_params={"limit": "100", **params})


class TestFeatureOff:
    @pytest.mark.parametrize("status", [403, 404])
    def test_given_an_account_without_the_feature_when_read_then_the_stream_is_skipped_with_one_warning(self, status: int):
        with HttpMocker() as http_mocker:
            products = HttpRequest(f"{BASE}/contract-pricing/products/list", query_params={"limit": "100"}, body={"archive_filter": "ALL"})
            http_mocker.post(products, error(status, "Contract pricing is not enabled"))
            http_mocker.get(HttpRequest(f"{BASE}/credit-types/list", query_params={"limit": "100"}), page([{"id": "usd", "name": "USD (cents)"}]))

            output = read(SourceMetronome(), config(), catalog("products", "credit_types", sync_mode=SyncMode.full_refresh))

        assert [message.record.stream for message in output.records] == ["credit_types"]
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        assert len([warning for warning in warnings if warning.startswith("Skipping the products stream")]) == 1
        assert not output.errors

    @HttpMocker()
    def test_given_a_403_from_an_endpoint_every_account_has_when_read_then_the_token_is_rejected(self, http_mocker: HttpMocker = None):
        http_mocker.get(HttpRequest(f"{BASE}/credit-types/list", query_params={"limit": "100"}), error(403, "Forbidden"))

        output = read(SourceMetronome(), config(), catalog("credit_types", sync_mode=SyncMode.full_refresh), expecting_exception=True)

        assert [error.trace.error.failure_type for error in output.errors] == [FailureType.config_error]
