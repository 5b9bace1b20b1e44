"""The HTTP exchange (http_exchange.py): what each answer means, how long a retry waits, and how a
request is retried, paced and given up on, on a fake clock against mocked HTTP; and what a sync
makes of it: retry, or stop naming the partition."""

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_metronome.errors import FeatureMissing, MetronomeUnreachable, PartitionSkipped
from source_metronome.http_exchange import (
    MESSAGE_LIMIT,
    SYNC_RETRY_LIMITS,
    Exchange,
    Outcome,
    RetryLimits,
    backoff_wait,
    classify,
    metronome_message,
)
from source_metronome.pacing import SyncBudget
from source_metronome.source import CHECK_RETRY_LIMITS
from unit_tests.builders import BASE, CUSTOMER, OTHER_CUSTOMER, TOKEN, config, cost_item, costs_request, error, page, read_stream
from unit_tests.fake_clock import FakeClock

URL = f"{BASE}/customers"
COSTS = "customer_costs"
LOGGER = logging.getLogger("test")


def _response(status: int, headers=None, body=b'{"message": "nope"}', token: str = TOKEN) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = body
    response.request = requests.Request("GET", URL, headers={"Authorization": f"Bearer {token}"}).prepare()
    return response


class TestClassify:
    @pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504, 520])
    def test_given_transient_status_when_classified_then_retried(self, status):
        assert classify(_response(status)).outcome == Outcome.TRANSIENT

    def test_given_429_when_classified_then_rate_limited(self):
        assert classify(_response(429)).outcome == Outcome.RATE_LIMITED

    @pytest.mark.parametrize("exception", [requests.ConnectionError("reset"), requests.ReadTimeout("slow"), requests.exceptions.ChunkedEncodingError("cut")])
    def test_given_connection_error_or_timeout_when_classified_then_retried(self, exception):
        assert classify(exception).outcome == Outcome.TRANSIENT

    @pytest.mark.parametrize("status", [401, 403])
    def test_given_rejected_token_when_classified_then_token_rejected_with_metronomes_message(self, status):
        verdict = classify(_response(status))

        assert verdict.outcome == Outcome.TOKEN_REJECTED
        assert verdict.message == f"Metronome rejected the API token ({status}): nope"

    @pytest.mark.parametrize("status", [400, 404, 422])
    def test_given_refusal_no_retry_can_fix_when_classified_then_handed_back_to_the_stream_naming_the_endpoint(self, status):
        verdict = classify(_response(status))

        assert verdict.outcome == Outcome.PARTITION_REFUSED
        assert verdict.message == f"Metronome answered {status} to GET /v1/customers: nope"

    @pytest.mark.parametrize("body", [b'{"data": [{"id": 1}', b"<html>Bad gateway</html>", b'{"items": []}', b""])
    def test_given_success_status_with_a_body_that_is_not_a_page_when_classified_then_retried(self, body):
        verdict = classify(_response(200, body=body))

        assert verdict.outcome == Outcome.TRANSIENT
        assert "not a page of data" in verdict.message

    def test_given_success_with_a_page_when_classified_then_the_page(self):
        verdict = classify(_response(200, body=b'{"data": [{"id": "a"}], "next_page": null}'))

        assert verdict.outcome == Outcome.PAGE
        assert verdict.page == {"data": [{"id": "a"}], "next_page": None}

    def test_given_should_retry_header_when_classified_then_it_overrides_the_status(self):
        assert classify(_response(400, {"x-should-retry": "true"})).outcome == Outcome.TRANSIENT
        assert classify(_response(503, {"x-should-retry": "false"})).outcome == Outcome.FAILED


class TestFeatureOff:
    """The one place where a 403 or 404 is taken for a feature the account lacks."""

    def test_given_a_403_from_an_endpoint_of_a_feature_when_classified_then_feature_off_even_after_it_answered(self):
        assert classify(_response(403), feature_may_be_off=True, answered_before=True).outcome == Outcome.FEATURE_OFF

    def test_given_a_404_from_an_endpoint_of_a_feature_that_never_answered_when_classified_then_feature_off(self):
        assert classify(_response(404), feature_may_be_off=True).outcome == Outcome.FEATURE_OFF

    def test_given_a_404_from_an_endpoint_of_a_feature_that_answered_before_when_classified_then_one_partition_refused(self):
        assert classify(_response(404), feature_may_be_off=True, answered_before=True).outcome == Outcome.PARTITION_REFUSED

    def test_given_a_403_from_an_endpoint_every_account_has_when_classified_then_the_token_is_rejected(self):
        assert classify(_response(403), feature_may_be_off=False).outcome == Outcome.TOKEN_REJECTED


