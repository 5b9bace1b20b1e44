"""How far a full refresh of a partitioned stream has got, so that a retried attempt of the same
sync goes on from there (Airbyte's resumable full refresh).

The unit is the customer: a customer is finished once every partition of it was read (or skipped).
Customers are read in the directory's stable order (creation order, directory.py), so the state
names the customer up to which every customer is finished, and the few finished out of order beyond
it (the read-ahead hands partitions out of order only past a stalled one, read_ahead.py):

    {"sync_id": 4711, "done_through": "<customer id>", "done_beyond": ["<customer id>", …]}
    {"sync_id": 4711, "complete": true}

The state is written after every finished customer, and stays the size of the read-ahead window
whatever the number of customers: a killed attempt re-reads only the customers that were in flight.
A customer created between attempts comes after every customer listed before, so it is read.

A state is resumed only by the sync that wrote it. `sync_id` is the platform's job id, the only
signal that tells a retried attempt from a new sync: a state of another sync starts the refresh
over. Without a sync_id in the catalog, a state that says the refresh is complete starts it over
(a new sync), and an unfinished one is resumed. Any other state (the per-partition `{"states": []}`
of earlier versions) starts the refresh over.
"""

import logging
from collections import Counter
from typing import Any, Dict, Hashable, Iterable, List, Mapping, MutableMapping, Optional, Set

from airbyte_cdk.sources.streams.checkpoint import Cursor
from airbyte_cdk.sources.streams.checkpoint.substream_resumable_full_refresh_cursor import FULL_REFRESH_COMPLETE_STATE
from airbyte_cdk.sources.types import StreamSlice


class RefreshProgress(Cursor):
    """The CDK's Cursor interface over a full refresh's finished customers. `plan` is told the
    sync's partitions, `partition_read` each one read; `select_state` answers the CDK's
    resumable-full-refresh reader, which passes over a partition whose state says complete."""

    def __init__(self, customer_field: str, key: Any, sync_id: Optional[int], logger: logging.Logger):
        self._field = customer_field
        self._key = key
        self._sync_id = sync_id
        self._logger = logger
        self._saved: MutableMapping[str, Any] = {}
        self._given: Optional[Mapping[str, Any]] = None
        self._planned = False
        self._reset()

    def _reset(self) -> None:
        self._resumed_through: Optional[str] = None
        self._resumed_beyond: Set[str] = set()
        self._resumed_complete = False
        self._order: List[str] = []
        self._position: Dict[str, int] = {}
        # Customers [0, frontier) of the order are finished; `beyond` those finished after it.
        self._frontier = 0
        self._beyond: Set[str] = set()
        self._finished: Set[str] = set()
        self._partitions_left: Dict[str, int] = {}
        self._read: Set[Hashable] = set()
        self._complete = False

    def set_initial_state(self, stream_state: Optional[Mapping[str, Any]]) -> None:
        if self._planned or (self._given is not None and dict(stream_state or {}) == self._given):
            # Set when the stream is made, and again by the CDK, once before and once after the
            # slices start (to see their form): the first one counts, once planned.
            return
        self._reset()
        self._given = dict(stream_state or {})
        self._saved = dict(stream_state or {})
        if not stream_state:
            return
        why_not = self._why_not_resumed(stream_state)
        if why_not:
            self._logger.info(f"{why_not}: the full refresh reads every customer.")
            self._saved = {}
            return
        if stream_state.get("complete"):
            self._resumed_complete = True
            return
        self._resumed_through = stream_state.get("done_through")
        self._resumed_beyond = set(stream_state.get("done_beyond") or [])

    def _why_not_resumed(self, state: Mapping[str, Any]) -> Optional[str]:
        if "complete" not in state and "done_through" not in state and "done_beyond" not in state:
            return "The saved state is not a full refresh's progress (an earlier version's, or an incremental sync's)"
        saved_sync = state.get("sync_id")
        if self._sync_id is not None and saved_sync != self._sync_id:
            return f"The saved state is of another sync (sync_id {saved_sync}, this one {self._sync_id})"
        if self._sync_id is None and state.get("complete"):
            return "The saved state says the last full refresh was complete, and the catalog has no sync_id to tell a retry from a new sync"
        through, beyond = state.get("done_through"), state.get("done_beyond", [])
        if not (through is None or isinstance(through, str)) or not isinstance(beyond, list) or not all(isinstance(c, str) for c in beyond):
            return f"The saved state cannot be read ({str(dict(state))[:200]})"
        return None

    def plan(self, customers: Iterable[str]) -> None:
        """The customer of each partition this sync reads, in order (a customer's partitions one
        after the other): which of them a resumed attempt has finished already."""
        if self._planned:
            return
        per_customer = Counter(customers)
        self._order = list(per_customer)
        self._position = {customer: index for index, customer in enumerate(self._order)}
        finished = set(self._order) if self._resumed_complete else self._resumed_beyond & set(self._order)
        if self._resumed_through is not None:
            if self._resumed_through in self._position:
                finished.update(self._order[: self._position[self._resumed_through] + 1])
            else:
                # Without it the state cannot say which customers came before it: read them all.
                self._logger.warning(f"The customer {self._resumed_through} the saved state had read up to is no longer listed: the full refresh reads every customer.")
                finished = set()
        self._finished = finished
        self._beyond = set(finished)
        self._partitions_left = {customer: count for customer, count in per_customer.items() if customer not in finished}
        self._advance_frontier()
        self._planned = True
        if finished:
            self._logger.info(f"Resuming this sync's full refresh: {len(finished):,} of {len(self._order):,} customers were read by an earlier attempt.")

    def is_finished(self, partition: Mapping[str, Any]) -> bool:
        return partition[self._field] in self._finished

    def partition_read(self, partition: Mapping[str, Any]) -> None:
        """Called once a partition was read to its end, or skipped."""
        self._read.add(self._key(partition))
        customer = partition[self._field]
        left = self._partitions_left.get(customer, 0) - 1
        self._partitions_left[customer] = left
        if left <= 0 and customer not in self._finished:
            self._finished.add(customer)
            self._beyond.add(customer)
            self._advance_frontier()

    def _advance_frontier(self) -> None:
        while self._frontier < len(self._order) and self._order[self._frontier] in self._beyond:
            self._beyond.discard(self._order[self._frontier])
            self._frontier += 1

    def stream_done(self) -> None:
        self._complete = True

    def get_stream_state(self) -> MutableMapping[str, Any]:
        if not self._planned:
            # Asked for before the partitions are known: the progress as it was saved.
            return dict(self._saved)
        state: Dict[str, Any] = {} if self._sync_id is None else {"sync_id": self._sync_id}
        if self._complete:
            return {**state, "complete": True}
        if self._frontier:
            state["done_through"] = self._order[self._frontier - 1]
        state["done_beyond"] = sorted(self._beyond, key=self._position.__getitem__)
        return state

    def select_state(self, stream_slice: Optional[StreamSlice] = None) -> Optional[Mapping[str, Any]]:
        # The CDK's resumable-full-refresh reader reads a slice again until its state says complete.
        if stream_slice is None:
            return None
        if self._key(stream_slice.partition) in self._read or self.is_finished(stream_slice.partition):
            return FULL_REFRESH_COMPLETE_STATE
        return stream_slice.cursor_slice

    def close_slice(self, stream_slice: Any, *args: Any) -> None:
        # The stream calls `partition_read` itself, once it has read the partition's every page.
        pass

    def should_be_synced(self, record: Any) -> bool:
        return True
