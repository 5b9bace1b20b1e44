"""The HTTP exchange with Metronome. Every request of every stream goes through `Exchange.send`,
which reads top to bottom as what happens to a request:

1. It waits for its turn in the sync's pace (pacing.py: one pace and one "not before" time shared
   by every stream and worker thread), and is refused outright once Metronome rejected the token.
2. It is sent with the token and explicit timeouts. A redirect to another host is followed
   without the token: `requests` drops the Authorization header when the host changes.
3. The answer is classified (`classify`), by the rules of Metronome's official SDKs:
   - a page of data (`{"data": [...], ...}`): returned to the stream;
   - 429: the pace is told (it drops, and every worker holds for as long as Metronome asked) and
     the request goes again when the pace allows, for up to `max_rate_limited_time` from its first
     refusal: a 429 says "later", not "never";
   - transient: connection errors, timeouts, 408, 409, every 5xx, and a 2xx whose body is not a
     page (truncated JSON, a proxy's HTML page): retried after exactly the backoff's wait, at most
     `max_retries` times or for `max_retry_time`;
   - the token rejected (401, or 403 from an endpoint every account has): no request of the sync
     is sent after it, and the sync stops with one config error;
   - a feature the account lacks (403, or 404 before the endpoint ever answered, from an endpoint
     declared with a `feature`): `FeatureMissing`, and the stream skips itself;
   - any other 4xx concerns one partition (a customer that vanished, costs refused for a UNIQUE
     metric): `PartitionSkipped`, and the stream skips that partition;
   - `x-should-retry: true|false` overrides the status rule, as in the SDKs.
4. Giving up raises one error that names the request and quotes Metronome's last answer.

Metronome's messages are quoted cut short and without the token, whatever a server echoes back.
The CDK's own HTTP client is not used: its retry loop adds a second to every wait and counts 429s
as tries, and it offers no public hook to change either.
"""

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from logging import Logger
from typing import Any, Callable, Mapping, Optional, Union
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from airbyte_cdk.models import FailureType, StreamDescriptor
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_metronome.errors import FeatureMissing, MetronomeUnreachable, PartitionSkipped, config_error
from source_metronome.pacing import SyncBudget

# What a request gets back: an answer, or the reason there was none (no connection, a timeout).
Answer = Union[requests.Response, requests.RequestException]
Page = Mapping[str, Any]

# Explicit timeouts so a stalled connection is retried instead of hanging the sync: (connect, read),
# the read timeout being the 60 s of Metronome's SDKs.
REQUEST_TIMEOUT = (10, 60)
# The SDKs honour a server-given wait only inside this band; outside it they fall back to backoff.
MAX_SERVER_WAIT_SECONDS = 60
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# Metronome's answers quoted in logs and errors are cut to this many characters.
MESSAGE_LIMIT = 200
REDACTED = "<redacted>"
# The partition of a request whose partition is in its body (usage, contracts, balances).
BODY_PARTITION_FIELDS = (("customer_id", "customer"), ("billable_metric_id", "billable metric"))


@dataclass(frozen=True)
class RetryLimits:
    """How long one request is retried before the exchange gives up on it."""

    # Transient failures: at most this many retries, and not for longer than this.
    max_retries: int
    max_retry_time: timedelta
    # 429s: for this long from the request's first refusal, however many there are.
    max_rate_limited_time: timedelta


# The SDKs stop after 2 retries; a sync of thousands of requests gets more, each still bounded. A
# whole 10 minutes of 429s is rare: the pace and the shared waits (pacing.py) keep them few.
SYNC_RETRY_LIMITS = RetryLimits(max_retries=8, max_retry_time=timedelta(minutes=10), max_rate_limited_time=timedelta(minutes=10))


class Outcome(Enum):
    PAGE = "a page of data"
    RATE_LIMITED = "rate limited"
    TRANSIENT = "a failure worth another try"
    TOKEN_REJECTED = "the token rejected"
    FEATURE_OFF = "a feature the account lacks"
    PARTITION_REFUSED = "a refusal of one partition"
    FAILED = "a failure Metronome says not to retry"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    # What Metronome answered, quoted for the log or the error; empty for a page.
    message: str = ""
    page: Optional[Page] = None
    status: Optional[int] = None


