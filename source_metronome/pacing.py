"""One request pace for the whole sync, shared by every stream and worker thread.

Metronome allows about 8 requests a second per account, shared by everything using the account
(NOTES.md, Transport). The connector paces itself below that with the CDK's own machinery: an
`APIBudget`, which the CDK's HTTP client consults before every attempt (retries included), holding
one policy that spaces requests evenly.
"""

import logging
import threading
import time
import weakref
from datetime import timedelta
from typing import Any, Optional, Tuple

import requests
from airbyte_cdk.sources.streams.call_rate import AbstractCallRatePolicy, APIBudget, CallRateLimitHit

# A 429 means something else on the account is using the same allowance: take a quarter off the pace
# for the rest of the sync, at most once a second so that one burst of 429s counts once.
SLOWDOWN_FACTOR = 0.75
SLOWDOWN_COOLDOWN_SECONDS = 1.0
# Never slower than this: a sync must still finish, and the CDK's backoff handles the 429s themselves.
SLOWEST_REQUESTS_PER_SECOND = 0.5


class EvenPacePolicy(AbstractCallRatePolicy):
    """Requests start at least 1/rate seconds apart, with no bursts: a server counting requests in
    any window of a second never sees more than `rate` of them, whatever its window's phase."""

    def __init__(self, requests_per_second: float, clock=time.monotonic):
        self._interval = 1.0 / requests_per_second
        self._clock = clock
        self._next_start = 0.0
        self._last_slowdown = float("-inf")
        self._lock = threading.Lock()

    @property
    def requests_per_second(self) -> float:
        return 1.0 / self._interval

    def matches(self, request: Any) -> bool:
        return True

    def try_acquire(self, request: Any, weight: int) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next_start:
                raise CallRateLimitHit(
                    error="paced",
                    item=request,
                    weight=weight,
                    rate=f"{self.requests_per_second:.2f}/s",
                    time_to_wait=timedelta(seconds=self._next_start - now),
                )
            # Measured from now, not from the last slot: time spent idle is not saved up as a burst.
            self._next_start = now + self._interval * weight

    def update(self, available_calls: Optional[int], call_reset_ts: Any) -> None:
        # Metronome sends no rate-limit headers to synchronise with.
        pass

    def slow_down(self) -> bool:
        """Called on a 429; whether the pace changed."""
        with self._lock:
            now = self._clock()
            if now - self._last_slowdown < SLOWDOWN_COOLDOWN_SECONDS:
                return False
            self._last_slowdown = now
            slower = max(self.requests_per_second * SLOWDOWN_FACTOR, SLOWEST_REQUESTS_PER_SECOND)
            self._interval = 1.0 / slower
            return True


class SyncBudget(APIBudget):
    """The sync's request budget: paces every attempt, slows down on 429s, and counts what was sent
    for the progress log."""

    def __init__(self, requests_per_second: float, logger: logging.Logger):
        self._pace = EvenPacePolicy(requests_per_second)
        super().__init__(policies=[self._pace])
        self._logger = logger
        self._count_lock = threading.Lock()
        # The CDK's HTTP client sends a retry as the same request object: seen again, it is a retry.
        self._sent: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self.requests = 0
        self.retries = 0
        self.rate_limited = 0

    def acquire_call(self, request: Any, block: bool = True, timeout: Optional[float] = None) -> None:
        super().acquire_call(request, block=block, timeout=timeout)
        with self._count_lock:
            self.requests += 1
            if request in self._sent:
                self.retries += 1
            else:
                self._sent.add(request)

    def counts(self) -> Tuple[int, int, int]:
        """Requests, retries and 429s so far."""
        with self._count_lock:
            return self.requests, self.retries, self.rate_limited

    def update_from_response(self, request: Any, response: Any) -> None:
        if not isinstance(response, requests.Response) or response.status_code != 429:
            return
        with self._count_lock:
            self.rate_limited += 1
        if self._pace.slow_down():
            self._logger.warning(
                f"Metronome answered 429 (rate limited): pacing at {self._pace.requests_per_second:.2f} requests/s for the rest of the sync;"
                " lower requests_per_second if other integrations share this account."
            )