class TestBackoff:
    @pytest.mark.parametrize(
        "headers, expected",
        [
            ({"retry-after-ms": "1500"}, 1.5),
            ({"retry-after": "7"}, 7.0),
            ({"retry-after-ms": "250", "retry-after": "30"}, 0.25),
        ],
    )
    def test_given_server_wait_headers_when_backoff_then_honoured(self, headers, expected):
        assert backoff_wait(_response(503, headers), attempt=1) == expected

    def test_given_retry_after_as_http_date_when_backoff_then_seconds_until_then(self):
        when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)

        wait = backoff_wait(_response(503, {"retry-after": when}), attempt=1)

        assert 17 <= wait <= 20

    @pytest.mark.parametrize("headers", [{}, {"retry-after": "3600"}, {"retry-after": "soon"}])
    def test_given_no_usable_server_wait_when_backoff_then_exponential_capped_with_jitter(self, headers):
        waits = [backoff_wait(_response(503, headers), attempt=attempt) for attempt in range(1, 8)]

        assert 0.375 <= waits[0] <= 0.5
        assert 0.75 <= waits[1] <= 1.0
        assert all(6.0 <= wait <= 8.0 for wait in waits[4:]), waits


@pytest.fixture
def clock(monkeypatch):
    clock = FakeClock(1000.0)
    # The CDK's APIBudget sleeps out the pace with time.sleep: on the fake clock too.
    monkeypatch.setattr("airbyte_cdk.sources.streams.call_rate.time.sleep", clock.sleep)
    return clock


def _exchange(clock, **kwargs) -> Exchange:
    budget = SyncBudget(6, LOGGER, clock=clock, sleep=clock.sleep)
    return Exchange("customers", TOKEN, budget, LOGGER, clock=clock, sleep=clock.sleep, **kwargs)


def _send(exchange: Exchange):
    return exchange.send(exchange.request("GET", URL, {"limit": 1}, None))


REQUEST = HttpRequest(URL, query_params={"limit": "1"})


class TestRetries:
    def test_given_retry_after_1_when_rate_limited_then_the_retry_waits_exactly_one_second(self, clock):
        exchange = _exchange(clock)
        with HttpMocker() as http_mocker:
            http_mocker.get(REQUEST, [error(429, "slow down", {"Retry-After": "1"}), page([{"id": "a"}])])

            assert _send(exchange)["data"] == [{"id": "a"}]

        assert [wait for wait in clock.slept if wait >= 0.5] == [pytest.approx(1.0)], "one second, not two"

    @pytest.mark.parametrize("limits", [SYNC_RETRY_LIMITS, CHECK_RETRY_LIMITS], ids=["sync", "check"])
    def test_given_429s_that_never_stop_when_sent_then_retried_for_the_rate_limited_time_and_given_up_with_one_message(self, clock, limits):
        exchange = _exchange(clock, limits=limits)
        started = clock.now
        with HttpMocker() as http_mocker:
            http_mocker.get(REQUEST, error(429, "slow down"))

            with pytest.raises(AirbyteTracedException) as gave_up:
                _send(exchange)

        budget = limits.max_rate_limited_time.total_seconds()
        assert budget <= clock.now - started <= budget + 3, "not a count of tries: a time from the first refusal"
        assert gave_up.value.message.startswith("Exhausted available request attempts after Metronome kept answering 429 (rate limited) for")
        assert gave_up.value.message.endswith("Metronome answered 429 to GET /v1/customers: slow down")
        assert gave_up.value.failure_type == FailureType.transient_error

    def test_given_5xx_that_never_stop_when_sent_then_eight_retries_each_waiting_the_injected_backoff(self, clock):
        waits = []
        exchange = _exchange(clock, backoff=lambda answer, attempt: waits.append(attempt) or 0.5 * attempt)
        with HttpMocker() as http_mocker:
            http_mocker.get(REQUEST, error(503, "unavailable"))

            with pytest.raises(AirbyteTracedException) as gave_up:
                _send(exchange)

            http_mocker.assert_number_of_calls(REQUEST, 9)
        assert waits == [1, 2, 3, 4, 5, 6, 7, 8]
        assert [wait for wait in clock.slept if wait >= 0.5] == [0.5 * attempt for attempt in range(1, 9)], "each wait exactly the backoff's"
        assert gave_up.value.message == "Exhausted available request attempts after 8 retries: Metronome answered 503 to GET /v1/customers: unavailable"

    def test_given_5xx_for_longer_than_the_retry_time_when_sent_then_given_up_before_the_retries_run_out(self, clock):
        exchange = _exchange(clock, backoff=lambda answer, attempt: 250.0)
        with HttpMocker() as http_mocker:
            http_mocker.get(REQUEST, error(500, "broken"))

            with pytest.raises(AirbyteTracedException) as gave_up:
                _send(exchange)

            http_mocker.assert_number_of_calls(REQUEST, 4)
        assert gave_up.value.message.startswith("Exhausted available request attempts after 3 retries")

    def test_given_no_answer_ever_when_sent_then_unreachable(self, clock):
        exchange = _exchange(clock, limits=RetryLimits(max_retries=2, max_retry_time=timedelta(minutes=10), max_rate_limited_time=timedelta(seconds=15)))
        with pytest.raises(MetronomeUnreachable) as gave_up:
            # Nothing listens on the discard port: every attempt is refused a connection.
            exchange.send(exchange.request("GET", "http://127.0.0.1:9/v1/customers", {}, None))

        assert gave_up.value.message.startswith("Exhausted available request attempts after 2 retries: Could not get an answer from Metronome")


