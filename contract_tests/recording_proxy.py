"""A proxy in front of Prism that records every request the connector sends with Prism's verdict on
it, and lets pages go on: Prism's examples end after one page and its generated `next_page` tokens
never end, so the proxy sets `next_page` itself, up to a cap of pages per listing.

Its tokens name the page they lead to and a digest of the request that earned them, so a
follow-up request is checked to repeat every other parameter and the body unchanged (Metronome's API reference,
Pagination), a thing Prism cannot see.
"""

import hashlib
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from contract_tests.optional_fields import OptionalFieldOmitter
from contract_tests.verdicts import prism_violations, undeclared_fields
from contract_tests.vendor_spec import VendorSpec

TOKEN_PREFIX = "contract-page-"
# Hop-by-hop and length headers belong to each connection, not to the request passed on.
NOT_FORWARDED = {"host", "content-length", "connection", "accept-encoding", "keep-alive", "transfer-encoding"}


@dataclass(frozen=True)
class Exchange:
    operation: str
    method: str
    path: str
    query: Dict[str, List[str]]
    body: Any
    status: int
    violations: Tuple[str, ...]
    # How many items the page handed to the connector held: what it should emit as records.
    items_served: int

    @property
    def page_token(self) -> Optional[str]:
        return self.query.get("next_page", [None])[0]

    def describe(self) -> str:
        query = urlencode(self.query, doseq=True)
        body = f" {json.dumps(self.body, sort_keys=True)}" if self.body is not None else ""
        return f"{self.method} {self.path}{'?' + query if query else ''}{body} -> {self.status}"


class RecordingProxy:
    def __init__(
        self,
        upstream: str,
        spec: VendorSpec,
        max_pages: int,
        omitter: Optional[OptionalFieldOmitter] = None,
        max_pages_by_operation: Optional[Mapping[str, int]] = None,
    ):
        self._upstream = upstream
        self._spec = spec
        self._max_pages = max_pages
        self._max_pages_by_operation = dict(max_pages_by_operation or {})
        self._omitter = omitter
        self._lock = threading.Lock()
        self.exchanges: List[Exchange] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="recording-proxy", daemon=True)

    def __enter__(self) -> "RecordingProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def violations(self) -> List[str]:
        return [f"{exchange.describe()}\n    {violation}" for exchange in self.exchanges for violation in exchange.violations]

    def to(self, operation: str) -> List[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.operation == operation]

    def items_served(self, operation: str) -> int:
        return sum(exchange.items_served for exchange in self.to(operation))

    def handle(self, method: str, target: str, headers: Dict[str, str], raw_body: bytes) -> Tuple[int, Dict[str, str], bytes]:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        body, violations = _json_body(raw_body)
        operation = self._spec.operation(method, parts.path)
        if operation is None:
            violations.append(f"{method} {parts.path} is not an operation of Metronome's spec")
        else:
            violations += undeclared_fields(self._spec, operation, query, body)
        page_number, token_violation = _page_number(method, parts.path, query, body)
        violations += [token_violation] if token_violation else []

        forwarded = {name: value for name, value in headers.items() if name.lower() not in NOT_FORWARDED}
        response = requests.request(method, self._upstream + target, headers=forwarded, data=raw_body or None, timeout=30)
        violations += prism_violations(response)
        content_type, content, items = response.headers.get("content-type", "application/json"), response.content, 0
        page = _page(response) if operation is not None else None
        if page is not None:
            page["next_page"] = self._next_token(page, page_number, operation.name, method, parts.path, query, body)
            if self._omitter is not None:
                page = self._omitter.thin(page, self._spec.success_schema(operation))
            content, content_type, items = json.dumps(page).encode(), "application/json", len(page["data"])

        name = operation.name if operation else f"{method} {parts.path}"
        exchange = Exchange(name, method, parts.path, query, body, response.status_code, tuple(violations), items)
        with self._lock:
            self.exchanges.append(exchange)
        return response.status_code, {"Content-Type": content_type}, content

    def _next_token(self, page: Dict[str, Any], page_number: int, operation: str, method: str, path: str, query: Dict[str, List[str]], body: Any) -> Optional[str]:
        # A real server never hands out a token with an empty page, so neither does the proxy.
        if page_number >= self._max_pages_by_operation.get(operation, self._max_pages) or not page["data"]:
            return None
        return f"{TOKEN_PREFIX}{page_number + 1}-{_digest(method, path, query, body)}"


def _json_body(raw_body: bytes) -> Tuple[Any, List[str]]:
    if not raw_body:
        return None, []
    try:
        return json.loads(raw_body), []
    except ValueError:
        return raw_body.decode(errors="replace"), ["the request body is not JSON"]


def _page(response: requests.Response) -> Optional[Dict[str, Any]]:
    if response.status_code != 200:
        return None
    try:
        page = response.json()
    except ValueError:
        return None
    return page if isinstance(page, dict) and isinstance(page.get("data"), list) else None


def _page_number(method: str, path: str, query: Dict[str, List[str]], body: Any) -> Tuple[int, Optional[str]]:
    token = query.get("next_page", [None])[0]
    if token is None:
        return 1, None
    number, _, digest = token.removeprefix(TOKEN_PREFIX).partition("-")
    if not token.startswith(TOKEN_PREFIX) or not number.isdigit():
        return 1, f"next_page {token!r} is not a token the server handed out"
    if digest != _digest(method, path, query, body):
        return int(number), f"the request for page {number} changed parameters or body from the request that earned its next_page token"
    return int(number), None


def _digest(method: str, path: str, query: Dict[str, List[str]], body: Any) -> str:
    unpaged = {name: values for name, values in query.items() if name != "next_page"}
    canonical = json.dumps([method, path, sorted(unpaged.items()), body], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps the connector's connection open across its requests, as Metronome's would.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle's algorithm the body would wait out the
    # client's delayed ACK, some 40 ms a request.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._relay()

    def do_POST(self) -> None:
        self._relay()

    def _relay(self) -> None:
        raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, content = self.server.proxy.handle(self.command, self.path, dict(self.headers.items()), raw_body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        # Every request is in the proxy's record; echoing each to stderr would bury pytest's report.
        pass
