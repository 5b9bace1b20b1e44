"""How close a sync runs to the API's limits: wall time against the floor the rate limit and latency
set, requests against the minimum the API allows, 429s, memory and CPU of the connector process.

    .venv/bin/python -m benchmarks.speed [--runs 3] [--scenario rate-40 ...]

Each scenario starts the fake Metronome with latency and a rate limit, runs the connector's real
command line (`source-metronome read`) with both streams incremental from scratch, and prints the
median of `--runs` runs. Not a test: the numbers go in docs/metronome.md (Performance).

The minimum number of requests the API allows for a sync:
    ceil(customers / 100)                                  customer list pages
  + customers × ceil(metrics per customer / 100)           billable-metric list pages
  + Σ over customer × metric  max(1, ceil(usage rows / 100))   usage pages (the whole range per request)
  + Σ over customers          max(1, ceil(cost days / 100))    cost pages
"""

import argparse
import math
import os
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from integration_tests.connector_cli import NOW_OVERRIDE_ENV, configured_catalog, connector_command, write_json
from integration_tests.fake_metronome import COSTS, USAGE, DatasetOptions, FakeMetronome, expected_records
from integration_tests.fake_metronome.timestamps import format_timestamp

PAGE_SIZE = 100
# VmHWM only grows, so polling misses at most the growth of the last interval before exit.
RSS_POLL_SECONDS = 0.05
BOTH_STREAMS = {USAGE: "incremental", COSTS: "incremental"}


@dataclass(frozen=True)
class Scenario:
    name: str
    dataset: DatasetOptions
    latency: float
    server_limit: Optional[float]
    requests_per_second: float
    max_concurrency: int = 4
    settings: Mapping[str, Any] = field(default_factory=dict)


def _grouped(customers: int, metrics: int, days: int) -> DatasetOptions:
    # Two values of "region" on every metric, plus events without it: three groups per metric.
    return DatasetOptions(customers=customers, metrics_per_customer=metrics, days_of_history=days, group_values_per_key=2, every_metric_grouped_by="region")


GROUP_BY_REGION = {"group_by": {"key": "region"}}
SCENARIOS = [
    Scenario("rate-40", _grouped(200, 3, 90), latency=0.05, server_limit=40, requests_per_second=35, settings=GROUP_BY_REGION),
    Scenario("rate-8", _grouped(200, 3, 90), latency=0.05, server_limit=8, requests_per_second=6, settings=GROUP_BY_REGION),
    Scenario("cpu", _grouped(200, 3, 90), latency=0.0, server_limit=None, requests_per_second=1000, settings=GROUP_BY_REGION),
    Scenario("memory-200", _grouped(200, 1, 30), latency=0.0, server_limit=None, requests_per_second=1000),
    Scenario("memory-2000", _grouped(2000, 1, 30), latency=0.0, server_limit=None, requests_per_second=1000),
]


@dataclass
class Measurement:
    wall: float
    requests: int
    rate_limited: int
    records: int
    peak_rss_mb: float
    cpu_seconds: float