class TestRefusals:
    def test_given_a_rejected_token_when_sent_then_one_config_error_and_no_further_request_from_any_stream(self, clock):
        exchange = _exchange(clock)
        with HttpMocker() as http_mocker:
            http_mocker.get(REQUEST, error(401, "Token revoked"))

            with pytest.raises(AirbyteTracedException) as rejected:
                _send(exchange)
            with pytest.raises(AirbyteTracedException) as refused:
                _send(exchange)

            http_mocker.assert_number_of_calls(REQUEST, 1)
        assert rejected.value.failure_type == refused.value.failure_type == FailureType.config_error
        assert rejected.value.message == refused.value.message == "Metronome rejected the API token (401): Token revoked"

    def test_given_an_endpoint_of_a_feature_when_it_answers_404_first_then_the_feature_is_missing_and_once_it_answered_then_one_partition(self, clock):
        exchange = _exchange(clock, feature="contract pricing")
        with HttpMocker() as http_mocker:
            http_mocker.get(REQUEST, [error(404, "Not found"), page([]), error(404, "Customer not found")])

            with pytest.raises(FeatureMissing) as missing:
                _send(exchange)
            _send(exchange)
            with pytest.raises(PartitionSkipped) as skipped:
                _send(exchange)

        assert str(missing.value) == (
            "Skipping the customers stream: Metronome answered 404 to GET /v1/customers: Not found."
            " This account does not seem to have contract pricing; the other streams are read."
        )
        assert skipped.value.status == 404


class TestQuotedMessages:
    def test_given_a_body_quoting_the_token_when_quoted_then_it_is_cut_short_and_redacted(self):
        response = _response(500, body=("x" * 30 + f" Bearer {TOKEN} " + "y" * 500).encode())

        message = metronome_message(response)

        assert TOKEN not in message
        assert "<redacted>" in message
        assert len(message) <= MESSAGE_LIMIT + 1

    def test_given_a_server_echoing_the_token_when_retried_then_no_log_line_holds_it(self, clock, caplog):
        caplog.set_level(logging.DEBUG)
        exchange = _exchange(clock)
        with HttpMocker() as http_mocker:
            http_mocker.get(REQUEST, [HttpResponse(f'{{"message": "bad gateway for Bearer {TOKEN}"}}', 502), page([])])

            _send(exchange)

        assert any("<redacted>" in record.getMessage() for record in caplog.records)
        assert not any(TOKEN in record.getMessage() for record in caplog.records)


# The exchange seen from a whole sync, through SourceMetronome's read.


@pytest.fixture
def sync_clock(monkeypatch):
    """Backoff waits are taken on the fake clock instead of slept (with the request pacer's waits,
    all under a second)."""
    clock = FakeClock()
    monkeypatch.setattr("source_metronome.http_exchange.time.sleep", clock.sleep)
    return clock


