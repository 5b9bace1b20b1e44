"""Prism for the whole session (one server answering with the spec's examples, one per seed with
generated data), a fresh recording proxy for each test, and a tally of every request Prism judged,
printed at the end of the run."""

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

from contract_tests.optional_fields import OptionalFieldOmitter
from contract_tests.prism import PrismServer, PrismUnavailable
from contract_tests.recording_proxy import RecordingProxy
from contract_tests.vendor_spec import SpecMissing, VendorSpec, load_rebased_spec

REQUESTS_JUDGED = pytest.StashKey[Dict[str, Counter]]()
# The connector's clock in every contract test, frozen so every run asks for the same days.
NOW = datetime(2024, 1, 10, 12, tzinfo=timezone.utc)


class PrismServers:
    """Started on first use, so a run of one test starts only the server it needs."""

    def __init__(self, spec: VendorSpec, workdir: Path):
        self._spec = spec
        self._workdir = workdir
        self._servers: Dict[Optional[int], PrismServer] = {}

    def examples(self) -> PrismServer:
        return self._server(seed=None)

    def generated(self, seed: int) -> PrismServer:
        return self._server(seed=seed)

    def _server(self, seed: Optional[int]) -> PrismServer:
        if seed not in self._servers:
            unavailable = None
            try:
                self._servers[seed] = PrismServer(self._spec.document, self._workdir, seed).start()
            except PrismUnavailable as error:
                unavailable = str(error)
            if unavailable:
                # A failure, never a skip: a suite that quietly skipped would pass without checking anything.
                pytest.fail(unavailable, pytrace=False)
        return self._servers[seed]

    def stop_all(self) -> None:
        for server in self._servers.values():
            server.stop()


@pytest.fixture(scope="session")
def vendor_spec() -> VendorSpec:
    try:
        return VendorSpec(load_rebased_spec())
    except SpecMissing as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def prism_servers(vendor_spec, tmp_path_factory):
    servers = PrismServers(vendor_spec, tmp_path_factory.mktemp("prism"))
    yield servers
    servers.stop_all()


@pytest.fixture
def open_proxy(vendor_spec, pytestconfig) -> Callable[..., RecordingProxy]:
    """Opens recording proxies in front of a Prism server; each is closed and tallied after the test."""
    opened: List[RecordingProxy] = []

    def open_one(prism: PrismServer, max_pages: int, omit_optional_fields: bool = False, **options: Any) -> RecordingProxy:
        omitter = OptionalFieldOmitter(vendor_spec, seed=prism.seed or 0) if omit_optional_fields else None
        proxy = RecordingProxy(prism.url, vendor_spec, max_pages, omitter, **options).__enter__()
        opened.append(proxy)
        return proxy

    yield open_one
    for proxy in opened:
        proxy.__exit__(None, None, None)
        _tally(pytestconfig, proxy)


def _tally(pytestconfig: pytest.Config, proxy: RecordingProxy) -> None:
    tally = pytestconfig.stash.setdefault(REQUESTS_JUDGED, {})
    for exchange in proxy.exchanges:
        counts = tally.setdefault(exchange.operation, Counter())
        counts["judged"] += 1
        counts["carrying next_page"] += exchange.page_token is not None
        counts["breaking the spec"] += bool(exchange.violations)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist (`make test`) each worker tallies its own tests and hands the tally to the
    controller, which prints the sum."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["requests_judged"] = {operation: dict(counts) for operation, counts in session.config.stash.get(REQUESTS_JUDGED, {}).items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    tally = node.config.stash.setdefault(REQUESTS_JUDGED, {})
    for operation, counts in node.workeroutput.get("requests_judged", {}).items():
        tally.setdefault(operation, Counter()).update(counts)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    tally = config.stash.get(REQUESTS_JUDGED, None)
    if not tally:
        return
    terminalreporter.section("connector requests Prism judged against Metronome's 2023 spec")
    for operation, counts in sorted(tally.items()):
        details = ", ".join(f"{counts[kind]} {kind}" for kind in ("carrying next_page", "breaking the spec"))
        terminalreporter.write_line(f"{counts['judged']:5d}  {operation}  ({details})")
