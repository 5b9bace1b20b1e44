"""Every request the fake received and what it answered, for tests to read and reset."""

import threading
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: Mapping[str, Sequence[str]]
    # The parsed JSON body (the raw text if it did not parse), None without a body.
    body: Any
    # None when the connection was dropped without an answer.
    status: Optional[int]
    fault: Optional[str] = None

    def param(self, name: str) -> Optional[str]:
        values = self.query.get(name)
        return values[-1] if values else None

    def dated(self, name: str) -> Optional[str]:
        """A date parameter, wherever its endpoint takes it: the usage endpoint in the body, costs in the query."""
        if isinstance(self.body, dict) and name in self.body:
            return self.body[name]
        return self.param(name)


class RequestLog:
    def __init__(self):
        self._entries: List[LoggedRequest] = []
        self._lock = threading.Lock()

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> List[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
