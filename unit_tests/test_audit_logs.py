"""audit_logs: GET /v1/auditLogs (sort=date_asc), incremental on `timestamp` from the saved timestamp
less an hour, or from start_date in a full refresh. Its documented end is an empty page handing back
the token it was sent (metronome-sdk's resources/v1/audit_logs.py), not a fault."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.builders import BASE, config, last_state, page, read_stream, warnings

AUDIT_URL = f"{BASE}/auditLogs"


def _audit_request(**params: str) -> HttpRequest:
    return HttpRequest(AUDIT_URL, query_params={"sort": "date_asc", "limit": "100", **params})


def _entry(entry_id: str, timestamp: str) -> dict:
    return {"id": entry_id, "timestamp": timestamp, "action": "update", "resource_type": "contract", "resource_id": "c-1"}


def _saved(timestamp: str):
    return StateBuilder().with_stream_state("audit_logs", {"timestamp": timestamp}).build()


class TestIncremental:
    @HttpMocker()
    def test_given_no_state_when_read_then_the_window_starts_at_start_date_on_the_first_request_only(self, http_mocker: HttpMocker = None):
        http_mocker.get(_audit_request(starting_on="2024-03-01T00:00:00+00:00"), page([_entry("a", "2024-03-02T10:00:00+00:00")], next_page="p2"))
        http_mocker.get(_audit_request(next_page="p2"), page([_entry("b", "2024-03-03T10:00:00Z")]))

        output = read_stream("audit_logs", config())

        assert [message.record.data["id"] for message in output.records] == ["a", "b"]
        assert last_state(output) == {"timestamp": "2024-03-03T10:00:00+00:00"}

    @HttpMocker()
    def test_given_a_saved_timestamp_when_read_incrementally_then_the_hour_before_it_is_read_again(self, http_mocker: HttpMocker = None):
        http_mocker.get(_audit_request(starting_on="2024-03-10T09:30:00+00:00"), page([_entry("old", "2024-03-10T10:00:00+00:00")]))

        output = read_stream("audit_logs", config(), _saved("2024-03-10T10:30:00+00:00"))

        assert [message.record.data["id"] for message in output.records] == ["old"]
        # An entry re-read from the lookback does not move the cursor back.
        assert last_state(output) == {"timestamp": "2024-03-10T10:30:00+00:00"}


class TestFullRefresh:
    @HttpMocker()
    def test_given_a_saved_timestamp_when_full_refresh_then_it_reads_from_start_date(self, http_mocker: HttpMocker = None):
        http_mocker.get(_audit_request(starting_on="2024-03-01T00:00:00+00:00"), page([_entry("a", "2024-03-02T10:00:00+00:00")]))

        output = read_stream("audit_logs", config(), _saved("2024-03-10T10:30:00+00:00"), sync_mode=SyncMode.full_refresh)

        assert [message.record.data["id"] for message in output.records] == ["a"]


class TestEndOfTheList:
    @HttpMocker()
    def test_given_an_empty_last_page_with_a_token_when_read_then_the_list_ends_without_a_warning(self, http_mocker: HttpMocker = None):
        http_mocker.get(_audit_request(starting_on="2024-03-01T00:00:00+00:00"), page([_entry("a", "2024-03-02T10:00:00+00:00")], next_page="p2"))
        http_mocker.get(_audit_request(next_page="p2"), page([], next_page="p3"))

        output = read_stream("audit_logs", config())

        assert [message.record.data["id"] for message in output.records] == ["a"]
        assert not [log for log in output.logs if log.log.level.value == "WARN"]

    @HttpMocker()
    def test_given_the_documented_end_an_empty_page_handing_back_the_token_it_was_sent_when_read_then_no_warning(self, http_mocker: HttpMocker = None):
        # metronome-sdk's resources/v1/audit_logs.py: "An empty data array means no new logs yet;
        # continue polling with the same next_page token".
        http_mocker.get(_audit_request(starting_on="2024-03-01T00:00:00+00:00"), page([_entry("a", "2024-03-02T10:00:00+00:00")], next_page="p2"))
        http_mocker.get(_audit_request(next_page="p2"), page([], next_page="p2"))

        output = read_stream("audit_logs", config())

        assert [message.record.data["id"] for message in output.records] == ["a"]
        assert warnings(output) == []
        assert last_state(output) == {"timestamp": "2024-03-02T10:00:00+00:00"}

    @HttpMocker()
    def test_given_a_page_of_entries_handing_back_the_token_it_was_sent_when_read_then_pagination_ends_with_a_warning(self, http_mocker: HttpMocker = None):
        http_mocker.get(_audit_request(starting_on="2024-03-01T00:00:00+00:00"), page([_entry("a", "2024-03-02T10:00:00+00:00")], next_page="p2"))
        http_mocker.get(_audit_request(next_page="p2"), page([_entry("b", "2024-03-03T10:00:00+00:00")], next_page="p2"))

        output = read_stream("audit_logs", config())

        assert [message.record.data["id"] for message in output.records] == ["a", "b"]
        assert warnings(output) == ["Metronome's GET /v1/auditLogs answered with the same next_page token it was sent; pagination ended there."]
