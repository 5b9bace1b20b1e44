"""Where state moves: one cursor per partition, in Airbyte's per-partition state format.

    {"states": [{"partition": {"customer_id": "…", "billable_metric_id": "…"},
                 "cursor": {"ending_before": "2024-03-14T00:00:00+00:00"}}]}

A partition's cursor is the UTC midnight up to which it has been read completely. State from an
earlier sync is taken as far as it makes sense: entries that cannot be read are dropped with a
warning (those partitions start again from start_date), and a cursor in the future is clamped.
"""

import logging
from datetime import datetime
from typing import Any, Dict, Mapping, MutableMapping, Optional, Tuple

from source_metronome.windows import floor_to_midnight, format_timestamp, parse_moment

PartitionKey = Tuple[str, ...]


class PartitionCursors:
    def __init__(self, cursor_field: str, partition_fields: Tuple[str, ...], logger: logging.Logger):
        self._cursor_field = cursor_field
        self._partition_fields = partition_fields
        self._logger = logger
        self._cursors: Dict[PartitionKey, datetime] = {}

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

    def to_state(self) -> MutableMapping[str, Any]:
        return {
            "states": [
                {
                    "partition": dict(zip(self._partition_fields, key)),
                    "cursor": {self._cursor_field: format_timestamp(cursor)},
                }
                for key, cursor in self._cursors.items()
            ]
        }

    def load(self, state: Optional[Mapping[str, Any]], now: datetime) -> None:
        self._cursors = {}
        if not state:
            return
        entries = state.get("states") if isinstance(state, Mapping) else None
        if not isinstance(entries, list):
            self._logger.warning(
                f"Ignoring saved state without a 'states' list ({str(state)[:200]}); every partition starts from start_date."
            )
            return
        latest_allowed = floor_to_midnight(now)
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
