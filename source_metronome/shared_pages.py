"""One request per page, whichever of the streams that read the same pages a sync selects.

Some streams are two views of the same pages: customer_costs and customer_cost_line_items of
GET /v1/customers/{id}/costs, invoices and invoice_line_items of GET /v1/customers/{id}/invoices.
A stream whose partitions are the items of another's list (contract_edits, one partition per
contract) lists them through the same pages: with `contracts` in the sync, each contracts page is
requested once for both. The CDK reads streams one after the other. The first of them to read a
partition keeps the pages it read in a temporary file; the second replays them instead of asking
Metronome again. A file, not memory: a sync's pages can be larger than memory should hold, and
memory stays bounded.

Two full refreshes that resume (refresh_progress.py) go in step instead: the first view emits the
second's records and STATE right after each partition it reads, from the pages it just kept. A
killed attempt thus leaves neither view's state ahead of the pages the other emitted, and the next
attempt asks Metronome again only for the customers in flight; at its turn the second view has
nothing left to read. Were the second view to replay at its own turn, a kill during it would lose
the kept pages, and the next attempt would ask for them all again.
"""

import tempfile
import threading
import time
from typing import Any, Callable, Dict, Hashable, Iterable, Iterator, List, Mapping, Optional, Protocol, Tuple

import orjson
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    StreamDescriptor,
    Type,
)
from airbyte_cdk.sources.types import StreamSlice

from source_metronome.refresh_progress import RefreshProgress


class View(Protocol):
    """A stream reading shared pages, as the view that reads them first sees the other."""

    name: str

    @property
    def refresh_progress(self) -> Optional[RefreshProgress]:
        """The stream's full-refresh progress when it resumes by customer; None for incremental streams."""

    def to_records(self, item: Any, stream_slice: StreamSlice) -> Iterable[Mapping[str, Any]]:
        """The stream's records of one item of a page."""


class SharedPages:
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._lock = threading.Lock()
        self._recorder: Optional[str] = None
        self._views: Dict[str, View] = {}
        # Pages of partitions still being read, and of partitions read completely (replayable).
        self._reading: Dict[Hashable, List[Tuple[int, int]]] = {}
        self._complete: Dict[Hashable, List[Tuple[int, int]]] = {}

    def join(self, view: View) -> None:
        self._views[view.name] = view

    def other_view(self, stream: str) -> Optional[View]:
        return next((view for name, view in self._views.items() if name != stream), None)

    def records_for(self, stream: str) -> bool:
        """Whether this stream keeps the pages it reads: only the first of the views to read does."""
        with self._lock:
            self._recorder = self._recorder or stream
            return self._recorder == stream

    def keep(self, key: Hashable, items: List[Any]) -> None:
        data = orjson.dumps(items)
        with self._lock:
            self._file.seek(0, 2)
            self._reading.setdefault(key, []).append((self._file.tell(), len(data)))
            self._file.write(data)

    def complete(self, key: Hashable) -> None:
        """Called once every page of the partition was read: only then is it replayable."""
        with self._lock:
            self._complete[key] = self._reading.pop(key, [])

    def abandon(self, key: Hashable) -> None:
        with self._lock:
            self._reading.pop(key, None)

    def replay(self, key: Hashable) -> Optional[Iterator[List[Any]]]:
        """The pages kept for this request, each read back once; None if there are none."""
        with self._lock:
            pages = self._complete.pop(key, None)
        return None if pages is None else self._read_back(pages)

    def _read_back(self, pages: List[Tuple[int, int]]) -> Iterator[List[Any]]:
        for offset, length in pages:
            with self._lock:
                self._file.seek(offset)
                data = self._file.read(length)
            yield orjson.loads(data)


class PageSharing:
    """One stream's side of an endpoint's shared pages (none when the sync selects only one view):
    the first view to read keeps its pages, the other replays them, or is led in step by it."""

    def __init__(self, pages: Optional[SharedPages], view: View):
        self._pages = pages
        self._view = view
        self._keeps = False
        self._led: Optional[View] = None
        self._last_led_state: Optional[Mapping[str, Any]] = None
        if pages is not None:
            pages.join(view)

    def start(self) -> None:
        """Called as the stream starts reading: decides whether it keeps pages, and whether it
        leads the other view in step."""
        self._keeps = self._pages is not None and self._pages.records_for(self._view.name)
        other = self._pages.other_view(self._view.name) if self._keeps else None
        in_step = other is not None and other.refresh_progress is not None and self._view.refresh_progress is not None
        self._led = other if in_step else None

    @property
    def led_progress(self) -> Optional[RefreshProgress]:
        """The progress of the view this one leads in step, planned with this one's partitions."""
        return self._led.refresh_progress if self._led else None

    def page_read(self, stream_slice: StreamSlice, items: List[Any]) -> None:
        if self._keeps:
            self._pages.keep(request_key(stream_slice), items)

    def read(self, stream_slice: StreamSlice, request: Callable[[], Iterable[Any]]) -> Iterator[Any]:
        """The partition's records: replayed from the pages the other view kept for it, else
        `request`ed (which calls `page_read` with each page)."""
        key = request_key(stream_slice)
        pages = self._pages.replay(key) if self._pages else None
        if pages is not None:
            for items in pages:
                for item in items:
                    yield from self._view.to_records(item, stream_slice)
            return
        try:
            yield from request()
        except BaseException:
            if self._keeps:
                self._pages.abandon(key)
            raise
        if self._keeps:
            self._pages.complete(key)

    def emit_led_view(self, stream_slice: StreamSlice) -> Iterator[AirbyteMessage]:
        """Once this view is done with a partition: the led view's records of the same pages (none
        if the partition was refused), then its STATE when it moved."""
        pages = self._pages.replay(request_key(stream_slice)) if self._led else None
        if self._led is None or self._led.refresh_progress.is_finished(stream_slice.partition):
            return
        emitted_at = int(time.time() * 1000)
        for items in pages or []:
            for item in items:
                for record in self._led.to_records(item, stream_slice):
                    yield AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=self._led.name, data=record, emitted_at=emitted_at))
        self._led.refresh_progress.partition_read(stream_slice.partition)
        state = self._led.refresh_progress.get_stream_state()
        if state != self._last_led_state:
            self._last_led_state = state
            stream_state = AirbyteStreamState(stream_descriptor=StreamDescriptor(name=self._led.name), stream_state=AirbyteStateBlob(state))
            yield AirbyteMessage(type=Type.STATE, state=AirbyteStateMessage(type=AirbyteStateType.STREAM, stream=stream_state))


def request_key(stream_slice: StreamSlice) -> Hashable:
    """What a request's pages are kept under: another view replays only the very same request, same
    partition and same dates."""
    return tuple(sorted(stream_slice.partition.items())) + tuple(sorted(stream_slice.cursor_slice.items()))
