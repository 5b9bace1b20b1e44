"""The fake Metronome over real HTTP on 127.0.0.1: auth, pagination, knobs and the request log.

    with FakeMetronome(DatasetOptions(customers=5)) as fake:
        fake.url          # http://127.0.0.1:<port>, the connector's base_url
        fake.revision = 1 # deliver backdated events; fake.advance(days=1) moves "now"
        fake.archive_customers(customer_id)  # archived from now on, as between two syncs
        fake.line_items_reversed = True      # each invoice's line items served in reverse order

Every knob is a plain attribute that may change while the server runs.
"""

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Mapping, Optional, Sequence
from urllib.parse import parse_qs, urlsplit

from integration_tests.fake_metronome import faults as fault_kinds
from integration_tests.fake_metronome.dataset import Dataset, DatasetOptions
from integration_tests.fake_metronome.endpoints import check_disabled, disabled_error, find_endpoint, sends_token, serve
from integration_tests.fake_metronome.faults import FaultPicker, FaultProbabilities, RateLimiter
from integration_tests.fake_metronome.request import ApiError
from integration_tests.fake_metronome.timestamps import OFFSET_STYLE, TIMESTAMP_STYLES

DEFAULT_TOKEN = "fake-metronome-token"
# How often the serving loop checks for stop(); http.server's default 0.5 s would slow every test.
SHUTDOWN_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class LoggedRequest:
    """A request the fake received, and what it answered."""

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


@dataclass
class Answer:
    status: int
    body: Dict[str, Any]
    headers: Dict[str, str] = field(default_factory=dict)
    fault: Optional[str] = None


def _dataset_attribute(name: str) -> Any:
    """A knob that reads and writes the dataset's attribute of that name."""
    return property(lambda fake: getattr(fake.dataset, name), lambda fake, value: setattr(fake.dataset, name, value))


