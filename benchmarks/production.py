"""Production conditions: a shared rate limit, stalled requests and big accounts, measured against the
fake Metronome. Not a test: the numbers go in docs/metronome.md (Performance).

    .venv/bin/python -m benchmarks.production [--runs 3] [--scenario bursts-seconds ...] [--trace]

Each scenario runs the connector's real command line (`source-metronome read`, `usage_with_groups`
and `customer_costs` incremental from scratch) against the fake with a latency and the scenario's
conditions (integration_tests/fake_metronome/conditions.py), checks that every expected record
arrived exactly once, and prints the median of `--runs` runs and whether it meets the issue's bound:

  bursts-*          429 bursts of 1 s every 4 s from "another integration" (Retry-After: 1, as an
                    HTTP date, or none), 5% 500s, 2% dropped connections, the default pace:
                    wall <= 1.5 x minimum / pace / 0.75, 429s <= 10% of requests
  limit-below-pace  a server limit of 4/s under a pace of 6/s, 429s without Retry-After:
                    wall <= 1.3 x minimum / 4, 429s <= 10%
  limit-drops       a limit of 8/s that drops to 2/s for a minute mid-sync and comes back:
                    wall <= 1.3 x the floor of min(pace, limit) over time (--trace prints the pace)
  stalls            three usage requests that get no answer for longer than the 60 s read timeout,
                    at different moments (about 6, 10 and 15 s in): wall <= 60 s + 1.1 x the wall
                    of `no-stalls`. Stalls in one stream overlap; a stall in a later stream adds
                    its own timeout, as the CDK reads streams one after another.
  state-3000        3,000 customers x 1 metric x 3 days at 100/s: STATE bytes <= 2 MB in all,
                    the largest <= 300 KB; then a run killed mid-usage and resumed from its last
                    STATE must emit every record (exact resume)
  speed-8           the speed benchmark's rate-8 scenario, smaller: 0 429s, wall / floor <= 1.1,
                    the minimum number of requests
"""

import argparse
import math
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import orjson

from benchmarks.speed import print_table
from integration_tests.connector_cli import NOW_OVERRIDE_ENV, configured_catalog, connector_command, write_json
from integration_tests.fake_metronome import COSTS, USAGE, DatasetOptions, FakeMetronome, FaultProbabilities, expected_records, primary_key
from integration_tests.fake_metronome.conditions import HTTP_DATE, NO_HEADER, SECONDS, Bursts, PiecewiseLimit, Stalls
from integration_tests.fake_metronome.timestamps import format_timestamp

BOTH_STREAMS = {USAGE: "incremental", COSTS: "incremental"}
READ_TIMEOUT_SECONDS = 60
DEFAULT_PACE = 6.0
LATENCY = 0.05


@dataclass(frozen=True)
class Scenario:
    name: str
    dataset: DatasetOptions
    page_size: int = 20
    requests_per_second: float = DEFAULT_PACE
    latency: float = LATENCY
    conditions: Callable[[], List[Any]] = list
    faults: Optional[FaultProbabilities] = None
    rate_limit: Optional[float] = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    kill_and_resume: bool = False


@dataclass
class Run:
    wall: float
    requests: int
    rate_limited: int
    records: int
    missing: int
    doubled: int
    state_bytes: int
    largest_state: int
    log: List[str]
    resumed_missing: Optional[int] = None


SMALL = DatasetOptions(customers=20, metrics_per_customer=3, days_of_history=30)
MEDIUM = DatasetOptions(customers=50, metrics_per_customer=3, days_of_history=30)
FAULTS = FaultProbabilities(server_error=0.05, dropped_connection=0.02)
DROP_AT, DROP_FOR = 20.0, 60.0


def _bursts(style: Optional[str]) -> Callable[[], List[Any]]:
    return lambda: [Bursts(period=4, duration=1, retry_after=style, phase=1.0)]


SCENARIOS = [
    Scenario("bursts-seconds", SMALL, conditions=_bursts(SECONDS), faults=FAULTS),
    Scenario("bursts-date", SMALL, conditions=_bursts(HTTP_DATE), faults=FAULTS),
    Scenario("bursts-none", SMALL, conditions=_bursts(NO_HEADER), faults=FAULTS),
    Scenario("limit-below-pace", SMALL, conditions=lambda: [PiecewiseLimit([(0, 4)])]),
    Scenario("limit-drops", MEDIUM, conditions=lambda: [PiecewiseLimit([(0, 8), (DROP_AT, 2), (DROP_AT + DROP_FOR, 8)])]),
    Scenario("no-stalls", SMALL),
    Scenario("stalls", SMALL, conditions=lambda: [Stalls([15, 40, 70], seconds=READ_TIMEOUT_SECONDS + 5)]),
    # At 100 requests/s the usage stream runs for about a minute: its state is checkpointed mid-stream,
    # where the kill lands (after the second usage STATE: the first is written as the stream starts).
    Scenario("state-3000", DatasetOptions(customers=3000, metrics_per_customer=1, days_of_history=3), page_size=100, requests_per_second=100, latency=0.01, kill_and_resume=True),
    Scenario(
        "speed-8",
        DatasetOptions(customers=30, metrics_per_customer=3, days_of_history=90, group_values_per_key=2, every_metric_grouped_by="region"),
        page_size=100,
        rate_limit=8,
        settings={"group_by": {"key": "region"}},
    ),
]


