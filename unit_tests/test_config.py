from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_metronome.config import parse_config, spec_properties
from unit_tests.builders import CUSTOMER, METRIC, TOKEN, config


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"api_token": ""}, "api_token"),
        ({"start_date": None}, "start_date"),
        ({"start_date": "yesterday-ish"}, "start_date"),
        ({"start_date": "2024-13-45"}, "start_date"),
        ({"end_date": "not a date"}, "end_date"),
        ({"start_date": "2024-03-10", "end_date": "2024-03-01"}, "end_date"),
        ({"start_date": "2024-03-10", "end_date": "2024-03-10"}, "end_date"),
        ({"customer_ids": ["not-a-uuid"]}, "customer_ids"),
        ({"customer_ids": CUSTOMER}, "customer_ids"),
        ({"billable_metric_ids": [METRIC, "1234"]}, "billable_metric_ids"),
        ({"include_archived_customers": "yes"}, "include_archived_customers"),
        ({"window_size": "WEEK"}, "window_size"),
        ({"window_size": "day"}, "window_size"),
        ({"breakdown_window_size": "NONE"}, "breakdown_window_size"),
        ({"group_by": {"values": ["US"]}}, "group_by.key"),
        ({"group_by": {"key": "  "}}, "group_by.key"),
        ({"group_by": {"key": "region", "values": "US"}}, "group_by.values"),
        ({"group_by": {"key": "region", "values": ["US", ""]}}, "group_by.values"),
        ({"group_by": "region"}, "group_by"),
        ({"lookback_days": -1}, "lookback_days"),
        ({"lookback_days": 1.5}, "lookback_days"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": "100"}, "page_size"),
        ({"base_url": "http://api.example.com"}, "base_url"),
        ({"base_url": "ftp://api.example.com"}, "base_url"),
        ({"base_url": "not a url"}, "base_url"),
    ],
)
def test_given_invalid_value_when_parse_config_then_config_error_names_the_key_in_one_sentence(overrides, key):
    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(config(**overrides))

    error = raised.value
    assert error.failure_type == FailureType.config_error
    assert error.message.startswith(key), error.message
    assert error.message.count(". ") == 0 and error.message.endswith("."), "one sentence"
    assert TOKEN not in error.message


def test_given_dates_off_midnight_when_parse_config_then_start_is_floored_and_end_is_rounded_up():
    settings = parse_config(config(start_date="2024-03-01T17:45:00Z", end_date="2024-03-05T00:00:01+00:00"))

    assert settings.start_date == datetime(2024, 3, 1, tzinfo=timezone.utc)
    assert settings.end_date == datetime(2024, 3, 6, tzinfo=timezone.utc)


def test_given_date_time_with_offset_when_parse_config_then_it_is_read_in_utc():
    settings = parse_config(config(start_date="2024-03-02T01:00:00+05:00"))

    assert settings.start_date == datetime(2024, 3, 1, tzinfo=timezone.utc)


def test_given_minimal_config_when_parse_config_then_documented_defaults_apply():
    settings = parse_config(config())

    assert settings.end_date is None
    assert settings.customer_ids == () and settings.billable_metric_ids == ()
    assert settings.include_archived_customers is False
    assert settings.window_size == "DAY"
    assert settings.breakdown_window_size == "DAY"
    assert settings.grouping is None
    assert settings.lookback == timedelta(days=7)
    assert settings.page_size == 100
    assert settings.base_url == "https://api.metronome.com"


def test_given_ids_in_any_case_and_repeated_when_parse_config_then_canonical_and_unique():
    settings = parse_config(config(customer_ids=[CUSTOMER.upper(), CUSTOMER]))

    assert settings.customer_ids == (CUSTOMER,)


@pytest.mark.parametrize("url", ["http://localhost:8123", "http://127.0.0.1:8123/", "https://proxy.example.com/metronome"])
def test_given_https_or_local_http_base_url_when_parse_config_then_accepted_without_trailing_slash(url):
    assert parse_config(config(base_url=url)).base_url == url.rstrip("/")


def test_given_group_by_with_values_when_parse_config_then_request_form_carries_them():
    settings = parse_config(config(group_by={"key": "region", "values": ["US-East", "EU"]}))

    assert settings.grouping.as_request() == {"group_by": {"key": "region", "values": ["US-East", "EU"]}}
    assert parse_config(config(group_by={"key": "region", "values": []})).grouping.as_request() == {"group_by": {"key": "region"}}


class TestSpecAndConfigAgree:
    """spec.yaml holds the per-field limits; parse_config reads them from there. Walking the spec
    checks that every limit it declares is enforced with a message naming the key, and that every
    default it shows is the one the connector uses."""

    SPEC = spec_properties()
    # Settings whose Python name differs from the spec's key, and how to read them back.
    READ_BACK = {"lookback_days": lambda settings: settings.lookback.days}

    @pytest.mark.parametrize("key", [key for key, schema in SPEC.items() if "minimum" in schema])
    def test_below_the_spec_minimum_is_a_config_error_naming_the_key(self, key):
        self._assert_rejected(key, self.SPEC[key]["minimum"] - 1)

    @pytest.mark.parametrize("key", [key for key, schema in SPEC.items() if "maximum" in schema])
    def test_above_the_spec_maximum_is_a_config_error_naming_the_key(self, key):
        self._assert_rejected(key, self.SPEC[key]["maximum"] + 1)

    @pytest.mark.parametrize("key", [key for key, schema in SPEC.items() if "enum" in schema])
    def test_outside_the_spec_enum_is_a_config_error_naming_the_key(self, key):
        self._assert_rejected(key, "NOT-" + self.SPEC[key]["enum"][0])

    @pytest.mark.parametrize("key", [key for key, schema in SPEC.items() if "default" in schema])
    def test_the_spec_default_is_the_connector_default(self, key):
        settings = parse_config(_minimal_config())
        read_back = self.READ_BACK.get(key, lambda parsed: getattr(parsed, key))
        assert read_back(settings) == self.SPEC[key]["default"]

    @pytest.mark.parametrize("key", [key for key, schema in SPEC.items() if "minimum" in schema or "enum" in schema])
    def test_values_the_spec_allows_are_accepted(self, key):
        schema = self.SPEC[key]
        value = schema["enum"][-1] if "enum" in schema else schema.get("maximum", schema["minimum"])
        parse_config({**_minimal_config(), key: value})

    def _assert_rejected(self, key, value):
        with pytest.raises(AirbyteTracedException) as raised:
            parse_config({**_minimal_config(), key: value})
        assert raised.value.failure_type == FailureType.config_error
        assert raised.value.message.startswith(key)


def _minimal_config():
    return {"api_token": TOKEN, "start_date": "2024-03-01"}
