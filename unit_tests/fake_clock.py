"""The one fake clock of the unit tests: a monotonic clock that moves only when a test moves it, or
when the code under test sleeps on it."""

from typing import List


class FakeClock:
    def __init__(self, now: float = 0.0):
        self.now = now
        # Every sleep taken on this clock, in order.
        self.slept: List[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
