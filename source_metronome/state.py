"""Where state moves: one cursor per partition, in Airbyte's per-partition state format.

    {"states": [{"partition": {"customer_id": "…", "billable_metric_id": "…"},
                 "cursor": {"ending_before": "2024-03-14T00:00:00+00:00"}}]}

A partition's cursor is the UTC midnight up to which it has been read completely. State from an
earlier sync is taken as far as it makes sense: entries that cannot be read are dropped with a
warning (those partitions start again from start_date), and a cursor in the future is clamped.

The CDK asks for the state after every partition and writes a STATE message whenever it changed.
Each message carries every partition's cursor, so writing one per partition would make a sync's
output grow with the square of its partitions (2,000 customers: 2 million cursors written). The
state handed out therefore changes only every `1/CHECKPOINTS_PER_STREAM` of the partitions, and
once more at the end: a stream writes at most about that many STATE messages, and a sync that dies
re-reads at most that share of its partitions.
"""

import logging
from datetime import datetime
from typing import Any, Dict, Mapping, MutableMapping, Optional, Tuple

from airbyte_cdk.sources.streams.checkpoint import Cursor

from source_metronome.windows import floor_to_midnight, format_timestamp, parse_moment

PartitionKey = Tuple[str, ...]

CHECKPOINTS_PER_STREAM = 50


class PartitionCursors(Cursor):
    """The CDK's Cursor interface over per-partition cursors; `advance` is where a cursor moves."""

    def __init__(self, cursor_field: str, partition_fields: Tuple[str, ...], now: datetime, logger: logging.Logger):
        self._cursor_field = cursor_field
        self._partition_fields = partition_fields
        self._now = now
        self._logger = logger
        self._cursors: Dict[PartitionKey, datetime] = {}
        self._partition_dicts: Dict[PartitionKey, Mapping[str, str]] = {}
        self._checkpoint_every = 1
        self._advanced_since_checkpoint = 0
        self._stream_done = False
        self._checkpoint: Optional[MutableMapping[str, Any]] = None

    def key(self, partition: Mapping[str, Any]) -> PartitionKey:
        return tuple(partition[field] for field in self._partition_fields)

    def get(self, partition: Mapping[str, Any]) -> Optional[datetime]:
        return self._cursors.get(self.key(partition))

    def advance(self, partition: Mapping[str, Any], cursor: datetime) -> None:
        """Called once a partition has been read completely; a cursor never moves back."""
        key = self.key(partition)
        previous = self._cursors.get(key)
        if previous is None or cursor > previous:
            self._cursors[key] = cursor
            self._advanced_since_checkpoint += 1

    def plan(self, partitions: int) -> None:
        """How many partitions this sync reads: sets how often the state is checkpointed."""
        self._checkpoint_every = max(1, max(partitions, len(self._cursors)) // CHECKPOINTS_PER_STREAM)
        self._stream_done = False

    def stream_done(self) -> None:
        self._stream_done = True

    def get_stream_state(self) -> MutableMapping[str, Any]:
        # Asked for with every record: cheap unless a checkpoint is due.
        due = self._advanced_since_checkpoint >= self._checkpoint_every or (self._stream_done and self._advanced_since_checkpoint)
        if self._checkpoint is None or due:
            self._checkpoint = self.to_state()
            self._advanced_since_checkpoint = 0
        return self._checkpoint

    def close_slice(self, stream_slice: Any, *args: Any) -> None:
        # The stream calls `advance` itself, once it has read the partition's every page.
        pass

    def should_be_synced(self, record: Any) -> bool:
        return True

    def select_state(self, stream_slice: Optional[Mapping[str, Any]] = None) -> Optional[Mapping[str, Any]]:
        cursor = self.get(stream_slice) if stream_slice else None
        return {self._cursor_field: format_timestamp(cursor)} if cursor else None

    def to_state(self) -> MutableMapping[str, Any]:
        # Built again at every checkpoint: each partition's dict is made once, and partitions with
        # the same cursor (most of them) share one cursor dict.
        cursors: Dict[datetime, Mapping[str, str]] = {}
        return {
            "states": [
                {
                    "partition": self._partition_dict(key),
                    "cursor": cursors.setdefault(cursor, {self._cursor_field: format_timestamp(cursor)}),
                }
                for key, cursor in self._cursors.items()
            ]
        }

    def _partition_dict(self, key: PartitionKey) -> Mapping[str, str]:
        if key not in self._partition_dicts:
            self._partition_dicts[key] = dict(zip(self._partition_fields, key))
        return self._partition_dicts[key]

    def set_initial_state(self, stream_state: Optional[Mapping[str, Any]]) -> None:
        self._cursors = {}
        self._checkpoint = None
        if not stream_state:
            return
        entries = stream_state.get("states") if isinstance(stream_state, Mapping) else None
        if not isinstance(entries, list):
            self._logger.warning(
                f"Ignoring saved state without a 'states' list ({str(stream_state)[:200]}); every partition starts from start_date."
            )
            return
        latest_allowed = floor_to_midnight(self._now)
        unreadable = clamped = 0
        for entry in entries:
            parsed = self._parse_entry(entry)
            if parsed is None:
                unreadable += 1
                continue
            key, cursor = parsed
            if cursor > latest_allowed:
                clamped += 1
                cursor = latest_allowed
            self._cursors[key] = cursor
        if unreadable:
            self._logger.warning(f"Ignored {unreadable} unreadable entries of the saved state; those partitions start from start_date.")
        if clamped:
            self._logger.warning(f"Clamped {clamped} saved cursors that were in the future to {format_timestamp(latest_allowed)}.")

    def _parse_entry(self, entry: Any) -> Optional[Tuple[PartitionKey, datetime]]:
        try:
            partition, cursor = entry["partition"], entry["cursor"][self._cursor_field]
            key = tuple(str(partition[field]) for field in self._partition_fields)
            # Cursors are day boundaries; flooring keeps a hand-edited one inside Metronome's rules.
            return key, floor_to_midnight(parse_moment(cursor))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            return None
