"""The CDK's HTTP client with the connector's retry loop.

The CDK wraps each request in three `backoff` decorators: one for the waits a backoff strategy
gives (it sleeps that wait plus one second), one for 429s without a wait and one for the rest, each
counting tries on its own. That cannot express what a sync against a shared rate limit needs:

- 429s are retried on a time budget, not a count (`MAX_RATE_LIMITED_TIME` from the first refusal):
  they say "later", not "never". Their wait is the budget's (pacing.py), shared by every worker,
  and exactly what Metronome asked: Retry-After: 1 costs one second, not two.
- 5xx, timeouts, dropped connections and bodies that are not pages keep their bounds (at most
  `MAX_RETRIES` retries or `MAX_RETRY_TIME`), each waiting exactly the backoff strategy's wait.
- Failures are logged in one line, with Metronome's message cut short and without the token, and
  without the CDK's traceback or its quote of the whole response.

Only `_send_with_retry` and the FAIL branch of `_handle_error_resolution` are replaced; sending,
interpreting answers (errors.py) and the budget stay the CDK's.
"""

import time
from typing import Any, Callable, Mapping, Optional

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.models import StreamDescriptor
from airbyte_cdk.sources.streams.http import HttpClient
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.streams.http.exceptions import BaseBackoffException, UserDefinedBackoffException
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_metronome.errors import MAX_RATE_LIMITED_TIME, MetronomeBackoffStrategy
from source_metronome.pacing import SyncBudget
from source_metronome.pages import describe_request


class MetronomeHttpClient(HttpClient):
    clock: Callable[[], float] = staticmethod(time.monotonic)

    def _send_with_retry(
        self,
        request: requests.PreparedRequest,
        request_kwargs: Mapping[str, Any],
        log_formatter: Optional[Callable[[requests.Response], Any]] = None,
        exit_on_rate_limit: Optional[bool] = False,
    ) -> requests.Response:
        failures = 0
        first_failure: Optional[float] = None
        first_refusal: Optional[float] = None
        rate_limited_budget = getattr(self._error_handler, "max_rate_limited_time", MAX_RATE_LIMITED_TIME).total_seconds()
        while True:
            try:
                return self._send(request, request_kwargs, log_formatter=log_formatter, exit_on_rate_limit=exit_on_rate_limit)
            except BaseBackoffException as error:
                now = self.clock()
                answer = error.response
                if isinstance(answer, requests.Response) and answer.status_code == 429:
                    first_refusal = now if first_refusal is None else first_refusal
                    if now - first_refusal >= rate_limited_budget:
                        self._give_up(request, error, f"Metronome kept answering 429 (rate limited) for {now - first_refusal:.0f} s")
                    # No wait of its own: the budget holds this retry, with every other request, for as
                    # long as Metronome asked, and paces it (pacing.py).
                    self._logger.info(f"{error}; retrying when the shared pace allows.")
                    continue
                failures += 1
                first_failure = now if first_failure is None else first_failure
                if failures > self._max_retries or now - first_failure >= self._max_time:
                    self._give_up(request, error, f"{failures - 1} retries")
                wait = error.backoff if isinstance(error, UserDefinedBackoffException) else self._backoff(error, failures)
                self._logger.info(f"{error}; retry {failures} of {self._max_retries} in {wait:.1f} s.")
                time.sleep(wait)

    def _backoff(self, error: BaseBackoffException, attempt: int) -> float:
        return MetronomeBackoffStrategy().backoff_time(error.response, attempt) or 0.0

    def _give_up(self, request: requests.PreparedRequest, error: BaseBackoffException, after: str) -> None:
        self._evict_key(request)
        message = f"Exhausted available request attempts after {after}: {error}"
        self._logger.error(message)
        rate_limited = isinstance(error.response, requests.Response) and error.response.status_code == 429
        raise AirbyteTracedException(
            internal_message=message,
            message=message,
            # Kept for whoever asks whether Metronome ever answered (source.py's check).
            exception=error,
            failure_type=FailureType.transient_error if rate_limited else (error.failure_type or FailureType.system_error),
            stream_descriptor=StreamDescriptor(name=self._name),
        )

    def _handle_error_resolution(
        self,
        response: Optional[requests.Response],
        exc: Optional[requests.RequestException],
        request: requests.PreparedRequest,
        error_resolution: ErrorResolution,
        exit_on_rate_limit: Optional[bool] = False,
    ) -> None:
        if error_resolution.response_action == ResponseAction.FAIL:
            # The CDK would log the request's body and the whole response; errors.py's message
            # already names the request and quotes Metronome, cut short and redacted.
            self._evict_key(request)
            message = error_resolution.error_message or f"{describe_request(response) if response is not None else request.url} failed"
            rejected = error_resolution.failure_type == FailureType.config_error and response is not None and response.status_code in (401, 403)
            if rejected and isinstance(self._api_budget, SyncBudget):
                # The token was rejected: no stream sends another request (pacing.py). `check`
                # reads without the sync's budget.
                self._api_budget.reject_token(message)
            raise AirbyteTracedException(internal_message=message, message=message, failure_type=error_resolution.failure_type)
        super()._handle_error_resolution(response, exc, request, error_resolution, exit_on_rate_limit)


def http_client_of(stream: Any, authenticator: Any, budget: Any) -> MetronomeHttpClient:
    """The client a Metronome stream sends with: as the CDK's HttpStream builds its own."""
    from airbyte_cdk.sources.message import InMemoryMessageRepository
    from airbyte_cdk.sources.streams.call_rate import APIBudget

    return MetronomeHttpClient(
        name=stream.name,
        logger=stream.logger,
        error_handler=stream.get_error_handler(),
        api_budget=budget or APIBudget(policies=[]),
        authenticator=authenticator,
        use_cache=stream.use_cache,
        backoff_strategy=stream.get_backoff_strategy(),
        message_repository=InMemoryMessageRepository(),
    )
