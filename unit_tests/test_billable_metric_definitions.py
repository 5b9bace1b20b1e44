"""billable_metric_definitions: the account's metric catalog from GET /v1/billable-metrics with
archived metrics included, read whole every sync. Every account has metrics: a 403 there is a
rejected token, not a missing feature."""

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from unit_tests.builders import TOKEN, catalog, config, error, list_request, page

PATH = "/v1/billable-metrics"


def _metric(metric_id: str, archived_at=None) -> dict:
    return {"id": metric_id, "name": "CPU hours", "aggregation_type": "SUM", "group_keys": [["region"]], "archived_at": archived_at}


class TestFullRefresh:
    @HttpMocker()
    def test_given_archived_metrics_over_two_pages_when_read_then_all_are_emitted_as_served(self, http_mocker: HttpMocker = None):
        http_mocker.get(list_request(PATH, include_archived="true"), page([_metric("m1")], next_page="p2"))
        http_mocker.get(list_request(PATH, include_archived="true", next_page="p2"), page([_metric("m2", archived_at="2024-02-01T00:00:00Z")]))

        output = read(SourceMetronome(), config(), catalog("billable_metric_definitions", sync_mode=SyncMode.full_refresh))

        assert [message.record.data["id"] for message in output.records] == ["m1", "m2"]
        assert output.records[1].record.data["archived_at"] == "2024-02-01T00:00:00Z"
        assert output.records[0].record.data["group_keys"] == [["region"]]
        assert not output.errors


class TestRejectedToken:
    @HttpMocker()
    def test_given_a_403_when_read_then_the_sync_stops_with_a_config_error_that_does_not_print_the_token(self, http_mocker: HttpMocker = None):
        http_mocker.get(list_request(PATH, include_archived="true"), error(403, "Forbidden"))

        output = read(SourceMetronome(), config(), catalog("billable_metric_definitions", sync_mode=SyncMode.full_refresh), expecting_exception=True)

        assert [error.trace.error.failure_type for error in output.errors] == [FailureType.config_error]
        assert output.records == []
        assert TOKEN not in "".join(str(message) for message in output.get_message_iterator()) + (output.stderr or "")