def run_once(scenario: Scenario, folder: Path) -> Run:
    with FakeMetronome(scenario.dataset, latency=scenario.latency, rate_limit=scenario.rate_limit, faults=scenario.faults, fault_seed=int(time.time())) as fake:
        fake.conditions.extend(scenario.conditions())
        settings = {"start_date": format_timestamp(fake.dataset.history_start), **scenario.settings}
        config = {
            "api_token": fake.token,
            "base_url": fake.url,
            "requests_per_second": scenario.requests_per_second,
            "max_concurrency": 4,
            "page_size": scenario.page_size,
            **settings,
        }
        config_path = write_json(folder / "config.json", config)
        catalog_path = write_json(folder / "catalog.json", configured_catalog(BOTH_STREAMS))
        expected = expected_records(fake.dataset, settings)
        started = time.monotonic()
        lines = _read(fake, ["--config", str(config_path), "--catalog", str(catalog_path)], folder / "output.jsonl")
        wall = time.monotonic() - started
        statuses = Counter(request.status for request in fake.requests)
        run = _measure(lines, expected, wall, len(fake.requests), statuses[429])
        if scenario.kill_and_resume:
            run.resumed_missing = _kill_and_resume(fake, folder, config_path, catalog_path, expected)
    return run


def _read(fake: FakeMetronome, arguments: List[str], output_path: Path, kill_after_states: Optional[int] = None) -> List[bytes]:
    """The connector's stdout lines; with `kill_after_states`, SIGKILLed once it printed that many
    usage STATE messages, as an evicted pod."""
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            [str(connector_command()), "read", *arguments],
            stdout=subprocess.PIPE if kill_after_states else output,
            stderr=subprocess.DEVNULL,
            env={**os.environ, NOW_OVERRIDE_ENV: fake.now.isoformat()},
        )
        if kill_after_states:
            states = 0
            for line in process.stdout:
                output.write(line)
                if line.startswith(b'{"type":"STATE"') and USAGE.encode() in line[:200]:
                    states += 1
                    if states >= kill_after_states:
                        process.send_signal(signal.SIGKILL)
                        break
            process.stdout.close()
        process.wait()
    return output_path.read_bytes().splitlines()


def _measure(lines: List[bytes], expected: Mapping[str, List[Mapping[str, Any]]], wall: float, requests: int, rate_limited: int) -> Run:
    emitted: Dict[str, List[Tuple[Any, ...]]] = {USAGE: [], COSTS: []}
    state_sizes: List[int] = []
    log: List[str] = []
    for line in lines:
        if line.startswith(b'{"type":"RECORD"'):
            record = orjson.loads(line)["record"]
            emitted[record["stream"]].append(primary_key(record["stream"], record["data"]))
        elif line.startswith(b'{"type":"STATE"'):
            state_sizes.append(len(line))
        elif line.startswith(b'{"type":"LOG"') and (b"partitions read" in line or b"429" in line or b"reading" in line):
            log.append(orjson.loads(line)["log"]["message"])
    missing = doubled = 0
    for stream, keys in emitted.items():
        wanted = {primary_key(stream, record) for record in expected[stream]}
        missing += len(wanted - set(keys))
        doubled += len(keys) - len(set(keys))
    return Run(wall, requests, rate_limited, sum(map(len, emitted.values())), missing, doubled, sum(state_sizes), max(state_sizes, default=0), log)