def classify(answer: Answer, *, feature_may_be_off: bool = False, answered_before: bool = False) -> Verdict:
    """What an answer means (see the module docstring). `feature_may_be_off`: the endpoint belongs
    to a feature some accounts lack; `answered_before`: it already answered a page this sync, so it
    exists, and a 404 concerns the partition asked for."""
    if not isinstance(answer, requests.Response):
        return Verdict(Outcome.TRANSIENT, f"Could not get an answer from Metronome: {answer}")
    status = answer.status_code
    if answer.ok:
        page = parse_page(answer.content)
        if page is None:
            return Verdict(Outcome.TRANSIENT, f"Metronome's {describe_request(answer.request)} answered a body that is not a page of data")
        return Verdict(Outcome.PAGE, page=page)
    if status == 403 and feature_may_be_off:
        return Verdict(Outcome.FEATURE_OFF, metronome_error(answer), status=status)
    if status in (401, 403):
        return Verdict(Outcome.TOKEN_REJECTED, f"Metronome rejected the API token ({status}): {metronome_message(answer)}", status=status)
    should_retry = answer.headers.get("x-should-retry")
    if should_retry == "false":
        return Verdict(Outcome.FAILED, metronome_error(answer), status=status)
    if status == 429:
        return Verdict(Outcome.RATE_LIMITED, metronome_error(answer), status=status)
    if should_retry == "true" or status in (408, 409) or status >= 500:
        return Verdict(Outcome.TRANSIENT, metronome_error(answer), status=status)
    if status == 404 and feature_may_be_off and not answered_before:
        return Verdict(Outcome.FEATURE_OFF, metronome_error(answer), status=status)
    return Verdict(Outcome.PARTITION_REFUSED, metronome_error(answer), status=status)


def backoff_wait(answer: Answer, attempt: int) -> float:
    """The wait before the `attempt`-th retry of a transient failure, as the SDKs compute it: what
    the server asked for, else min(0.5 × 2^(attempt-1), 8) s with jitter."""
    if isinstance(answer, requests.Response):
        asked = server_requested_wait(answer)
        if asked is not None:
            return asked
    exponential = min(BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0), BACKOFF_CAP_SECONDS)
    # Jitter spreads the retries of parallel requests so they do not arrive together again.
    return exponential * (1 - 0.25 * random.random())


def server_requested_wait(response: requests.Response) -> Optional[float]:
    """`retry-after-ms`, else `Retry-After` in seconds or as an HTTP date, when 0-60 s."""
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
        return wait
    return None


