"""One request per page, whichever of the streams that read the same pages a sync selects.

Some streams are two views of the same pages: customer_costs and customer_cost_line_items of
GET /v1/customers/{id}/costs, invoices and invoice_line_items of GET /v1/customers/{id}/invoices.
The CDK reads streams one after the other. The first of them to read a partition keeps the pages
it read in a temporary file; the second replays them instead of asking Metronome again. A file,
not memory: a sync's pages can be larger than memory should hold, and memory stays bounded.
"""

import tempfile
import threading
from typing import Any, Callable, Dict, Hashable, Iterable, Iterator, List, Mapping, Optional, Tuple

import orjson
from airbyte_cdk.sources.types import StreamSlice


class SharedPages:
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._lock = threading.Lock()
        self._recorder: Optional[str] = None
        # Pages of partitions still being read, and of partitions read completely (replayable).
        self._reading: Dict[Hashable, List[Tuple[int, int]]] = {}
        self._complete: Dict[Hashable, List[Tuple[int, int]]] = {}

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
    the first view to read keeps its pages, the other replays them."""

    def __init__(self, pages: Optional[SharedPages], stream: str):
        self._pages = pages
        self._stream = stream
        self._keeps = False

    def start(self) -> None:
        """Called as the stream starts reading: decides whether it is the view that keeps pages."""
        self._keeps = self._pages is not None and self._pages.records_for(self._stream)

    def page_read(self, stream_slice: StreamSlice, items: List[Any]) -> None:
        if self._keeps:
            self._pages.keep(request_key(stream_slice), items)

    def read(self, stream_slice: StreamSlice, request: Callable[[], Iterable[Any]], to_records: Callable[[Any], Iterable[Any]]) -> Iterator[Any]:
        """The partition's records: replayed from the pages the other view kept for it, else
        `request`ed (which calls `page_read` with each page)."""
        key = request_key(stream_slice)
        pages = self._pages.replay(key) if self._pages else None
        if pages is not None:
            for items in pages:
                for item in items:
                    yield from to_records(item)
            return
        try:
            yield from request()
        except BaseException:
            if self._keeps:
                self._pages.abandon(key)
            raise
        if self._keeps:
            self._pages.complete(key)


def request_key(stream_slice: StreamSlice) -> Hashable:
    # The other view replays only the very same request: same partition, same dates.
    partition: Mapping[str, Any] = stream_slice.partition
    return tuple(sorted(partition.items())) + tuple(sorted(stream_slice.cursor_slice.items()))
