"""Lists read per partition (a customer, or a customer × billable metric), partitions read ahead
concurrently. Each job has its home, which this stream family ties together:

- which partitions, in what order: partition_plan.py;
- reading ahead while the CDK takes one partition at a time: read_ahead.py;
- where a sync resumes: an incremental stream's cursor per partition (state.py); a full refresh's
  finished customers (refresh_progress.py), so every partitioned stream is resumable;
- pages two streams read once: shared_pages.py;
- what the log shows: progress.py; a failure saying where the stream stopped: errors.py.

A partition Metronome refuses (a 4xx) or whose pagination breaks is skipped, its cursor left where
it was, and the stream goes on with the others.
"""

from abc import ABC, abstractmethod
from functools import partial
from typing import Any, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Tuple, Union

from airbyte_cdk.models import AirbyteMessage, SyncMode
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_metronome.errors import FeatureMissing, PartitionSkipped, stopped_at
from source_metronome.partition_plan import PartitionPlan
from source_metronome.progress import StreamProgress
from source_metronome.read_ahead import ReadAhead
from source_metronome.refresh_progress import RefreshProgress
from source_metronome.shared_pages import PageSharing
from source_metronome.state import PartitionCursors
from source_metronome.streams.base import MetronomeStream
from source_metronome.streams.endpoint import Endpoint
from source_metronome.sync_context import SyncContext
from source_metronome.windows import DateRange, cursor_after_reading, format_timestamp, parse_moment, range_to_read, split_range, utc_now


