"""What a person watching Airbyte's log sees of a stream: its plan, progress every few seconds, and
a one-line summary at the end."""

import logging
import time
from typing import Callable, List

from source_metronome.pacing import SyncBudget

# Often enough to see a long sync move, rarely enough not to flood the log.
PROGRESS_LOG_SECONDS = 10.0


class StreamProgress:
    """Started before the stream lists what to read, so its counts include the listing requests."""

    def __init__(self, stream: str, budget: SyncBudget, logger: logging.Logger, clock: Callable[[], float] = time.monotonic):
        self._stream = stream
        self._partitions = 0
        self._budget = budget
        self._logger = logger
        self._clock = clock
        self._started = clock()
        self._last_logged = self._started
        self._counts_before = budget.counts()
        self.done = 0
        self.skipped = 0
        self.records = 0
        self._skipped: List[str] = []

    def planned(self, partitions: int, described_as: str) -> None:
        self._partitions = partitions
        self._logger.info(f"{self._stream}: reading {partitions:,} partitions ({described_as}).")

    def partition_read(self, records: int, skipped: bool = False) -> None:
        self.done += 1
        self.skipped += skipped
        self.records += records
        now = self._clock()
        if now - self._last_logged >= PROGRESS_LOG_SECONDS:
            self._last_logged = now
            self._logger.info(f"{self._stream}: {self.done:,} of {self._partitions:,} partitions read, {self._counts()}, pacing at {self._budget.pace():.2f} requests/s.")

    def partition_skipped(self, partition: str, reason: object, records: int) -> None:
        """A partition Metronome refused or cut short: the stream goes on with the others."""
        self.skip(partition, reason)
        self.partition_read(records, skipped=True)

    def skip(self, what: str, reason: object) -> None:
        """Something the stream does not read, said now and in the stream's summary (a partition, or
        a list of partitions Metronome refused before they were planned)."""
        self._logger.warning(f"{self._stream}: skipping {what}: {reason}")
        self._skipped.append(f"{what} ({reason})")

    def warn_skipped(self) -> None:
        """One warning at the end naming every skipped partition, so none goes unnoticed in a long log."""
        if self._skipped:
            self._logger.warning(
                f"{self._stream}: skipped {len(self._skipped)} partitions that Metronome refused or cut short; their state did not move: " + "; ".join(self._skipped)
            )

    def finished(self) -> None:
        skipped = f" ({self.skipped:,} skipped)" if self.skipped else ""
        self._logger.info(f"{self._stream}: done: {self.done:,} partitions read{skipped}, {self._counts()}.")

    def _counts(self) -> str:
        requests, retries, rate_limited = (now - before for now, before in zip(self._budget.counts(), self._counts_before))
        return (
            f"{self.records:,} records, {requests:,} requests ({retries:,} retries, {rate_limited:,} rate-limited)"
            f" in {self._clock() - self._started:,.1f} s"
        )
