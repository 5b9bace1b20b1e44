"""One request per page, whichever of the streams that read the same pages a sync selects.

Some streams are two views of the same pages: customer_costs and customer_cost_line_items of
GET /v1/customers/{id}/costs, invoices and invoice_line_items of GET /v1/customers/{id}/invoices.
A stream whose partitions are the items of another's list (contract_edits, one partition per
contract) lists them through the same pages: with `contracts` in the sync, each contracts page is
requested once for both. The CDK reads streams one after the other. The first of them to read a
partition keeps the pages it read in a temporary file; the second replays them instead of asking
Metronome again. A file, not memory: a sync's pages can be larger than memory should hold, and
memory stays bounded.
"""

import tempfile
import threading
from typing import Any, Dict, Hashable, Iterator, List, Optional, Tuple

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


def request_key(stream_slice: StreamSlice) -> Hashable:
    """What a request's pages are kept under: another view replays only the very same request, same
    partition and same dates."""
    return tuple(sorted(stream_slice.partition.items())) + tuple(sorted(stream_slice.cursor_slice.items()))