class PartitionedStream(MetronomeStream, ABC):
    has_multiple_slices = True
    partition_fields: Tuple[str, ...]
    # For the log: what one partition is.
    partition_description: str

    def __init__(self, endpoint: Endpoint, context: SyncContext):
        self.endpoint = endpoint
        self._config = context.config
        # One clock reading per sync, so every partition reads the same days.
        self._now = utc_now()
        self._cursors = PartitionCursors(endpoint.cursor or "", self.partition_fields, self._now, self.logger)
        self._refresh = RefreshProgress(self.partition_fields[0], self._cursors.key, context.sync_id_of(endpoint.name), self.logger)
        # Set before the CDK's HttpStream starts, which would otherwise give the stream a cursor of its own.
        self.cursor: Union[PartitionCursors, RefreshProgress] = self._cursors if self.supports_incremental else self._refresh
        if self.cursor is self._refresh:
            # Known before the CDK hands it over at this stream's turn: another view may lead it in step (shared_pages.py).
            self._refresh.set_initial_state(context.saved_state_of(endpoint.name))
        super().__init__(endpoint, context.config, budget=context.budget)
        self._directory = context.directory
        self._budget = context.budget
        self._pages = PageSharing(context.shared_pages_of(endpoint.path), self)
        self._read_ahead: Optional[ReadAhead] = None
        self._progress: Optional[StreamProgress] = None
        self._incremental = False
        self._feature_off: Optional[FeatureMissing] = None

    @abstractmethod
    def partitions(self) -> Iterable[StreamSlice]:
        """Each partition: `partition_fields` as its partition, what else the request needs as extra fields."""

    @property
    def reads_archived_customers(self) -> bool:
        """Whether this sync of the stream reads archived customers too. A full refresh overwrites
        its table, so it reads every customer whatever include_archived_customers says: otherwise a
        customer's rows would vanish from the warehouse the day it is archived. An incremental sync
        keeps its history in the destination and reads archived customers only with the option.
        Known once stream_slices has the sync mode (until then, a full refresh)."""
        return not self._incremental or self._config.include_archived_customers

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
    def refresh_progress(self) -> Optional[RefreshProgress]:
        """This stream's full-refresh progress when it resumes by customer (a cursor-less stream)."""
        return self._refresh if self.cursor is self._refresh else None

    def to_records(self, item: MutableMapping[str, Any], stream_slice: StreamSlice) -> Iterable[Mapping[str, Any]]:
        return self.endpoint.records(item, stream_slice)

    @property
    def is_resumable(self) -> bool:
        # Incremental streams resume from their cursors, full refreshes from their finished customers.
        return True

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self.cursor.get_stream_state()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self.cursor.set_initial_state(value)

    def stream_slices(
        self, *, sync_mode: SyncMode, cursor_field: Optional[List[str]] = None, stream_state: Optional[Mapping[str, Any]] = None
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        self._progress = StreamProgress(self.name, self._budget, self.logger)
        self._incremental = sync_mode == SyncMode.incremental and self.supports_incremental
        self._pages.start()
        refreshes = [progress for progress in (self.refresh_progress, self._pages.led_progress) if progress is not None]
        plan = PartitionPlan(self._slices, self.partition_fields[0], refreshes)
        self._progress.planned(plan.count, self.partition_description)
        self._cursors.plan(plan.count)
        self._read_ahead = ReadAhead(
            partial(self._read_partition, sync_mode=sync_mode, cursor_field=cursor_field, stream_state=stream_state),
            key=self._cursors.key,
            workers=self._config.max_concurrency,
            batch_size=self.page_size,
        )
        for stream_slice in self._read_ahead.schedule(plan):
            if self._feature_off:
                break
            yield stream_slice
        # The CDK asks for the next slice only once the last one is read: the stream is done.
        self.cursor.stream_done()
        self._progress.finished()
        if self._feature_off:
            self.logger.warning(str(self._feature_off))
        else:
            self._progress.warn_skipped()

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
    ) -> Iterable[Union[Mapping[str, Any], AirbyteMessage]]:
        partition = ", ".join(f"{field} {stream_slice[field]}" for field in self.partition_fields)
        # Read again only for the view this one leads, when an earlier attempt emitted this one's records.
        emits_own = self.refresh_progress is None or not self._refresh.is_finished(stream_slice.partition)
        records = 0
        try:
            for record in self._read_ahead.records(stream_slice):
                if emits_own:
                    records += 1
                    yield record
        except FeatureMissing as missing:
            # The account lacks the endpoint: no more partitions are handed out, and none is read again.
            self._finished(stream_slice)
            self._feature_off = missing
            return
        except PartitionSkipped as refusal:
            # A full refresh does not come back to a skipped partition: the sync's log names it.
            self._finished(stream_slice)
            self._progress.partition_skipped(partition, refusal, records)
            yield from self._pages.emit_led_view(stream_slice)
            return
        except AirbyteTracedException as error:
            wrapped = stopped_at(self.name, partition, error)
            if wrapped is error:
                raise
            raise wrapped from error
        # Reached only once every page of the partition has been read.
        if self._incremental:
            self._cursors.advance(stream_slice, cursor_after_reading(parse_moment(stream_slice["ending_before"]), self._now))
        self._finished(stream_slice)
        self._progress.partition_read(records)
        yield from self._pages.emit_led_view(stream_slice)

    def _finished(self, stream_slice: StreamSlice) -> None:
        if self.refresh_progress is not None:
            self._refresh.partition_read(stream_slice.partition)

    def page_read(self, items: List[MutableMapping[str, Any]], stream_slice: Mapping[str, Any]) -> None:
        self._pages.page_read(stream_slice, items)

    def _read_partition(self, stream_slice: StreamSlice, **read_arguments: Any) -> Iterator[Mapping[str, Any]]:
        """Runs in a worker thread: every page of one partition, request range by request range,
        through the HTTP exchange or from the pages another view of the endpoint kept for it."""
        for request_slice in self._request_ranges(stream_slice):
            yield from self._pages.read(request_slice, request=partial(super().read_records, stream_slice=request_slice, **read_arguments))

    def _request_ranges(self, stream_slice: StreamSlice) -> Iterator[StreamSlice]:
        """The partition's range whole, or in the consecutive pieces its endpoint serves per request."""
        windows = self.endpoint.windows
        if windows is None or not stream_slice.cursor_slice:
            yield stream_slice
            return
        whole = DateRange(parse_moment(stream_slice["starting_on"]), parse_moment(stream_slice["ending_before"]))
        for piece in split_range(whole, windows.longest[windows.size(self._config)]):
            dates = {"starting_on": format_timestamp(piece.starting_on), "ending_before": format_timestamp(piece.ending_before)}
            yield StreamSlice(partition=stream_slice.partition, cursor_slice=dates, extra_fields=stream_slice.extra_fields)


class CustomerStream(PartitionedStream):
    """One partition per customer the sync reads (reads_archived_customers), the customer id in the
    path or body. With a cursor, each partition reads the date range [starting_on, ending_before)
    in the query."""

    partition_fields = ("customer_id",)
    partition_description = "one per customer"

    def partitions(self) -> Iterable[StreamSlice]:
        for customer_id in self._directory.customer_ids(archived_too=self.reads_archived_customers):
            yield StreamSlice(partition={"customer_id": customer_id}, cursor_slice={})

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        if not self.endpoint.cursor:
            return {}
        params = {"starting_on": stream_slice["starting_on"], "ending_before": stream_slice["ending_before"]}
        if self.endpoint.windows:
            params["window_size"] = self.endpoint.windows.size(self._config)
        return params

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        # POST endpoints take the customer in the body (GET ones in the path).
        return {"customer_id": stream_slice["customer_id"]}
