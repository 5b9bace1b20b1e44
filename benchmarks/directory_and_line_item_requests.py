"""Requests per endpoint for the directory and line-item streams: demo syncs of a modest fake account
with the usage and cost streams, then with all five (customers, billable_metrics and customer_cost_line_items
added), and each stream alone, counting the requests per endpoint (method + path template).

    .venv/bin/python -m benchmarks.directory_and_line_item_requests [--customers 20] [--days 15] [--page-size 100]

Two tables: customers and metrics listed (the usage and cost streams already list them, so the
directory and line-item streams should add nothing), and customers and metrics named in the config
(the directory streams need the listings the usage and cost streams skip). "each stream alone" adds up five syncs of one stream each:
the requests if every stream asked for what it needs on its own. Not a test: it prints tables
for notes; integration_tests/test_directory_and_line_item_streams.py checks the same property exactly.
"""

import argparse
import re
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

from integration_tests.connector_cli import ConnectorRun, configured_catalog, run_connector, write_json
from integration_tests.fake_metronome import BILLABLE_METRICS, COST_LINE_ITEMS, COSTS, CUSTOMERS, USAGE, DatasetOptions, FakeMetronome

USAGE_AND_COSTS = {USAGE: "incremental", COSTS: "incremental"}
ALL_FIVE = {**USAGE_AND_COSTS, CUSTOMERS: "full_refresh", BILLABLE_METRICS: "full_refresh", COST_LINE_ITEMS: "incremental"}
CUSTOMER_PATH = re.compile(r"^/v1/customers/[^/]+/")


def endpoint(method: str, path: str) -> str:
    return f"{method} {CUSTOMER_PATH.sub('/v1/customers/{customer_id}/', path)}"


def sync(fake: FakeMetronome, folder: Path, name: str, settings: Mapping[str, Any], sync_modes: Mapping[str, str]) -> Tuple[Counter, ConnectorRun]:
    """Runs one read from scratch; returns its requests per endpoint."""
    fake.reset_requests()
    config = write_json(folder / f"{name}-config.json", {"api_token": fake.token, "base_url": fake.url, **settings})
    catalog = write_json(folder / f"{name}-catalog.json", configured_catalog(sync_modes))
    run = run_connector(["read", "--config", str(config), "--catalog", str(catalog)], now=fake.now)
    if run.returncode != 0:
        raise SystemExit(f"{name}: the sync failed: {run.error_messages()}\n{run.stderr[-2000:]}")
    return Counter(endpoint(request.method, request.path) for request in fake.requests), run


def table(fake: FakeMetronome, folder: Path, title: str, settings: Mapping[str, Any]) -> None:
    usage_and_costs, _ = sync(fake, folder, "usage_and_costs", settings, USAGE_AND_COSTS)
    everything, run = sync(fake, folder, "all-five", settings, ALL_FIVE)
    alone: Counter = Counter()
    for stream, mode in ALL_FIVE.items():
        alone += sync(fake, folder, stream, settings, {stream: mode})[0]
    print(f"### {title}")
    print("Records in the five-stream sync: " + ", ".join(f"{stream} {len(run.records(stream))}" for stream in ALL_FIVE) + ".")
    print()
    print("| endpoint | usage + costs | all five streams | added by the other three | each stream alone (5 syncs) |")
    print("|---|---:|---:|---:|---:|")
    for name in sorted(set(usage_and_costs) | set(everything) | set(alone)):
        print(f"| `{name}` | {usage_and_costs[name]} | {everything[name]} | {everything[name] - usage_and_costs[name]:+d} | {alone[name]} |")
    totals = [sum(counts.values()) for counts in (usage_and_costs, everything, alone)]
    print(f"| **total** | {totals[0]} | {totals[1]} | {totals[1] - totals[0]:+d} | {totals[2]} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--days", type=int, default=15, help="days read, today's partial day included")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    options = DatasetOptions(seed=args.seed, customers=args.customers, metrics_per_customer=3, days_of_history=args.days, archived_share=0.1)
    with FakeMetronome(options) as fake, tempfile.TemporaryDirectory() as folder_name:
        settings: Dict[str, Any] = {
            "start_date": (fake.now.date() - timedelta(days=args.days - 1)).isoformat(),
            "include_archived_customers": True,
            "page_size": args.page_size,
            # Far above Metronome's pace: this counts requests, benchmarks/speed.py times them.
            "requests_per_second": 1000,
        }
        print(
            f"Fake account: {args.customers} customers ({round(args.customers * 0.1)} archived), 3 billable metrics each, "
            f"{args.days} days from {settings['start_date']}, page size {args.page_size}, DAY windows, seed {args.seed}.\n"
        )
        table(fake, Path(folder_name), "Customers and metrics listed (no ids configured, archived customers included)", settings)
        customers = fake.dataset.customers
        named = {"customer_ids": [customer.id for customer in customers], "billable_metric_ids": list(customers[0].metric_ids)}
        table(fake, Path(folder_name), "Every customer and the first one's metrics named in the config", {**settings, **named})


if __name__ == "__main__":
    main()
