import logging

from airbyte_cdk.models import Status, SyncMode, Type
from airbyte_cdk.test.entrypoint_wrapper import discover
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from source_metronome.run import MetronomeEntrypoint
from unit_tests.builders import TOKEN, config, customer, customers_request, error, page


def _check(cfg):
    source = SourceMetronome()
    messages = list(MetronomeEntrypoint(source).check(source.spec(logging.getLogger()), cfg))
    return next(message.connectionStatus for message in messages if message.type == Type.CONNECTION_STATUS)


def _streams(cfg):
    return {stream.name: stream for stream in discover(SourceMetronome(), cfg).catalog.catalog.streams}


def test_given_day_windows_when_discover_then_both_streams_incremental_with_non_null_keys_and_source_cursors():
    streams = _streams(config())

    usage, costs = streams["usage_with_groups"], streams["customer_costs"]
    assert usage.supported_sync_modes == [SyncMode.full_refresh, SyncMode.incremental]
    assert usage.source_defined_cursor and usage.default_cursor_field == ["ending_before"]
    assert usage.source_defined_primary_key == [["customer_id"], ["billable_metric_id"], ["window_size"], ["group_id"], ["starting_on"]]
    assert costs.supported_sync_modes == [SyncMode.full_refresh, SyncMode.incremental]
    assert costs.default_cursor_field == ["end_timestamp"]
    assert costs.source_defined_primary_key == [["customer_id"], ["start_timestamp"]]
    for stream in streams.values():
        for key in stream.source_defined_primary_key:
            assert key[0] in stream.json_schema["required"], f"{stream.name}.{key[0]} must never be null"


def test_given_none_window_when_discover_then_usage_is_full_refresh_only_and_says_why():
    usage = _streams(config(window_size="NONE"))["usage_with_groups"]

    assert usage.supported_sync_modes == [SyncMode.full_refresh]
    assert "full refresh only" in usage.json_schema["description"]


@HttpMocker()
def test_given_valid_token_when_check_then_one_cheap_request_and_succeeded(http_mocker: HttpMocker = None):
    http_mocker.get(customers_request(limit=1), page([customer()], next_page="more"))

    status = _check(config())

    assert status.status == Status.SUCCEEDED


@HttpMocker()
def test_given_rejected_token_when_check_then_failed_with_metronomes_message(http_mocker: HttpMocker = None):
    http_mocker.get(customers_request(limit=1), error(401, "Unauthorized: invalid token"))

    status = _check(config())

    assert status.status == Status.FAILED
    assert status.message == "Metronome rejected the API token (401): Unauthorized: invalid token"
    assert TOKEN not in status.message


def test_given_unreachable_base_url_when_check_then_failed_naming_the_url():
    status = _check(config(base_url="http://127.0.0.1:9"))

    assert status.status == Status.FAILED
    assert status.message.startswith("Could not reach Metronome at http://127.0.0.1:9")


def test_given_invalid_config_when_check_then_failed_with_the_config_rule_not_the_schema_wording():
    status = _check(config(page_size=101))

    assert status.status == Status.FAILED
    assert status.message == "page_size must be a whole number from 1 to 100, not 101."