def _kill_and_resume(fake: FakeMetronome, folder: Path, config_path: Path, catalog_path: Path, expected: Mapping[str, List[Mapping[str, Any]]]) -> int:
    """Records missing from the union of a killed run and its resumption from the last STATE of each stream."""
    fake.reset_requests()
    killed = _read(fake, ["--config", str(config_path), "--catalog", str(catalog_path)], folder / "killed.jsonl", kill_after_states=2)
    last_states: Dict[str, Any] = {}
    keys: Dict[str, set] = {USAGE: set(), COSTS: set()}
    for line in killed:
        message = orjson.loads(line)
        if message["type"] == "STATE":
            last_states[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
        elif message["type"] == "RECORD":
            keys[message["record"]["stream"]].add(primary_key(message["record"]["stream"], message["record"]["data"]))
    state_path = write_json(folder / "state.json", list(last_states.values()))
    resumed = _read(fake, ["--config", str(config_path), "--catalog", str(catalog_path), "--state", str(state_path)], folder / "resumed.jsonl")
    for line in resumed:
        if line.startswith(b'{"type":"RECORD"'):
            record = orjson.loads(line)["record"]
            keys[record["stream"]].add(primary_key(record["stream"], record["data"]))
    return sum(len({primary_key(stream, record) for record in expected[stream]} - keys[stream]) for stream in keys)


def minimum_requests(scenario: Scenario) -> int:
    """Customer list pages + billable-metric list pages + usage pages + cost pages, each partition's
    whole range per request (see benchmarks/speed.py)."""
    with FakeMetronome(scenario.dataset) as fake:
        dataset = fake.dataset
        settings = {"start_date": format_timestamp(dataset.history_start), **scenario.settings}
        expected = expected_records(dataset, settings)
    size = scenario.page_size
    rows = Counter((record["customer_id"], record.get("billable_metric_id")) for stream in (USAGE, COSTS) for record in expected[stream])
    customers = [customer for customer in dataset.customers if not customer.archived]
    pages = math.ceil(len(customers) / size)
    for customer in customers:
        pages += max(1, math.ceil(len(customer.metric_ids) / size))
        pages += sum(max(1, math.ceil(rows[(customer.id, metric_id)] / size)) for metric_id in customer.metric_ids)
        pages += max(1, math.ceil(rows[(customer.id, None)] / size))
    return pages


def piecewise_floor(requests: float, pace: float) -> float:
    """Seconds to make `requests` at min(pace, the limit at that time)."""
    limit = PiecewiseLimit([(0, 8), (DROP_AT, 2), (DROP_AT + DROP_FOR, 8)])
    done, second = 0.0, 0.0
    step = 0.01
    while done < requests:
        done += min(pace, limit.limit_at(second)) * step
        second += step
    return second


def report(scenario: Scenario, runs: List[Run], minimum: int, baseline_wall: Optional[float]) -> Dict[str, str]:
    def median(attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in runs)

    wall, requests, rate_limited = median("wall"), median("requests"), median("rate_limited")
    share = rate_limited / requests if requests else 0
    name = scenario.name
    bound, checks = None, []
    if name.startswith("bursts"):
        floor = minimum / scenario.requests_per_second
        bound = 1.5 * floor / 0.75
        checks.append(share <= 0.10)
    elif name == "limit-below-pace":
        floor = minimum / 4
        bound = 1.3 * floor
        checks.append(share <= 0.10)
    elif name == "limit-drops":
        floor = piecewise_floor(minimum, scenario.requests_per_second)
        bound = 1.3 * floor
    elif name == "stalls":
        floor = minimum / scenario.requests_per_second
        bound = READ_TIMEOUT_SECONDS + 1.1 * baseline_wall if baseline_wall else None
    elif name == "speed-8":
        floor = max(requests / min(scenario.requests_per_second, scenario.rate_limit or math.inf), requests * scenario.latency / 4)
        bound = 1.1 * floor
        checks += [rate_limited == 0, requests == minimum]
    else:
        floor = minimum / scenario.requests_per_second
    if bound is not None:
        checks.append(wall <= bound)
    if name == "state-3000":
        checks += [median("state_bytes") <= 2_000_000, median("largest_state") <= 300_000, all(run.resumed_missing == 0 for run in runs)]
    checks += [all(run.missing == 0 and run.doubled == 0 for run in runs)]
    return {
        "scenario": name,
        "wall s": f"{wall:.1f}",
        "floor s": f"{floor:.1f}",
        "bound s": f"{bound:.1f}" if bound is not None else "-",
        "requests": f"{requests:.0f}",
        "minimum": str(minimum),
        "429s": f"{rate_limited:.0f} ({share:.1%})",
        "STATE bytes": f"{median('state_bytes'):,.0f}",
        "largest STATE": f"{median('largest_state'):,.0f}",
        "missing/doubled": f"{sum(run.missing for run in runs)}/{sum(run.doubled for run in runs)}"
        + (f", after kill: {sum(run.resumed_missing for run in runs)} missing" if scenario.kill_and_resume else ""),
        "meets bound": "yes" if all(checks) else "NO",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", action="append", choices=[scenario.name for scenario in SCENARIOS], help="default: all")
    parser.add_argument("--trace", action="store_true", help="print the progress log's pace lines of each run")
    args = parser.parse_args()
    selected = [scenario for scenario in SCENARIOS if not args.scenario or scenario.name in args.scenario]
    if any(scenario.name == "stalls" for scenario in selected) and not any(scenario.name == "no-stalls" for scenario in selected):
        selected.insert([scenario.name for scenario in selected].index("stalls"), next(s for s in SCENARIOS if s.name == "no-stalls"))
    rows, walls = [], {}
    for scenario in selected:
        minimum = minimum_requests(scenario)
        runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                runs.append(run_once(scenario, Path(folder)))
            if args.trace:
                print(f"--- {scenario.name}, run {len(runs)}: {runs[-1].wall:.1f} s")
                print("\n".join(runs[-1].log))
        walls[scenario.name] = statistics.median(run.wall for run in runs)
        rows.append(report(scenario, runs, minimum, walls.get("no-stalls")))
        print(" | ".join(f"{key} {value}" for key, value in rows[-1].items()), flush=True)
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
