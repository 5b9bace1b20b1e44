"""One request pace for the whole sync, shared by every stream and worker thread.

Metronome allows about 8 requests a second per account, shared by everything using the account
(a default tier reported by integrators; Metronome publishes no limit). The connector paces itself
below that with the CDK's own machinery: an `APIBudget`, which the HTTP exchange (http_exchange.py)
asks before every attempt (retries included), holding one policy that spaces requests evenly.

The pace adapts as TCP's congestion control does (additive increase, multiplicative decrease):

- A 429 takes a quarter off the pace, once per burst: only a 429 to a request sent after the last
  drop counts, so the refusals of requests already in flight when the pace dropped do not drop it
  again (TCP's one reduction per window).
- After a drop the pace climbs back quickly to the *proven* pace, one that ran for `QUIET_SECONDS`
  without a 429 (half the configured pace per second: a burst from another integration on the
  account costs about a second). Above the proven pace it stays for a quiet spell, then probes
  upwards slowly (1/30 of the configured pace per second), never above `requests_per_second`: a
  server limit below the configured pace is met about once per probe, not once a second.
- When Metronome says how long to wait (retry-after-ms, Retry-After in seconds or as an HTTP date),
  every worker holds its next request until then: one shared "not before" time. A 429 without a
  wait that came at the proven pace (someone else's burst, or a limit that just dropped) holds
  everyone for `UNSAID_WAIT_SECONDS`; one that came while probing above it does not (the pace drop
  is the answer).
- A rejected token (the exchange says when) stops every request of the sync.
"""

import logging
import math
import threading
import time
import weakref
from datetime import timedelta
from typing import Any, Callable, Optional, Tuple

from airbyte_cdk.sources.streams.call_rate import AbstractCallRatePolicy, APIBudget, CallRateLimitHit

from source_metronome.errors import config_error

# Multiplicative decrease: what a 429 leaves of the pace.
DECREASE_FACTOR = 0.75
# A pace held this long without a 429 is proven; above it, the pace probes only after this long quiet.
QUIET_SECONDS = 2.0
# Recovery up to the proven pace, per second, as a share of the configured pace: from 3/4 back to the
# full pace in half a second.
FAST_RECOVERY_SHARE_PER_SECOND = 0.5
# Additive increase above the proven pace, per second, as a share of the configured pace.
PROBE_SHARE_PER_SECOND = 1 / 30
# A 429 without a wait, at the proven pace: Metronome's limit is per second.
UNSAID_WAIT_SECONDS = 1.0
# Never slower than this: a sync must still finish.
SLOWEST_REQUESTS_PER_SECOND = 0.5


class EvenPacePolicy(AbstractCallRatePolicy):
    """Requests start at least 1/pace seconds apart, with no bursts: a server counting requests in
    any window of a second never sees more than the pace, whatever its window's phase. The pace
    drops on 429s and climbs back as the module docstring says."""

    def __init__(self, requests_per_second: float, clock: Callable[[], float] = time.monotonic):
        self._ceiling = requests_per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._next_start = 0.0
        now = clock()
        # The recovery curve: the pace at `_since` and how it climbs from there (see _pace_at).
        self._base = requests_per_second
        self._since = now
        # The configured pace counts as proven until a 429 says otherwise.
        self._proven = requests_per_second
        self._last_drop = float("-inf")
        # The configured pace had no refusal before the sync: the first 429 finds it proven.
        self._last_counted_429 = float("-inf")

    @property
    def requests_per_second(self) -> float:
        with self._lock:
            return self._pace_at(self._clock())

    @property
    def ceiling(self) -> float:
        return self._ceiling

    def matches(self, request: Any) -> bool:
        return True

    def try_acquire(self, request: Any, weight: int) -> None:
        with self._lock:
            now = self._clock()
            pace = self._pace_at(now)
            if now < self._next_start:
                # Rounded up to timedelta's microsecond: a wait rounded down would end just short of
                # the slot and be followed by waits that round to nothing.
                wait = timedelta(microseconds=math.ceil((self._next_start - now) * 1_000_000))
                raise CallRateLimitHit(error="paced", item=request, weight=weight, rate=f"{pace:.2f}/s", time_to_wait=wait)
            # Measured from now, not from the last slot: time spent idle is not saved up as a burst.
            self._next_start = now + weight / pace

    def update(self, available_calls: Optional[int], call_reset_ts: Any) -> None:
        # Metronome sends no rate-limit headers to synchronise with.
        pass

    def rate_limited(self, sent_at: float) -> Optional[Tuple[float, bool]]:
        """A 429 to a request sent at `sent_at`. None if it belongs to a burst already counted; else
        the new pace and whether the 429 came at the proven pace (so everyone should hold)."""
        with self._lock:
            now = self._clock()
            if sent_at <= self._last_drop:
                return None
            pace = self._pace_at(now)
            quiet = now - self._last_counted_429
            if quiet >= QUIET_SECONDS:
                # What ran for a quiet spell without a refusal is a pace known to work. A refusal at
                # or below the proven pace after a quiet spell is someone else's burst (or a limit
                # that just dropped, which the next refusals will show): the proven pace stands.
                held = self._pace_at(now - QUIET_SECONDS)
                at_proven_pace = pace <= self._proven * 1.001
                self._proven = max(held, self._proven) if at_proven_pace else held
            else:
                # Refusals keep coming: the pace thought proven is not (a limit that dropped).
                at_proven_pace = True
            slower = max(pace * DECREASE_FACTOR, SLOWEST_REQUESTS_PER_SECOND)
            if quiet < QUIET_SECONDS:
                self._proven = min(self._proven, slower)
            self._base, self._since = slower, now
            self._last_drop = self._last_counted_429 = now
            return slower, at_proven_pace

    def start_recovery_after(self, moment: float) -> None:
        """The pace stays where it dropped while everyone holds; it climbs from the end of the hold."""
        with self._lock:
            if moment > self._since:
                # Frozen where it is now (it may have climbed since the drop) until the hold ends.
                self._base = self._pace_at(self._clock())
                self._since = moment

    def _pace_at(self, moment: float) -> float:
        elapsed = moment - self._since
        pace = self._base
        if elapsed <= 0:
            return pace
        if pace < self._proven:
            climb = FAST_RECOVERY_SHARE_PER_SECOND * self._ceiling
            needed = (self._proven - pace) / climb
            if elapsed <= needed:
                return pace + climb * elapsed
            pace, elapsed = self._proven, elapsed - needed
        elapsed -= QUIET_SECONDS
        if elapsed <= 0:
            return pace
        return min(self._ceiling, pace + PROBE_SHARE_PER_SECOND * self._ceiling * elapsed)


