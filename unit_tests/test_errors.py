import logging
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction

from source_metronome.errors import MetronomeBackoffStrategy, MetronomeErrorHandler


def _response(status: int, headers=None, body=b'{"message": "nope"}') -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = body
    response.request = requests.Request("GET", "https://api.metronome.com/v1/customers").prepare()
    return response


HANDLER = MetronomeErrorHandler(logging.getLogger("test"))


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504, 520])
def test_given_transient_status_when_interpreted_then_retried(status):
    assert HANDLER.interpret_response(_response(status)).response_action == ResponseAction.RETRY


def test_given_429_when_interpreted_then_rate_limited():
    assert HANDLER.interpret_response(_response(429)).response_action == ResponseAction.RATE_LIMITED


@pytest.mark.parametrize("exception", [requests.ConnectionError("reset"), requests.ReadTimeout("slow"), requests.exceptions.ChunkedEncodingError("cut")])
def test_given_connection_error_or_timeout_when_interpreted_then_retried(exception):
    assert HANDLER.interpret_response(exception).response_action == ResponseAction.RETRY


@pytest.mark.parametrize("status", [401, 403])
def test_given_rejected_token_when_interpreted_then_config_error_with_metronomes_message(status):
    resolution = HANDLER.interpret_response(_response(status))

    assert resolution.response_action == ResponseAction.FAIL
    assert resolution.failure_type == FailureType.config_error
    assert resolution.error_message == f"Metronome rejected the API token ({status}): nope"


@pytest.mark.parametrize("status", [400, 404, 422])
def test_given_refusal_no_retry_can_fix_when_interpreted_then_handed_back_to_the_stream_naming_the_endpoint(status):
    resolution = HANDLER.interpret_response(_response(status))

    assert resolution.response_action == ResponseAction.IGNORE
    assert resolution.error_message == f"Metronome answered {status} to GET /v1/customers: nope"


@pytest.mark.parametrize("body", [b'{"data": [{"id": 1}', b"<html>Bad gateway</html>", b'{"items": []}', b""])
def test_given_success_status_with_a_body_that_is_not_a_page_when_interpreted_then_retried(body):
    resolution = HANDLER.interpret_response(_response(200, body=body))

    assert resolution.response_action == ResponseAction.RETRY
    assert "not a page of data" in resolution.error_message


def test_given_success_with_a_page_when_interpreted_then_success():
    assert HANDLER.interpret_response(_response(200, body=b'{"data": [], "next_page": null}')).response_action == ResponseAction.SUCCESS


def test_given_should_retry_header_when_interpreted_then_it_overrides_the_status():
    assert HANDLER.interpret_response(_response(400, {"x-should-retry": "true"})).response_action == ResponseAction.RETRY
    assert HANDLER.interpret_response(_response(503, {"x-should-retry": "false"})).response_action == ResponseAction.FAIL


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after-ms": "250", "retry-after": "30"}, 0.25),
    ],
)
def test_given_server_wait_headers_when_backoff_then_honoured(headers, expected):
    assert MetronomeBackoffStrategy().backoff_time(_response(429, headers), attempt_count=1) == expected


def test_given_retry_after_as_http_date_when_backoff_then_seconds_until_then():
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)

    wait = MetronomeBackoffStrategy().backoff_time(_response(429, {"retry-after": when}), attempt_count=1)

    assert 17 <= wait <= 20


@pytest.mark.parametrize("headers", [{}, {"retry-after": "3600"}, {"retry-after": "soon"}])
def test_given_no_usable_server_wait_when_backoff_then_exponential_capped_with_jitter(headers):
    strategy = MetronomeBackoffStrategy()

    waits = [strategy.backoff_time(_response(429, headers), attempt_count=attempt) for attempt in range(1, 8)]

    assert 0.375 <= waits[0] <= 0.5
    assert 0.75 <= waits[1] <= 1.0
    assert all(6.0 <= wait <= 8.0 for wait in waits[4:]), waits
