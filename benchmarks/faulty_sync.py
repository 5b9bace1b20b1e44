"""A long sync against a faulty, rate-limited fake Metronome: how many retries it took, how many
partitions were skipped, and how many records went missing (which must be zero).

    .venv/bin/python -m benchmarks.faulty_sync [--customers 50] [--seed 1]

Not a test: it prints numbers for the resilience notes and docs.
"""

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from integration_tests.connector_cli import configured_catalog, run_connector, write_json
from integration_tests.fake_metronome import COSTS, USAGE, DatasetOptions, FakeMetronome, FaultProbabilities, expected_records, primary_key

SETTINGS = {"start_date": "2024-03-01", "page_size": 100}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50, help="partitions: customers × 3 metrics of usage, plus customers of costs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate-limit", type=float, default=20.0, help="requests per second before the fake answers 429 (no Retry-After)")
    args = parser.parse_args()

    options = DatasetOptions(seed=args.seed, customers=args.customers, metrics_per_customer=3, days_of_history=15)
    faults = FaultProbabilities(server_error=0.05, dropped_connection=0.02)
    with FakeMetronome(options, faults=faults, fault_seed=args.seed, rate_limit=args.rate_limit) as fake, tempfile.TemporaryDirectory() as folder:
        config = write_json(Path(folder) / "config.json", {"api_token": fake.token, "base_url": fake.url, **SETTINGS})
        catalog = write_json(Path(folder) / "catalog.json", configured_catalog({USAGE: "incremental", COSTS: "incremental"}))
        started = time.monotonic()
        run = run_connector(["read", "--config", str(config), "--catalog", str(catalog)], now=fake.now)
        wall = time.monotonic() - started

    outcomes = Counter(request.fault or ("429" if request.status == 429 else "ok") for request in fake.requests)
    expected = expected_records(fake.dataset, SETTINGS)
    partitions = args.customers * 3 + args.customers
    print(f"partitions: {partitions}; requests: {len(fake.requests)}; wall: {wall:.1f} s; exit code: {run.returncode}")
    print("answers: " + ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items())))
    print(f"retries (every answer but ok): {sum(count for name, count in outcomes.items() if name != 'ok')}")
    print(f"skipped partitions: {sum('skipping' in (message.log.message if message.log else '') for message in run.messages)}")
    for stream in (USAGE, COSTS):
        emitted = {primary_key(stream, record) for record in run.records(stream)}
        wanted = {primary_key(stream, record) for record in expected[stream]}
        print(f"{stream}: {len(emitted)} records, {len(wanted - emitted)} missing, {len(emitted - wanted)} unexpected")


if __name__ == "__main__":
    main()