def run_once(scenario: Scenario) -> Measurement:
    with FakeMetronome(scenario.dataset, latency=scenario.latency, rate_limit=scenario.server_limit) as fake, tempfile.TemporaryDirectory() as folder:
        config = {
            "api_token": fake.token,
            "base_url": fake.url,
            "start_date": format_timestamp(fake.dataset.history_start),
            "requests_per_second": scenario.requests_per_second,
            "max_concurrency": scenario.max_concurrency,
            "page_size": PAGE_SIZE,
            **scenario.settings,
        }
        config_path = write_json(Path(folder) / "config.json", config)
        catalog_path = write_json(Path(folder) / "catalog.json", configured_catalog(BOTH_STREAMS))
        output_path = Path(folder) / "output.jsonl"
        with output_path.open("wb") as output:
            started = time.monotonic()
            process = subprocess.Popen(
                [str(connector_command()), "read", "--config", str(config_path), "--catalog", str(catalog_path)],
                stdout=output,
                stderr=subprocess.DEVNULL,
                env={**os.environ, NOW_OVERRIDE_ENV: fake.now.isoformat()},
            )
            status, usage, peak_rss_kb = _wait_watching_memory(process)
            wall = time.monotonic() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{scenario.name}: the connector failed; run it by hand with {config_path}")
        with output_path.open("rb") as lines:
            records = sum(line.startswith(b'{"type":"RECORD"') for line in lines)
        statuses = Counter(request.status for request in fake.requests)
    return Measurement(
        wall=wall,
        requests=len(fake.requests),
        rate_limited=statuses[429],
        records=records,
        peak_rss_mb=peak_rss_kb / 1024,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


def _wait_watching_memory(process: subprocess.Popen) -> Tuple[int, Any, int]:
    """Waits for the process; its exit status, its own resource usage (CPU time) from wait4, and its
    peak RSS in kB (VmHWM). Not ru_maxrss: that also counts this process's memory, which the child
    had between fork and exec."""
    peak = 0
    status_file = Path(f"/proc/{process.pid}/status")
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return status, usage, peak
        try:
            for line in status_file.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
        time.sleep(RSS_POLL_SECONDS)


def minimum_requests(scenario: Scenario) -> int:
    """The formula in this module's docstring, counted on the ground truth of the fake's dataset."""
    with FakeMetronome(scenario.dataset) as fake:
        dataset = fake.dataset
        settings = {"start_date": format_timestamp(dataset.history_start), **scenario.settings}
        expected = expected_records(dataset, settings)
    rows = Counter((record["customer_id"], record.get("billable_metric_id")) for stream in (USAGE, COSTS) for record in expected[stream])
    customers = [customer for customer in dataset.customers if not customer.archived]
    pages = math.ceil(len(customers) / PAGE_SIZE)
    for customer in customers:
        metric_ids = customer.metric_ids
        pages += math.ceil(len(metric_ids) / PAGE_SIZE)
        pages += sum(max(1, math.ceil(rows[(customer.id, metric_id)] / PAGE_SIZE)) for metric_id in metric_ids)
        pages += max(1, math.ceil(rows[(customer.id, None)] / PAGE_SIZE))
    return pages


def report(scenario: Scenario, runs: List[Measurement], minimum: int) -> Dict[str, str]:
    def median(attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in runs)

    requests = median("requests")
    allowed_rate = min(scenario.requests_per_second, scenario.server_limit or math.inf)
    floor = max(requests / allowed_rate, requests * scenario.latency / scenario.max_concurrency)
    wall = median("wall")
    return {
        "scenario": scenario.name,
        "wall s": f"{wall:.1f}",
        "floor s": f"{floor:.1f}",
        "wall÷floor": f"{wall / floor:.3f}" if floor >= 1 else "-",
        "requests": f"{requests:.0f}",
        "minimum": str(minimum),
        "429s": f"{median('rate_limited'):.0f}",
        "records": f"{median('records'):.0f}",
        "records/s": f"{median('records') / wall:,.0f}",
        "peak RSS MB": f"{median('peak_rss_mb'):.1f}",
        "CPU s": f"{median('cpu_seconds'):.1f}",
        "records/CPU-s": f"{median('records') / median('cpu_seconds'):,.0f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", action="append", choices=[scenario.name for scenario in SCENARIOS], help="default: all")
    args = parser.parse_args()
    rows = []
    for scenario in SCENARIOS:
        if args.scenario and scenario.name not in args.scenario:
            continue
        # Also warms the fake's caches through the ground truth, so the fake answers as fast as a real
        # server would and the runs measure the connector.
        minimum = minimum_requests(scenario)
        rows.append(report(scenario, [run_once(scenario) for _ in range(args.runs)], minimum))
        print(" | ".join(f"{key} {value}" for key, value in rows[-1].items()), flush=True)
    print()
    print_table(rows)


def print_table(rows: List[Dict[str, str]]) -> None:
    """The rows as one markdown table, for notes and the docs."""
    headers = list(rows[0])
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(row[header] for header in headers) + " |")


if __name__ == "__main__":
    main()
