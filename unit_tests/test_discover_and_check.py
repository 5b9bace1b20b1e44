"""discover: the streams, their sync modes, keys and cursors; check: one cheap request, and a
status that says what is wrong."""

import logging

from airbyte_cdk.models import Status, SyncMode, Type
from airbyte_cdk.test.mock_http import HttpMocker

from source_metronome import SourceMetronome
from source_metronome.run import MetronomeEntrypoint
from unit_tests.builders import TOKEN, config, customer, customers_request, discovered, error, page

USAGE = "usage_with_groups"
LINE_ITEMS = "customer_cost_line_items"


def _check(cfg):
    source = SourceMetronome()
    messages = list(MetronomeEntrypoint(source).check(source.spec(logging.getLogger()), cfg))
    return next(message.connectionStatus for message in messages if message.type == Type.CONNECTION_STATUS)


class TestDiscover:
    def test_given_day_windows_then_usage_and_costs_are_incremental_with_non_null_keys_and_source_cursors(self):
        streams = discovered(config())

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

    def test_then_customers_metrics_and_line_items_have_their_keys_and_modes(self):
        streams = discovered(config())

        assert streams["customers"].source_defined_primary_key == [["id"]]
        assert streams["billable_metrics"].source_defined_primary_key == [["customer_id"], ["id"]]
        assert [mode.value for mode in streams["customers"].supported_sync_modes] == ["full_refresh"]
        line_items = streams[LINE_ITEMS]
        assert line_items.source_defined_primary_key == [["customer_id"], ["start_timestamp"], ["credit_type_id"], ["line_item_id"]]
        assert line_items.default_cursor_field == ["end_timestamp"]

    def test_given_none_window_then_usage_is_full_refresh_only_and_says_why(self):
        usage = discovered(config(window_size="NONE"))["usage_with_groups"]

        assert usage.supported_sync_modes == [SyncMode.full_refresh]
        assert "full refresh only" in usage.json_schema["description"]

    def test_given_current_period_then_usage_is_full_refresh_only_and_says_why(self):
        usage = discovered(config(current_period=True))[USAGE]

        assert [mode.value for mode in usage.supported_sync_modes] == ["full_refresh"]
        assert "current billing period" in usage.json_schema["description"]


class TestCheck:
    @HttpMocker()
    def test_given_a_valid_token_then_one_cheap_request_and_succeeded(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(limit=1), page([customer()], next_page="more"))

        status = _check(config())

        assert status.status == Status.SUCCEEDED

    @HttpMocker()
    def test_given_a_rejected_token_then_failed_with_metronomes_message(self, http_mocker: HttpMocker = None):
        http_mocker.get(customers_request(limit=1), error(401, "Unauthorized: invalid token"))

        status = _check(config())

        assert status.status == Status.FAILED
        assert status.message == "Metronome rejected the API token (401): Unauthorized: invalid token"
        assert TOKEN not in status.message

    def test_given_an_unreachable_base_url_then_failed_naming_the_url(self):
        status = _check(config(base_url="http://127.0.0.1:9"))

        assert status.status == Status.FAILED
        assert status.message.startswith("Could not reach Metronome at http://127.0.0.1:9")

    def test_given_an_invalid_config_then_failed_with_the_config_rule_not_the_schema_wording(self):
        status = _check(config(page_size=101))

        assert status.status == Status.FAILED
        assert status.message == "page_size must be a whole number from 1 to 100, not 101."
