"""Production conditions on demand: 429 bursts from another integration on the account, a rate limit
that changes during the sync, and requests that get no answer.

    fake.conditions.append(Bursts(period=4, duration=1, retry_after=SECONDS))

Each condition is asked before the fake answers a request (after the token check): it may stall
the request (sleep in the server's thread, as a network that stalls) and may refuse it with a 429.
Times are measured from the whole second of the first request the condition sees, so a
connector's start-up time does not shift them.
"""

import math
import re
import threading
import time
from email.utils import formatdate
from typing import Dict, Optional, Sequence, Tuple

from integration_tests.fake_metronome.faults import RateLimiter

# How a 429 says when to come back.
SECONDS = "seconds"
HTTP_DATE = "http_date"
MILLISECONDS = "milliseconds"
NO_HEADER = None

Refusal = Tuple[int, Dict[str, str], Dict[str, str]]
TOO_MANY = {"message": "Too many requests"}


class _Clocked:
    """Seconds since the first request, counted from the whole wall-clock second it came in: the
    conditions' boundaries fall on whole seconds, as those of a server answering with HTTP dates."""

    def __init__(self):
        self._started: Optional[float] = None
        self._lock = threading.Lock()

    def _elapsed(self) -> float:
        with self._lock:
            now = time.time()
            if self._started is None:
                self._started = math.floor(now)
            return now - self._started


class Bursts(_Clocked):
    """Every request is refused for `duration` seconds every `period` seconds, whatever its pace:
    another integration on the account spending the allowance. The first burst starts at `phase`."""

    def __init__(self, period: float, duration: float, retry_after: Optional[str] = SECONDS, phase: float = 2.0, until: float = math.inf):
        super().__init__()
        self.period, self.duration, self.retry_after, self.phase, self.until = period, duration, retry_after, phase, until

    def before_answer(self, method: str, path: str) -> Optional[Refusal]:
        elapsed = self._elapsed() - self.phase
        if elapsed < 0 or elapsed >= self.until:
            return None
        into_burst = elapsed % self.period
        if into_burst >= self.duration:
            return None
        return 429, TOO_MANY, wait_headers(self.duration - into_burst, self.retry_after)


class PiecewiseLimit(_Clocked):
    """A sliding-second rate limit that changes over time: `steps` are (from second, requests per
    second), answered 429 without Retry-After beyond it, as Metronome may."""

    def __init__(self, steps: Sequence[Tuple[float, float]], retry_after: Optional[str] = NO_HEADER):
        super().__init__()
        self.steps = sorted(steps)
        self.retry_after = retry_after
        self._limiter = RateLimiter()

    def limit_at(self, elapsed: float) -> float:
        limit = self.steps[0][1]
        for start, value in self.steps:
            if elapsed >= start:
                limit = value
        return limit

    def before_answer(self, method: str, path: str) -> Optional[Refusal]:
        if self._limiter.admit(self.limit_at(self._elapsed())):
            return None
        return 429, TOO_MANY, wait_headers(1.0, self.retry_after)


class Stalls:
    """The requests numbered `numbers` (counting from 1, among those whose path matches
    `path_pattern`) get no answer for `seconds`: a stalled connection. Their retries are answered."""

    def __init__(self, numbers: Sequence[int], seconds: float, path_pattern: str = r"/usage/groups|/costs"):
        self.numbers = set(numbers)
        self.seconds = seconds
        self.path_pattern = path_pattern
        self.stalled = 0
        # For each stall: how many matching requests had arrived when it began and when it ended.
        self.arrivals_during: list = []
        self._count = 0
        self._lock = threading.Lock()

    def before_answer(self, method: str, path: str) -> Optional[Refusal]:
        if not re.search(self.path_pattern, path):
            return None
        with self._lock:
            self._count += 1
            stall = self._count in self.numbers
            self.stalled += stall
        if stall:
            began = self._count
            time.sleep(self.seconds)
            self.arrivals_during.append(self._count - began)
        return None


def wait_headers(seconds: float, style: Optional[str]) -> Dict[str, str]:
    if style == SECONDS:
        return {"Retry-After": str(max(1, math.ceil(seconds)))}
    if style == MILLISECONDS:
        return {"retry-after-ms": str(int(math.ceil(seconds * 1000)))}
    if style == HTTP_DATE:
        # Whole seconds, as HTTP dates are: the first whole second after the wait.
        return {"Retry-After": formatdate(math.ceil(time.time() + seconds - 0.001), usegmt=True)}
    return {}
