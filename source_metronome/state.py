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

Big accounts: a state of `BIG_STATE_PARTITIONS` partitions or more is also written at most every
`MIN_CHECKPOINT_SECONDS`, and the partitions that share a cursor (nearly all of them: a sync moves
every cursor it finishes to the same day) are written once per cursor, their first partition field
as a list:

    {"partition": {"customer_id": ["…", "…", …], "billable_metric_id": "…"},
     "cursor": {"ending_before": "2024-03-14T00:00:00+00:00"}}

which stands for one entry per customer, so a state costs about 40 bytes a partition instead of
150. Smaller groups keep one entry per partition. Partitions the state does not list start from
start_date; states in either form load.
"""

import logging
import time
from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping, MutableMapping, Optional, Tuple

from airbyte_cdk.sources.streams.checkpoint import Cursor

from source_metronome.windows import floor_to_midnight, format_timestamp, parse_moment

PartitionKey = Tuple[str, ...]

CHECKPOINTS_PER_STREAM = 20
# From this many partitions, the state is paced by time too and shared cursors are written once.
BIG_STATE_PARTITIONS = 500
MIN_CHECKPOINT_SECONDS = 30.0
# Partitions sharing a cursor (and their other fields) from which they are written as one entry.
COMPACT_GROUP_MIN = BIG_STATE_PARTITIONS


class PartitionCursors(Cursor):
    """The CDK's Cursor interface over per-partition cursors; `advance` is where a cursor moves."""

    def __init__(
        self,
        cursor_field: str,
        partition_fields: Tuple[str, ...],
        now: datetime,
        logger: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._clock = clock
        self._last_checkpoint = clock()
        self._cursor_field = cursor_field
        self._partition_fields = partition_fields
        self._now = now
        self._logger = logger
        self._cursors: Dict[PartitionKey, datetime] = {}
        self._partition_dicts: Dict[PartitionKey, Mapping[str, str]] = {}
        self._checkpoint_every = 1
        self._big = False
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
        self._big = max(partitions, len(self._cursors)) >= BIG_STATE_PARTITIONS
        self._stream_done = False

    def stream_done(self) -> None:
        self._stream_done = True

    def get_stream_state(self) -> MutableMapping[str, Any]:
        # Asked for with every record: cheap unless a checkpoint is due.
        due = self._advanced_since_checkpoint >= self._checkpoint_every
        if due and (self._big or len(self._cursors) >= BIG_STATE_PARTITIONS):
            due = self._clock() - self._last_checkpoint >= MIN_CHECKPOINT_SECONDS
        if self._checkpoint is None or due or (self._stream_done and self._advanced_since_checkpoint):
            self._checkpoint = self.to_state()
            self._advanced_since_checkpoint = 0
            self._last_checkpoint = self._clock()
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
        groups: Dict[Tuple[datetime, PartitionKey], List[PartitionKey]] = {}
        for key, cursor in self._cursors.items():
            groups.setdefault((cursor, key[1:]), []).append(key)
        states: List[Mapping[str, Any]] = []
        for (cursor, rest), keys in groups.items():
            cursor_dict = cursors.setdefault(cursor, {self._cursor_field: format_timestamp(cursor)})
            if len(keys) >= COMPACT_GROUP_MIN:
                partition = {self._partition_fields[0]: [key[0] for key in keys], **dict(zip(self._partition_fields[1:], rest))}
                states.append({"partition": partition, "cursor": cursor_dict})
            else:
                states.extend({"partition": self._partition_dict(key), "cursor": cursor_dict} for key in keys)
        return {"states": states}

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
            keys, cursor = parsed
            if cursor > latest_allowed:
                clamped += len(keys)
                cursor = latest_allowed
            for key in keys:
                self._cursors[key] = cursor
        if unreadable:
            self._logger.warning(f"Ignored {unreadable} unreadable entries of the saved state; those partitions start from start_date.")
        if clamped:
            self._logger.warning(f"Clamped {clamped} saved cursors that were in the future to {format_timestamp(latest_allowed)}.")

    def _parse_entry(self, entry: Any) -> Optional[Tuple[List[PartitionKey], datetime]]:
        """The partitions an entry stands for (one, or a list in its first field) and their cursor."""
        try:
            partition, cursor = entry["partition"], entry["cursor"][self._cursor_field]
            first, rest = partition[self._partition_fields[0]], tuple(str(partition[field]) for field in self._partition_fields[1:])
            firsts = first if isinstance(first, list) else [first]
            if not firsts or any(isinstance(value, (list, dict)) for value in firsts):
                return None
            # Cursors are day boundaries; flooring keeps a hand-edited one inside Metronome's rules.
            return [(str(value), *rest) for value in firsts], floor_to_midnight(parse_moment(cursor))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            return None