class FakeMetronome:
    def __init__(
        self,
        options: Optional[DatasetOptions] = None,
        *,
        token: str = DEFAULT_TOKEN,
        port: int = 0,
        timestamp_style: str = OFFSET_STYLE,
        latency: float = 0.0,
        rate_limit: Optional[float] = None,
        retry_after: Optional[float] = None,
        faults: Optional[FaultProbabilities] = None,
        fault_seed: int = 0,
        fault_paths: Optional[str] = None,
        disabled_endpoints: Optional[Mapping[str, int]] = None,
        audit_rejects_window_with_next_page: bool = True,
        audit_empty_last_page_with_token: bool = False,
    ):
        if timestamp_style not in TIMESTAMP_STYLES:
            raise ValueError(f"timestamp_style must be one of {TIMESTAMP_STYLES}")
        self.dataset = Dataset(options or DatasetOptions())
        self.token = token
        self.timestamp_style = timestamp_style
        # Seconds added to every answer.
        self.latency = latency
        # Requests per sliding second before answering 429; None for no limit.
        self.rate_limit = rate_limit
        # Seconds sent in Retry-After with each 429; None sends no Retry-After, as Metronome may.
        self.retry_after = retry_after
        self.faults = faults or FaultProbabilities()
        # A regular expression: faults hit only requests whose path it matches; None: every request.
        self.fault_paths = fault_paths
        # Endpoint families switched off for the whole account, each answering 403 or 404 (see
        # endpoints.py: families such as "contracts" or "packages", groups "contracts_api", "plans_api").
        self.disabled_endpoints = disabled_endpoints or {}
        # GET /v1/auditLogs (audit.py): 400 for next_page sent with starting_on/ending_before, and an
        # empty page with a token after the last page.
        self.audit_rejects_window_with_next_page = audit_rejects_window_with_next_page
        self.audit_empty_last_page_with_token = audit_empty_last_page_with_token
        self._requests: List[LoggedRequest] = []
        self._requests_lock = threading.Lock()
        # Production conditions (conditions.py: bursts, a changing limit, stalls), asked in order.
        self.conditions: List[Any] = []
        self._port = port
        self._fault_picker = FaultPicker(fault_seed)
        self._rate_limiter = RateLimiter()
        self._http: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # Lifecycle

    def start(self) -> "FakeMetronome":
        self._http = _HttpServer(("127.0.0.1", self._port), _Handler)
        self._http.fake = self
        self._thread = threading.Thread(target=self._http.serve_forever, args=(SHUTDOWN_POLL_SECONDS,), name="fake-metronome", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._thread.join()
            self._http = self._thread = None

    def __enter__(self) -> "FakeMetronome":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._http is None:
            raise RuntimeError("The fake Metronome is not running; call start() first.")
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def disabled_endpoints(self) -> Dict[str, int]:
        return self._disabled_endpoints

    @disabled_endpoints.setter
    def disabled_endpoints(self, disabled: Mapping[str, int]) -> None:
        check_disabled(disabled)
        self._disabled_endpoints = dict(disabled)

    # The dataset's clock, late-data revision and line-item order (dataset.py), as knobs.
    now = _dataset_attribute("now")
    revision = _dataset_attribute("revision")
    line_items_reversed = _dataset_attribute("line_items_reversed")

    def advance(self, **delta: float) -> None:
        """Moves "now" on, as timedelta(**delta)."""
        self.dataset.now += timedelta(**delta)

    def archive_customers(self, *customer_ids: str) -> None:
        """Archives these customers now: GET /v1/customers lists them only with only_archived=true."""
        self.dataset.archive_customers(*customer_ids)

    # The request log

    @property
    def requests(self) -> List[LoggedRequest]:
        with self._requests_lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    # Answering

    def answer(self, method: str, target: str, headers: Any, raw_body: bytes) -> Answer:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        body = _parse_body(raw_body)
        answer = self._answer(method, parts.path, query, body, headers)
        dropped = answer.fault == fault_kinds.DROPPED_CONNECTION
        with self._requests_lock:
            self._requests.append(LoggedRequest(method, parts.path, query, body, None if dropped else answer.status, answer.fault))
        return answer

    def _answer(self, method: str, path: str, query: Dict[str, List[str]], body: Any, headers: Any) -> Answer:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return _error(ApiError(401, "Unauthorized: send a valid API token as Authorization: Bearer <token>"))
        for condition in list(self.conditions):
            refusal = condition.before_answer(method, path)
            if refusal is not None:
                return Answer(*refusal)
        if not self._rate_limiter.admit(self.rate_limit):
            retry_after = {} if self.retry_after is None else {"Retry-After": f"{self.retry_after:g}"}
            return Answer(429, {"message": "Too many requests"}, retry_after)
        found = find_endpoint(method, path)
        fault = None
        if self.fault_paths is None or re.search(self.fault_paths, path):
            sends = sends_token(found[0], query, body) if found else "next_page" in query
            fault = self._fault_picker.pick(self.faults, sends_token=sends)
        if fault == fault_kinds.SERVER_ERROR:
            return Answer(500, {"message": "Internal server error (injected fault)"}, fault=fault)
        if fault == fault_kinds.DROPPED_CONNECTION:
            return Answer(0, {}, fault=fault)
        if found is None:
            return _error(ApiError(404, f"No such endpoint: {method} {path}"))
        endpoint, path_params = found
        try:
            refusal = disabled_error(self._disabled_endpoints, endpoint.family)
            if refusal is not None:
                raise refusal
            page = serve(endpoint, path_params, self.dataset, self.timestamp_style, self, method, path, query, body, fault)
        except ApiError as error:
            return _error(error)
        return Answer(200, page, fault=fault)


def _parse_body(raw_body: bytes) -> Any:
    if not raw_body:
        return None
    try:
        return json.loads(raw_body)
    except ValueError:
        return raw_body.decode(errors="replace")


def _error(error: ApiError) -> Answer:
    return Answer(error.status, {"message": error.message})


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeMetronome


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as Metronome: the connector's session reuses connections.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle's algorithm on, each answer on a kept-alive
    # connection would wait ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: _HttpServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if fake.latency:
            time.sleep(fake.latency)
        answer = fake.answer(method, self.path, self.headers, raw_body)
        if answer.fault == fault_kinds.DROPPED_CONNECTION:
            # No status line at all: the client sees the connection close.
            self.close_connection = True
            return
        payload = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if answer.fault == fault_kinds.TRUNCATED_JSON:
            self.wfile.write(payload[: len(payload) // 2])
            self.close_connection = True
            return
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # The request log replaces http.server's stderr lines, which would clutter test output.
        pass
