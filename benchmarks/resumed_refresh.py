"""What a resumed full refresh saves: a full refresh of the per-customer money streams (invoices,
invoice_line_items, contracts, balances) killed once half its requests are made, then retried with
its last STATE (same sync_id), against the same refresh started over (what 0.3.0 did).

    .venv/bin/python -m benchmarks.resumed_refresh [--customers 1000] [--runs 3] [--state-customers 3000]

The syncs run against the fake Metronome as fast as it answers; minutes are the requests at the
default pace of 6 requests a second (spec.yaml), which is what a sync of an account this size waits
on. Also measured: the STATE messages' size, on a full refresh of invoices over --state-customers.
Prints medians of --runs runs. Not a test: the numbers go in docs/metronome.md.
"""

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List

from benchmarks.speed import print_table
from integration_tests.connector_cli import ConnectorRun, configured_catalog, run_connector, run_connector_killed_after, write_json
from integration_tests.fake_metronome import BALANCES, CONTRACTS, INVOICE_LINE_ITEMS, INVOICES, DatasetOptions, FakeMetronome

STREAMS = (INVOICES, INVOICE_LINE_ITEMS, CONTRACTS, BALANCES)
# The connector's default pace (spec.yaml): Metronome allows about 8 requests a second per account.
DEFAULT_PACE = 6.0
KILL_AT_SHARE = 0.5
CHECK_EVERY_LINES = 50
SYNC_ID = 1


def catalog(streams: Any) -> Dict[str, Any]:
    configured = configured_catalog({stream: "full_refresh" for stream in streams})
    for stream in configured["streams"]:
        stream["sync_id"] = SYNC_ID
    return configured


def read(fake: FakeMetronome, folder: Path, name: str, streams: Any, state: Any = None, kill_after_requests: int = 0) -> Dict[str, Any]:
    config = {"api_token": fake.token, "base_url": fake.url, "start_date": "2024-02-01", "requests_per_second": 1000}
    arguments = ["read", "--config", str(write_json(folder / f"{name}-config.json", config)), "--catalog", str(write_json(folder / f"{name}-catalog.json", catalog(streams)))]
    if state is not None:
        arguments += ["--state", str(write_json(folder / f"{name}-state.json", state))]
    before = len(fake.requests)
    if kill_after_requests:
        run = run_connector_killed_after(arguments, fake.now, lines=1, stderr_path=folder / f"{name}-stderr.txt", at=requests_made(fake, before + kill_after_requests))
    else:
        run = run_connector(arguments, fake.now)
        if run.returncode != 0:
            raise SystemExit(run.describe())
    return {"run": run, "requests": len(fake.requests) - before}


def requests_made(fake: FakeMetronome, count: int) -> Callable[[Dict[str, Any]], bool]:
    """Whether the fake has answered `count` requests, looked at every few lines: the fake's log is
    copied at each look, and looking at every line would slow the sync it measures."""
    lines = [0]

    def made(_: Dict[str, Any]) -> bool:
        lines[0] += 1
        return lines[0] % CHECK_EVERY_LINES == 0 and len(fake.requests) >= count

    return made


def state_sizes(run: ConnectorRun) -> List[int]:
    return [len(json.dumps(raw["state"]["stream"]["stream_state"], separators=(",", ":"))) for raw in run.raw_of_type("STATE")]


def resume_once(customers: int) -> Dict[str, float]:
    with FakeMetronome(DatasetOptions(customers=customers, metrics_per_customer=1, days_of_history=3)) as fake, tempfile.TemporaryDirectory() as folder:
        full = read(fake, Path(folder), "full", STREAMS)
        killed = read(fake, Path(folder), "killed", STREAMS, kill_after_requests=int(KILL_AT_SHARE * full["requests"]))
        resumed = read(fake, Path(folder), "resumed", STREAMS, state=list(killed["run"].last_states().values()))
    return {
        "full": full["requests"],
        "killed": killed["requests"],
        "resumed": resumed["requests"],
        "read_again": killed["requests"] + resumed["requests"] - full["requests"],
    }


def state_once(customers: int) -> Dict[str, float]:
    with FakeMetronome(DatasetOptions(customers=customers, metrics_per_customer=1, days_of_history=1)) as fake, tempfile.TemporaryDirectory() as folder:
        sizes = state_sizes(read(fake, Path(folder), "state", (INVOICES,))["run"])
    return {"messages": len(sizes), "largest": max(sizes), "total": sum(sizes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--state-customers", type=int, default=3000)
    arguments = parser.parse_args()

    runs = [resume_once(arguments.customers) for _ in range(arguments.runs)]
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    saved = median["full"] - median["resumed"]
    print_table(
        [
            {
                "customers": f"{arguments.customers:,}",
                "requests, whole refresh": f"{median['full']:,.0f}",
                f"requests before the kill at {KILL_AT_SHARE:.0%}": f"{median['killed']:,.0f}",
                "requests, retry started over": f"{median['full']:,.0f}",
                "requests, retry resumed": f"{median['resumed']:,.0f}",
                "requests made twice": f"{median['read_again']:,.0f}",
                "requests saved": f"{saved:,.0f} ({saved / median['full']:.0%})",
                f"minutes saved at {DEFAULT_PACE:g} requests/s": f"{saved / DEFAULT_PACE / 60:.1f}",
            }
        ]
    )
    print()
    sizes = [state_once(arguments.state_customers) for _ in range(arguments.runs)]
    print_table(
        [
            {
                "customers (invoices, full refresh)": f"{arguments.state_customers:,}",
                "STATE messages": f"{statistics.median(size['messages'] for size in sizes):,.0f}",
                "largest STATE (bytes)": f"{statistics.median(size['largest'] for size in sizes):,.0f}",
                "all STATE together (MB)": f"{statistics.median(size['total'] for size in sizes) / 1e6:.2f}",
            }
        ]
    )


if __name__ == "__main__":
    main()
