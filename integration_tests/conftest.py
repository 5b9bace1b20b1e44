import itertools
import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional
from urllib.parse import urlsplit

import pytest

from integration_tests.connector_cli import NOW_OVERRIDE_ENV, ConnectorRun, configured_catalog, run_with_files
from integration_tests.fake_metronome import COSTS, USAGE, DatasetOptions, FakeMetronome, LoggedRequest

# Distinctive, so a leak into the connector's output cannot be a coincidence.
SECRET_TOKEN = "mtr-e2e-9d4c1f7a-never-print-me"
BOTH_INCREMENTAL = {USAGE: "incremental", COSTS: "incremental"}

HERE = Path(__file__).parent
# The account behind Airbyte's conventional files (sample_config.json and the state files name
# its customers and metrics); the configs' base_url names the fixed port it is served on.
STANDARD_DATASET = DatasetOptions(seed=1, customers=3, metrics_per_customer=3, days_of_history=10)
SAMPLE_CONFIG = json.loads((HERE / "sample_config.json").read_text())


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """The CDK's image tests build the connector's Docker image from metadata.yaml, which this
    repository does not have: they are skipped here even where a docker CLI is found."""
    skip = pytest.mark.skip(reason="needs metadata.yaml and a Docker engine; the standard tests run in-process here")
    for item in items:
        if item.get_closest_marker("image_tests") and HERE in item.path.parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def standard_fake() -> Iterator[FakeMetronome]:
    """The fake behind the standard tests, on the port of sample_config.json's base_url, with the
    connector's clock (read in-process from the environment) set to the fake's "now"."""
    port = urlsplit(SAMPLE_CONFIG["base_url"]).port
    with FakeMetronome(STANDARD_DATASET, token=SAMPLE_CONFIG["api_token"], port=port) as fake, pytest.MonkeyPatch.context() as patch:
        patch.setenv(NOW_OVERRIDE_ENV, fake.now.isoformat())
        yield fake


@pytest.fixture
def start_fake() -> Iterator[Callable[..., FakeMetronome]]:
    """Starts a fake Metronome (DatasetOptions, then FakeMetronome knobs) that stops after the test."""
    started: List[FakeMetronome] = []

    def start(options: Optional[DatasetOptions] = None, **knobs: Any) -> FakeMetronome:
        fake = FakeMetronome(options, token=SECRET_TOKEN, **knobs).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


def requests_to(fake: FakeMetronome, path_end: str) -> List[LoggedRequest]:
    """The requests the fake logged whose path ends with path_end ("/costs", "/v1/usage/groups")."""
    return [request for request in fake.requests if request.path.endswith(path_end)]


def discover_streams(fake: FakeMetronome, settings: Mapping[str, Any], workdir: Path) -> Dict[str, Dict[str, Any]]:
    """The streams `source-metronome discover` declares, by name, as emitted."""
    run = run_with_files("discover", connector_config(fake, settings), workdir, fake.now, prefix="discover-")
    assert run.returncode == 0, f"discover failed: {run.error_messages()}\n{run.stderr[-3000:]}"
    [catalog] = [raw["catalog"] for raw in run.raw_of_type("CATALOG")]
    return {stream["name"]: stream for stream in catalog["streams"]}


def connector_config(fake: FakeMetronome, settings: Mapping[str, Any]) -> Dict[str, Any]:
    # Far above Metronome's pace, so syncs against the fake do not wait between requests; the
    # benchmarks measure pacing against the fake's rate limit.
    return {"api_token": fake.token, "base_url": fake.url, "requests_per_second": 1000, **settings}


@pytest.fixture
def sync(tmp_path: Path) -> Callable[..., ConnectorRun]:
    """Runs `source-metronome read` against a fake at its "now", with the given settings, stream
    sync modes (or a whole configured catalog) and saved state messages; fails unless the sync
    succeeds and keeps the token secret."""
    numbers = itertools.count()

    def run(
        fake: FakeMetronome,
        settings: Mapping[str, Any],
        sync_modes: Mapping[str, str] = BOTH_INCREMENTAL,
        state_messages: Optional[List[Dict[str, Any]]] = None,
        expect_success: bool = True,
        catalog: Optional[Mapping[str, Any]] = None,
    ) -> ConnectorRun:
        result = run_with_files(
            "read",
            connector_config(fake, settings),
            tmp_path,
            fake.now,
            catalog or configured_catalog(sync_modes),
            state_messages,
            prefix=f"sync-{next(numbers)}-",
        )
        assert fake.token not in result.stdout + result.stderr, "the API token appeared in the connector's output"
        if expect_success:
            assert result.returncode == 0, f"sync failed: {result.error_messages()}\n{result.stderr[-3000:]}"
        return result

    return run