def _cursors(output):
    return {tuple(entry["partition"].values()): entry["cursor"] for entry in output.most_recent_state.stream_state.__dict__["states"]}


@pytest.mark.usefixtures("sync_clock")
class TestInASync:
    """A stream retries what a retry can fix, and otherwise stops naming its partition, whose state
    does not move; customer_costs stands for every stream here."""

    @HttpMocker()
    def test_given_server_errors_then_success_when_read_then_retried_with_backoff_and_records_returned(self, http_mocker: HttpMocker = None):
        http_mocker.get(costs_request(), [error(503, "unavailable"), error(429, "slow down", {"Retry-After": "2"}), page([cost_item(1)])])

        output = read_stream(COSTS, config(customer_ids=[CUSTOMER]))

        assert len(output.records) == 1
        assert output.errors == []

    def test_given_rate_limited_with_retry_after_when_read_then_waits_as_told(self, sync_clock):
        with HttpMocker() as http_mocker:
            http_mocker.get(costs_request(), [error(429, "slow down", {"Retry-After": "2"}), page([cost_item(1)])])
            output = read_stream(COSTS, config(customer_ids=[CUSTOMER]))

        assert len(output.records) == 1
        long_waits = [wait for wait in sync_clock.slept if wait >= 1]
        assert len(long_waits) == 1 and 1.9 < long_waits[0] <= 2, "the wait Metronome asked for, without the CDK's extra second"

    @HttpMocker()
    def test_given_truncated_body_once_when_read_then_page_is_fetched_again_and_nothing_partial_is_emitted(self, http_mocker: HttpMocker = None):
        http_mocker.get(costs_request(), [HttpResponse('{"data": [{"start_timestamp": "2024-03-01T00:00:00+00:00"', 200), page([cost_item(1), cost_item(2)])])

        output = read_stream(COSTS, config(customer_ids=[CUSTOMER]))

        assert [message.record.data["start_timestamp"][:10] for message in output.records] == ["2024-03-01", "2024-03-02"]

    @HttpMocker()
    def test_given_proxy_keeps_answering_html_when_read_then_stream_fails_naming_the_partition_and_state_does_not_move(self, http_mocker: HttpMocker = None):
        http_mocker.get(costs_request(), HttpResponse("<html>502 Bad Gateway</html>", 200))

        output = read_stream(COSTS, config(customer_ids=[CUSTOMER]), expecting_exception=True)

        messages = [error.trace.error.message for error in output.errors]
        assert any(f"customer_costs stopped at customer_id {CUSTOMER}" in message and "not a page of data" in message for message in messages), messages
        assert output.records == []
        assert not any(message.state.stream.stream_state.__dict__.get("states") for message in output.state_messages)

    @HttpMocker()
    def test_given_token_revoked_mid_sync_when_read_then_sync_stops_with_config_error_and_no_token_in_output(self, http_mocker: HttpMocker = None):
        http_mocker.get(costs_request(), page([cost_item(1)]))
        http_mocker.get(costs_request(OTHER_CUSTOMER), error(401, "Token revoked"))

        # One reader, so the first customer is read before the second: with more, a request waiting
        # for its turn is never sent once another was refused the token, and which one that is varies.
        sequential = config(customer_ids=[CUSTOMER, OTHER_CUSTOMER], max_concurrency=1)
        output = read_stream(COSTS, sequential, expecting_exception=True)

        first_error = output.errors[0].trace.error
        assert first_error.failure_type == FailureType.config_error
        assert first_error.message == "Metronome rejected the API token (401): Token revoked"
        assert _cursors(output) == {(CUSTOMER,): {"end_timestamp": "2024-03-15T00:00:00+00:00"}}
        assert all(TOKEN not in line for line in map(str, output._messages))

    @HttpMocker()
    def test_given_server_errors_that_never_stop_when_read_then_retries_are_bounded_and_the_error_names_endpoint_partition_and_status(self, http_mocker: HttpMocker = None):
        request = costs_request()
        http_mocker.get(request, error(503, "Service unavailable"))

        output = read_stream(COSTS, config(customer_ids=[CUSTOMER]), expecting_exception=True)

        message = output.errors[0].trace.error.message
        assert f"customer_costs stopped at customer_id {CUSTOMER}" in message
        assert f"Metronome answered 503 to GET /v1/customers/{CUSTOMER}/costs: Service unavailable" in message
        http_mocker.assert_number_of_calls(request, 9)  # the first attempt and 8 retries