class SyncBudget(APIBudget):
    """The sync's request budget: paces every attempt, drops the pace on 429s, holds every request
    while Metronome asked to wait, stops them all once the token is rejected, and counts what was
    sent for the progress log."""

    def __init__(
        self,
        requests_per_second: float,
        logger: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
        sleep: Optional[Callable[[float], None]] = None,
    ):
        self._pace = EvenPacePolicy(requests_per_second, clock=clock)
        super().__init__(policies=[self._pace])
        self._logger = logger
        self._clock = clock
        # Looked up at each call so that tests patching time.sleep see the holds.
        self._sleep = sleep or (lambda seconds: time.sleep(seconds))
        self._lock = threading.Lock()
        # The exchange sends a retry as the same request object: seen again, it is a retry.
        self._sent_at: "weakref.WeakKeyDictionary[Any, float]" = weakref.WeakKeyDictionary()
        self._hold_until = float("-inf")
        self._rejected: Optional[str] = None
        self.requests = 0
        self.retries = 0
        self.rate_limited = 0

    @property
    def token_rejected(self) -> Optional[str]:
        """Metronome's answer that rejected the token, once it did."""
        return self._rejected

    def pace(self) -> float:
        return self._pace.requests_per_second

    def hold_until(self, moment: float) -> None:
        """No request of the sync starts before `moment` (on this budget's clock)."""
        with self._lock:
            self._hold_until = max(self._hold_until, moment)
        self._pace.start_recovery_after(moment)

    def acquire_call(self, request: Any, block: bool = True, timeout: Optional[float] = None) -> None:
        slept_for: Optional[float] = None
        while True:
            slept_for = self._wait_for_hold(slept_for)
            super().acquire_call(request, block=block, timeout=timeout)
            with self._lock:
                hold = self._hold_until
            # A hold that began while this request waited for its turn holds it too. Each hold is
            # slept once, so a test's fake sleep that does not move the clock cannot make this spin.
            if hold <= self._clock() or hold == slept_for:
                break
        if self._rejected:
            # Another worker's request was refused the token meanwhile: nothing more is sent.
            raise config_error(self._rejected)
        with self._lock:
            self.requests += 1
            if request in self._sent_at:
                self.retries += 1
            self._sent_at[request] = self._clock()

    def _wait_for_hold(self, slept_for: Optional[float]) -> Optional[float]:
        """Sleeps until the shared hold ends; the hold last slept for."""
        while True:
            if self._rejected:
                raise config_error(self._rejected)
            with self._lock:
                hold = self._hold_until
            wait = hold - self._clock()
            # Slept once per hold: a hold extended meanwhile is slept again.
            if wait <= 0 or hold == slept_for:
                return slept_for
            self._sleep(wait)
            slept_for = hold

    def counts(self) -> Tuple[int, int, int]:
        """Requests, retries and 429s so far."""
        with self._lock:
            return self.requests, self.retries, self.rate_limited

    def reject_token(self, message: str) -> None:
        self._rejected = self._rejected or message

    def refused(self, request: Any, asked: Optional[float]) -> None:
        """Metronome answered 429 to `request`, asking to wait `asked` seconds (None: it did not say)."""
        with self._lock:
            self.rate_limited += 1
            sent_at = self._sent_at.get(request, self._clock())
        now = self._clock()
        dropped = self._pace.rate_limited(sent_at)
        if asked is not None:
            self.hold_until(now + asked)
        elif dropped is not None and dropped[1]:
            self.hold_until(now + UNSAID_WAIT_SECONDS)
        if dropped is not None:
            pace, _ = dropped
            waited = f"; every request waits {asked:.1f} s as Metronome asked" if asked is not None else ""
            self._logger.warning(
                f"Metronome answered 429 (rate limited): pacing at {pace:.2f} requests/s{waited}; the pace climbs back towards"
                f" {self._pace.ceiling:g}/s once Metronome stops refusing. Lower requests_per_second if other integrations share this account."
            )
