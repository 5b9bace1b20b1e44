"""One costs request per customer and range, whichever cost streams a sync reads.

customer_costs and customer_cost_line_items are two views of the same pages of
GET /v1/customers/{id}/costs, and the CDK reads streams one after the other. The first of them to
read a customer's range keeps the pages it read in a temporary file; the second replays them
instead of asking Metronome again. A file, not memory: a sync's costs can be larger than memory
should hold, and memory stays bounded (issue 5).
"""

import tempfile
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple

import orjson

# Customer id, starting_on, ending_before: the second stream replays only the very same request.
PageKey = Tuple[str, str, str]


class SharedCostPages:
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._lock = threading.Lock()
        self._recorder: Optional[str] = None
        # Pages of partitions still being read, and of partitions read completely (replayable).
        self._reading: Dict[PageKey, List[Tuple[int, int]]] = {}
        self._complete: Dict[PageKey, List[Tuple[int, int]]] = {}

    def records_for(self, stream: str) -> bool:
        """Whether this stream keeps the pages it reads: only the first cost stream to read does."""
        with self._lock:
            self._recorder = self._recorder or stream
            return self._recorder == stream

    def keep(self, key: PageKey, items: List[Any]) -> None:
        data = orjson.dumps(items)
        with self._lock:
            self._file.seek(0, 2)
            self._reading.setdefault(key, []).append((self._file.tell(), len(data)))
            self._file.write(data)

    def complete(self, key: PageKey) -> None:
        """Called once every page of the partition was read: only then is it replayable."""
        with self._lock:
            self._complete[key] = self._reading.pop(key, [])

    def abandon(self, key: PageKey) -> None:
        with self._lock:
            self._reading.pop(key, None)

    def replay(self, key: PageKey) -> Optional[Iterator[List[Any]]]:
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
