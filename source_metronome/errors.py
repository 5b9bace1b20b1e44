"""How failures reach the user, and which failed requests are worth another try.

The retry rules follow Metronome's official SDKs: connection errors, timeouts, 408, 409, 429 and
every 5xx are retried; `x-should-retry` overrides the status; the wait honours `retry-after-ms`,
then `Retry-After` (seconds or an HTTP date) when it is 0-60 s, else grows as min(0.5 * 2^n, 8) s
with jitter. A 2xx whose body is not a page is retried too, as a proxy or a cut connection made it.
Other 4xx answers concern one partition (a customer that vanished, costs refused for a UNIQUE
metric): they are handed back to the stream, which skips that partition.
"""

import logging
import random
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Optional, Union

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, HttpStatusErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_metronome.pages import describe_request, read_page

# The SDKs stop after 2 retries; a sync of thousands of requests gets more, each still bounded.
MAX_RETRIES = 8
MAX_RETRY_TIME = timedelta(minutes=10)
# The SDKs honour a server-given wait only inside this band; outside it they fall back to backoff.
MAX_SERVER_WAIT_SECONDS = 60
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# A 429 says "later", not "never": while Metronome keeps answering, a request refused with 429s is
# retried for this long (counted from its first refusal), however many times; the pace and the
# shared waits keep those retries few (pacing.py).
MAX_RATE_LIMITED_TIME = timedelta(minutes=10)
# Metronome's answers quoted in logs and errors are cut to this many characters.
MESSAGE_LIMIT = 200
REDACTED = "<redacted>"


def config_error(message: str) -> AirbyteTracedException:
    """A failure the user fixes in the connector's settings; Airbyte shows `message` as is."""
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def stopped_at(stream: str, partition: str, error: AirbyteTracedException) -> AirbyteTracedException:
    """A partition's failure as its stream's, saying where the stream stopped; a config error is
    the whole sync's, and stays as it is."""
    if error.failure_type == FailureType.config_error:
        return error
    return AirbyteTracedException(
        message=f"{stream} stopped at {partition}: {error.message}",
        internal_message=error.internal_message,
        failure_type=error.failure_type,
    )


def metronome_message(response: requests.Response) -> str:
    """Metronome's 4xx bodies are {"message": "..."}; anything else is shown too. Either way cut
    short and without the token, whatever the CDK's own masking does: a proxy's error page or an
    echoing server could quote the Authorization header."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
    else:
        message = response.text or response.reason or "no message"
    message = redact_token(message, response)
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT] + "…"


def redact_token(text: str, response: Any) -> str:
    """`text` without the token the request carried (cut before any shortening, so no part of it
    survives at the cut)."""
    request = getattr(response, "request", None)
    authorization = (request.headers or {}).get("Authorization") if request is not None else None
    if isinstance(authorization, bytes):
        authorization = authorization.decode(errors="replace")
    token = authorization.split(" ", 1)[-1].strip() if authorization else ""
    return text.replace(token, REDACTED) if token else text


class PartitionSkipped(Exception):
    """Metronome refused one partition's request for a reason no retry can fix, or broke its
    pagination: the partition is left for the next sync. `status` is the refusal's HTTP status."""

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.status = status


class MetronomeErrorHandler(HttpStatusErrorHandler):
    """`feature_may_be_off`: the endpoint belongs to a feature some accounts lack (contracts on a
    plans account), which Metronome refuses with 403 for the whole endpoint: handed back to the
    stream, which skips itself, rather than taken for a rejected token."""

    def __init__(self, logger: logging.Logger, max_retries: int = MAX_RETRIES, feature_may_be_off: bool = False):
        super().__init__(logger=logger, max_retries=max_retries, max_time=MAX_RETRY_TIME)
        self._feature_may_be_off = feature_may_be_off
        # `check` asks for few retries: it waits out refusals for as long as it would retry errors.
        self.max_rate_limited_time = MAX_RATE_LIMITED_TIME if max_retries >= MAX_RETRIES else timedelta(seconds=15)

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]] = None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.RequestException):
            # Connection errors and timeouts; the CDK's mapping matches exact classes only.
            return ErrorResolution(
                ResponseAction.RETRY, FailureType.transient_error, f"Could not get an answer from Metronome: {response_or_exception}"
            )
        if not isinstance(response_or_exception, requests.Response):
            return super().interpret_response(response_or_exception)
        response = response_or_exception
        if response.ok:
            if read_page(response) is None:
                return ErrorResolution(
                    ResponseAction.RETRY, FailureType.transient_error, f"Metronome's {describe_request(response)} answered a body that is not a page of data"
                )
            return ErrorResolution(response_action=ResponseAction.SUCCESS)
        status = response.status_code
        if status == 403 and self._feature_may_be_off:
            return ErrorResolution(ResponseAction.IGNORE, FailureType.config_error, metronome_error(response))
        if status in (401, 403):
            return _fail(FailureType.config_error, f"Metronome rejected the API token ({status}): {metronome_message(response)}")
        should_retry = response.headers.get("x-should-retry")
        if should_retry == "false":
            return _fail(FailureType.system_error, metronome_error(response))
        if status == 429:
            return ErrorResolution(ResponseAction.RATE_LIMITED, FailureType.transient_error, metronome_error(response))
        if should_retry == "true" or status in (408, 409) or status >= 500:
            return ErrorResolution(ResponseAction.RETRY, FailureType.transient_error, metronome_error(response))
        # Handed back to the stream unraised (IGNORE), which skips the partition: see PartitionSkipped.
        return ErrorResolution(ResponseAction.IGNORE, FailureType.system_error, metronome_error(response))


def _fail(failure_type: FailureType, message: str) -> ErrorResolution:
    return ErrorResolution(response_action=ResponseAction.FAIL, failure_type=failure_type, error_message=message)


def metronome_error(response: requests.Response) -> str:
    return f"Metronome answered {response.status_code} to {describe_request(response)}: {metronome_message(response)}"


class MetronomeBackoffStrategy(BackoffStrategy):
    def backoff_time(
        self,
        response_or_exception: Optional[Union[requests.Response, requests.RequestException]],
        attempt_count: int,
    ) -> Optional[float]:
        if isinstance(response_or_exception, requests.Response):
            server_wait = server_requested_wait(response_or_exception)
            if server_wait is not None:
                return server_wait
        exponential = min(BACKOFF_BASE_SECONDS * 2 ** max(attempt_count - 1, 0), BACKOFF_CAP_SECONDS)
        # Jitter spreads the retries of parallel requests so they do not arrive together again.
        return exponential * (1 - 0.25 * random.random())


def server_requested_wait(response: requests.Response) -> Optional[float]:
    headers = response.headers
    wait: Optional[float] = None
    if headers.get("retry-after-ms"):
        try:
            wait = float(headers["retry-after-ms"]) / 1000
        except ValueError:
            wait = None
    if wait is None and headers.get("retry-after"):
        value = headers["retry-after"]
        try:
            wait = float(value)
        except ValueError:
            try:
                wait = (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds()
            except (TypeError, ValueError):
                wait = None
    if wait is not None and 0 <= wait <= MAX_SERVER_WAIT_SECONDS:
        # A zero wait is honoured as the smallest wait the CDK will sleep (it treats 0 as "none").
        return max(wait, 0.001)
    return None