class Exchange:
    """Sends one stream's requests to Metronome; shared by the stream's worker threads."""

    def __init__(
        self,
        stream: str,
        api_token: str,
        budget: SyncBudget,
        logger: Logger,
        *,
        feature: Optional[str] = None,
        limits: RetryLimits = SYNC_RETRY_LIMITS,
        backoff: Callable[[Answer, int], float] = backoff_wait,
        connections: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Optional[Callable[[float], None]] = None,
    ):
        self._stream = stream
        self._token = api_token
        self._budget = budget
        self._logger = logger
        self._feature = feature
        self._limits = limits
        self._backoff = backoff
        self._clock = clock
        # Looked up at each call so that tests patching time.sleep see the waits.
        self._sleep = sleep or (lambda seconds: time.sleep(seconds))
        self._session = requests.Session()
        # One kept-alive connection per worker thread.
        adapter = HTTPAdapter(pool_maxsize=connections)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._answered = False

    def request(self, method: str, url: str, params: Mapping[str, Any], body: Optional[Mapping[str, Any]]) -> requests.PreparedRequest:
        """A request with Metronome's bearer auth; an empty JSON body is not sent."""
        return self._session.prepare_request(
            requests.Request(method, url, params=params, json=body or None, headers={"Authorization": f"Bearer {self._token}"})
        )

    def send(self, request: requests.PreparedRequest) -> Page:
        """The page Metronome answered to `request`, retried as the limits allow."""
        limits = self._limits
        failures = 0
        first_failure: Optional[float] = None
        first_refusal: Optional[float] = None
        ever_answered = False
        while True:
            self._budget.acquire_call(request)
            answer = self._transmit(request)
            ever_answered = ever_answered or isinstance(answer, requests.Response)
            verdict = classify(answer, feature_may_be_off=bool(self._feature), answered_before=self._answered)
            now = self._clock()
            if verdict.outcome is Outcome.PAGE:
                self._answered = True
                return verdict.page
            if verdict.outcome is Outcome.RATE_LIMITED:
                self._budget.refused(request, server_requested_wait(answer))
                first_refusal = now if first_refusal is None else first_refusal
                if now - first_refusal >= limits.max_rate_limited_time.total_seconds():
                    raise self._give_up(verdict, f"Metronome kept answering 429 (rate limited) for {now - first_refusal:.0f} s", ever_answered)
                # No wait of its own: the budget holds this retry, with every other request, for as
                # long as Metronome asked, and paces it.
                self._logger.info(f"{verdict.message}; retrying when the shared pace allows.")
            elif verdict.outcome is Outcome.TRANSIENT:
                failures += 1
                first_failure = now if first_failure is None else first_failure
                if failures > limits.max_retries or now - first_failure >= limits.max_retry_time.total_seconds():
                    raise self._give_up(verdict, f"{failures - 1} retries", ever_answered)
                wait = self._backoff(answer, failures)
                self._logger.info(f"{verdict.message}; retry {failures} of {limits.max_retries} in {wait:.1f} s.")
                self._sleep(wait)
            else:
                raise self._refusal(verdict)

    def _transmit(self, request: requests.PreparedRequest) -> Answer:
        try:
            return self._session.send(request, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as error:
            return error

    def _refusal(self, verdict: Verdict) -> Exception:
        """What a refusal no retry can fix raises."""
        if verdict.outcome is Outcome.TOKEN_REJECTED:
            # No stream of the sync sends another request (pacing.py).
            self._budget.reject_token(verdict.message)
            return config_error(verdict.message)
        if verdict.outcome is Outcome.FEATURE_OFF:
            return FeatureMissing(
                f"Skipping the {self._stream} stream: {verdict.message}. This account does not seem to have {self._feature}; the other streams are read."
            )
        if verdict.outcome is Outcome.PARTITION_REFUSED:
            return PartitionSkipped(verdict.message, status=verdict.status)
        return AirbyteTracedException(message=verdict.message, internal_message=verdict.message, failure_type=FailureType.system_error)

    def _give_up(self, verdict: Verdict, after: str, answered: bool) -> AirbyteTracedException:
        message = f"Exhausted available request attempts after {after}: {verdict.message}"
        error = AirbyteTracedException if answered else MetronomeUnreachable
        return error(
            message=message, internal_message=message, failure_type=FailureType.transient_error, stream_descriptor=StreamDescriptor(name=self._stream)
        )


def parse_page(content: bytes) -> Optional[Page]:
    """Metronome's page envelope, {"data": [...], ...}; None when the body is not one (truncated
    JSON, a proxy's HTML page, an object without `data`)."""
    try:
        page = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    return page if isinstance(page, dict) and isinstance(page.get("data"), list) else None


def describe_request(request: requests.PreparedRequest) -> str:
    """The endpoint and, for a request whose partition is in the body, the partition."""
    description = f"{request.method} {urlsplit(request.url).path}"
    body = json.loads(request.body) if request.body else {}
    partition = [f"{label} {body[field]}" for field, label in BODY_PARTITION_FIELDS if body.get(field)]
    if partition:
        description += " for " + ", ".join(partition)
    return description


def metronome_error(response: requests.Response) -> str:
    return f"Metronome answered {response.status_code} to {describe_request(response.request)}: {metronome_message(response)}"


def metronome_message(response: requests.Response) -> str:
    """Metronome's 4xx bodies are {"message": "..."}; anything else is shown too. Either way cut
    short and without the token: a proxy's error page or an echoing server could quote the
    Authorization header."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
    else:
        message = response.text or response.reason or "no message"
    message = redact_token(message, response.request)
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT] + "…"


def redact_token(text: str, request: Optional[requests.PreparedRequest]) -> str:
    """`text` without the token the request carried (cut before any shortening, so no part of it
    survives at the cut)."""
    authorization = (request.headers or {}).get("Authorization") if request is not None else None
    if isinstance(authorization, bytes):
        authorization = authorization.decode(errors="replace")
    token = authorization.split(" ", 1)[-1].strip() if authorization else ""
    return text.replace(token, REDACTED) if token else text
