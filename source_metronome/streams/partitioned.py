"""Lists read per partition (a customer, or a customer × billable metric), partitions read ahead
concurrently, each partition with its own cursor when the stream is incremental.

The CDK hands out partitions one at a time while worker threads read the next ones ahead
(read_ahead.py). A partition's cursor moves only once all its pages are read, so a sync that dies
resumes without re-reading the partitions it finished (state.py says how often the state is
written). A partition Metronome refuses (a 4xx) or whose pagination breaks is skipped, its cursor
left where it was, and the stream goes on with the others.
"""

from abc import ABC, abstractmethod
from functools import partial
from typing import Any, Hashable, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Tuple

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_metronome.errors import FeatureMissing, PartitionSkipped
from source_metronome.progress import StreamProgress
from source_metronome.read_ahead import ReadAhead
from source_metronome.state import PartitionCursors
from source_metronome.streams.base import MetronomeStream
from source_metronome.streams.endpoint import Endpoint
from source_metronome.sync_context import SyncContext
from source_metronome.windows import cursor_after_reading, format_timestamp, parse_moment, range_to_read, utc_now


class PartitionedStream(MetronomeStream, ABC):
    has_multiple_slices = True
    partition_fields: Tuple[str, ...]
    # For the log: what one partition is.
    partition_description: str

    def __init__(self, endpoint: Endpoint, context: SyncContext):
        self.endpoint = endpoint
        # One clock reading per sync, so every partition reads the same days.
        self._now = utc_now()
        self.cursor = self._cursors = PartitionCursors(endpoint.cursor or "", self.partition_fields, self._now, self.logger)
        super().__init__(endpoint, context.config, budget=context.budget)
        self._directory = context.directory
        self._budget = context.budget
        self._shared_pages = context.shared_pages_of(endpoint.path)
        self._keeps_pages = False
        self._skipped: List[str] = []
        self._read_ahead: Optional[ReadAhead] = None
        self._progress: Optional[StreamProgress] = None
        self._incremental = False
        self._feature_off: Optional[FeatureMissing] = None

    @abstractmethod
    def partitions(self) -> Iterable[StreamSlice]:
        """Each partition: `partition_fields` as its partition, what else the request needs as extra fields."""

    def dates_to_read(self, partition: StreamSlice) -> Optional[Mapping[str, str]]:
        """The partition's date range as its cursor slice; None if nothing is left to read. Full
        refresh streams without dates read each partition whole."""
        if not self.endpoint.cursor:
            return {}
        cursor = self._cursors.get(partition) if self._incremental else None
        date_range = range_to_read(self._config.start_date, self._config.end_date, self._now, cursor, self._config.lookback)
        if date_range is None:
            return None
        return {"starting_on": format_timestamp(date_range.starting_on), "ending_before": format_timestamp(date_range.ending_before)}

    def end_broken_pagination(self, problem: str) -> None:
        # Pages may be missing, so the partition is skipped: its state stays for the next sync.
        raise PartitionSkipped(f"{problem}; pagination ended there")

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._cursors.get_stream_state()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._cursors.set_initial_state(value)

    def stream_slices(
        self, *, sync_mode: SyncMode, cursor_field: Optional[List[str]] = None, stream_state: Optional[Mapping[str, Any]] = None
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        self._progress = StreamProgress(self.name, self._budget, self.logger)
        self._incremental = sync_mode == SyncMode.incremental and self.supports_incremental
        self._keeps_pages = self._shared_pages is not None and self._shared_pages.records_for(self.name)
        # Counted first, then made one at a time as the workers get to them: a list of every
        # partition's slice would grow memory with the account.
        planned = sum(1 for _ in self._slices())
        self._progress.planned(planned, self.partition_description)
        self._cursors.plan(planned)
        self._read_ahead = ReadAhead(
            partial(self._read_partition, sync_mode=sync_mode, cursor_field=cursor_field, stream_state=stream_state),
            key=self._cursors.key,
            workers=self._config.max_concurrency,
            batch_size=self.page_size,
        )
        for stream_slice in self._read_ahead.schedule(self._slices()):
            if self._feature_off:
                break
            yield stream_slice
        # The CDK asks for the next slice only once the last one is read: the stream is done.
        self._cursors.stream_done()
        self._progress.finished()
        if self._feature_off:
            self.logger.warning(str(self._feature_off))
        elif self._skipped:
            self.logger.warning(
                f"{self.name}: skipped {len(self._skipped)} partitions that Metronome refused or cut short; their state did not move: " + "; ".join(self._skipped)
            )

    def _slices(self) -> Iterator[StreamSlice]:
        """Each partition with the dates it reads, skipping those with nothing left to read."""
        for partition in self.partitions():
            dates = self.dates_to_read(partition)
            if dates is not None:
                yield StreamSlice(partition=partition.partition, cursor_slice=dates, extra_fields=partition.extra_fields)

    # Records come from the read-ahead, which read the partition in a worker thread.
    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Optional[List[str]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        partition = ", ".join(f"{field} {stream_slice[field]}" for field in self.partition_fields)
        records = 0
        try:
            for record in self._read_ahead.records(stream_slice):
                records += 1
                yield record
        except FeatureMissing as missing:
            # The account lacks the endpoint: no more partitions are handed out.
            self._feature_off = missing
            return
        except PartitionSkipped as refusal:
            self.logger.warning(f"{self.name}: skipping {partition}: {refusal}")
            self._skipped.append(f"{partition} ({refusal})")
            self._progress.partition_read(records, skipped=True)
            return
        except AirbyteTracedException as error:
            if error.failure_type == FailureType.config_error:
                raise
            raise AirbyteTracedException(
                message=f"{self.name} stopped at {partition}: {error.message}",
                internal_message=error.internal_message,
                failure_type=error.failure_type,
            ) from error
        # Reached only once every page of the partition has been read. A full refresh saves no cursors.
        if self._incremental:
            self._cursors.advance(stream_slice, cursor_after_reading(parse_moment(stream_slice["ending_before"]), self._now))
        self._progress.partition_read(records)

    def page_read(self, items: List[MutableMapping[str, Any]], stream_slice: Mapping[str, Any]) -> None:
        if self._keeps_pages:
            self._shared_pages.keep(_request_key(stream_slice), items)

    def _read_partition(self, stream_slice: StreamSlice, **read_arguments: Any) -> Iterable[Mapping[str, Any]]:
        """Runs in a worker thread: every page of one partition, through the HTTP exchange, or the
        pages another view of the endpoint kept for it."""
        key = _request_key(stream_slice)
        pages = self._shared_pages.replay(key) if self._shared_pages else None
        if pages is not None:
            for items in pages:
                for item in items:
                    yield from self.endpoint.records(item, stream_slice)
            return
        try:
            yield from super().read_records(stream_slice=stream_slice, **read_arguments)
        except BaseException:
            if self._keeps_pages:
                self._shared_pages.abandon(key)
            raise
        if self._keeps_pages:
            self._shared_pages.complete(key)


def _request_key(stream_slice: StreamSlice) -> Hashable:
    # The other view replays only the very same request: same partition, same dates.
    return tuple(sorted(stream_slice.partition.items())) + tuple(sorted(stream_slice.cursor_slice.items()))


class CustomerStream(PartitionedStream):
    """One partition per customer the sync reads, the customer id in the path or body. With a
    cursor, each partition reads the date range [starting_on, ending_before) in the query."""

    partition_fields = ("customer_id",)
    partition_description = "one per customer"

    def partitions(self) -> Iterable[StreamSlice]:
        for customer_id in self._directory.customer_ids():
            yield StreamSlice(partition={"customer_id": customer_id}, cursor_slice={})

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        if not self.endpoint.cursor:
            return {}
        return {"starting_on": stream_slice["starting_on"], "ending_before": stream_slice["ending_before"]}

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        # POST endpoints take the customer in the body (GET ones in the path).
        return {"customer_id": stream_slice["customer_id"]}
