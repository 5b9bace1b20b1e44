"""Misbehaviour on demand, for resilience tests: seeded random faults and a rate limit."""

import random
import threading
import time
from collections import deque
from dataclasses import dataclass, fields
from typing import Deque, Optional

SERVER_ERROR = "server_error"
DROPPED_CONNECTION = "dropped_connection"
# The headers announce the whole body but the connection closes halfway through it.
TRUNCATED_JSON = "truncated_json"
# The page's data with next_page equal to the token the request sent (only on requests sending one).
REPEATED_TOKEN = "repeated_token"
# No data, with a token that continues from the same place.
EMPTY_PAGE_WITH_TOKEN = "empty_page_with_token"


@dataclass(frozen=True)
class FaultProbabilities:
    """Per-request probability of each fault; at most one fault per request, tried in field order."""

    server_error: float = 0.0
    dropped_connection: float = 0.0
    truncated_json: float = 0.0
    repeated_token: float = 0.0
    empty_page_with_token: float = 0.0


class FaultPicker:
    def __init__(self, seed: int):
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def pick(self, probabilities: FaultProbabilities, sends_token: bool) -> Optional[str]:
        with self._lock:
            for fault in fields(probabilities):
                probability = getattr(probabilities, fault.name)
                if fault.name == REPEATED_TOKEN and not sends_token:
                    continue
                if probability and self._random.random() < probability:
                    return fault.name
        return None


class RateLimiter:
    """At most `per_second` requests in any sliding second; the rest are answered 429."""

    def __init__(self):
        self._accepted: Deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self, per_second: Optional[float]) -> bool:
        if not per_second:
            return True
        with self._lock:
            now = time.monotonic()
            while self._accepted and now - self._accepted[0] >= 1.0:
                self._accepted.popleft()
            if len(self._accepted) >= per_second:
                return False
            self._accepted.append(now)
            return True
