"""Requests per stream for the finance, catalog and audit streams, what the invoice sync choice
costs on a large account, and what reading archived customers costs.

    .venv/bin/python -m benchmarks.billing_requests [--customers 50] [--invoice-customers 1000]
        [--archived-customers 1000 --archived-share 0.1] [--only archived]
        [--breakdown-customers 50 1000]
        [--contracts-era-customers 50 1000]

Table 1: one sync of every stream (usage and costs included) on a fake account, each stream's
requests by endpoint, and each billing stream alone. Table 2: invoices on a larger account, full
refresh (what the connector does) against the least an incremental read could send: one request
per customer and page either way, since the endpoint is per customer and a customer's invoices fit
one page of 100 for years. Table 3: one sync of every per-customer stream on an account with
archived customers, each endpoint's requests split into those for active customers and the extra
ones for archived customers (the archived list and their per-customer requests), which full-refresh
streams now send whatever include_archived_customers says. Table 4: the two invoice breakdown
streams on accounts of 50 and 1,000 customers: a first sync of 75 days (ceil(75 / 35) = 3 requests a customer at most), the next day's
incremental sync (its lookback fits one request a customer), and today in hourly windows (one
request a customer and day). Table 5, per account size: each contracts-era stream alone (contract
edits, rate schedules, customer plans, alerts, billing-provider configurations), its requests by
endpoint against the fewest its endpoint allows, and contracts with contract_edits in one sync.
Not a test: it prints tables for notes.
"""

import argparse
import math
import re
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

from benchmarks.directory_and_line_item_requests import endpoint, sync
from integration_tests.connector_cli import ConnectorRun, configured_catalog, run_connector, write_json
from integration_tests.fake_metronome import (
    BALANCES,
    BILLABLE_METRICS,
    BILLING_PROVIDER_CONFIGURATIONS,
    BILLING_STREAMS,
    CONTRACT_EDITS,
    CONTRACTS,
    CONTRACTS_ERA_STREAMS,
    COST_LINE_ITEMS,
    COSTS,
    CUSTOMER_ALERTS,
    CUSTOMER_PLANS,
    CUSTOMERS,
    INVOICE_LINE_ITEMS,
    INVOICES,
    RATE_CARD_RATES,
    USAGE,
    DatasetOptions,
    FakeMetronome,
    expected_contracts_era_records,
)
from integration_tests.fake_metronome.ground_truth_breakdowns import BREAKDOWN_STREAMS
from integration_tests.fake_metronome.catalog import rate_card_items
from integration_tests.fake_metronome.contracts_era import ALERTS_PAGE
from integration_tests.fake_metronome.finance import contracts_of

EVERY_STREAM = {
    USAGE: "incremental",
    COSTS: "incremental",
    COST_LINE_ITEMS: "incremental",
    CUSTOMERS: "full_refresh",
    "billable_metrics": "full_refresh",
    **{stream: "incremental" if stream == "audit_logs" else "full_refresh" for stream in BILLING_STREAMS},
}
INVOICES_ENDPOINT = re.compile(r"/invoices$")
CUSTOMER_IN_PATH = re.compile(r"^/v1/customers/(?P<customer_id>[^/]+)/")
BREAKDOWNS_ENDPOINT = re.compile(r"/invoices/breakdowns$")


def every_stream(fake: FakeMetronome, folder: Path, settings: Mapping[str, Any]) -> None:
    together, run = sync(fake, folder, "every-stream", settings, EVERY_STREAM)
    print("| endpoint | every stream in one sync |")
    print("|---|---:|")
    for name, count in sorted(together.items()):
        print(f"| `{name}` | {count} |")
    print(f"| **total** | {sum(together.values())} |\n")
    print("| billing stream alone | records | requests (customer listing included) |")
    print("|---|---:|---:|")
    for stream in BILLING_STREAMS:
        alone, alone_run = sync(fake, folder, stream, settings, {stream: EVERY_STREAM[stream]})
        print(f"| `{stream}` | {len(alone_run.records(stream))} | {sum(alone.values())} |")
    print()


def invoices_on_a_large_account(customers: int, folder: Path) -> None:
    options = DatasetOptions(customers=customers, metrics_per_customer=1, days_of_history=3)
    with FakeMetronome(options) as fake:
        settings = {"start_date": "2024-01-01", "requests_per_second": 1000, "max_concurrency": 8}
        counts, run = sync(fake, folder, "invoices-large", settings, {INVOICES: "full_refresh", INVOICE_LINE_ITEMS: "full_refresh"})
        invoice_requests = sum(count for name, count in counts.items() if INVOICES_ENDPOINT.search(name))
        read = len({invoice["customer_id"] for invoice in run.records(INVOICES)})
        print(f"| invoices on {customers} customers | requests |")
        print("|---|---:|")
        print(f"| full refresh, both invoice streams (measured) | {invoice_requests} invoices + {sum(counts.values()) - invoice_requests} customer listing |")
        print(f"| incremental per customer, the least it could send (one request per customer read) | {read} |")
        print(f"| records | {len(run.records(INVOICES))} invoices, {len(run.records(INVOICE_LINE_ITEMS))} line items |\n")


# Every stream that reads per customer: the full-refresh ones read archived customers, the
# incremental ones (usage and costs) only with include_archived_customers.
PER_CUSTOMER = {
    CUSTOMERS: "full_refresh",
    BILLABLE_METRICS: "full_refresh",
    INVOICES: "full_refresh",
    INVOICE_LINE_ITEMS: "full_refresh",
    CONTRACTS: "full_refresh",
    BALANCES: "full_refresh",
    USAGE: "incremental",
    COSTS: "incremental",
    COST_LINE_ITEMS: "incremental",
}


def archived_customers_cost(customers: int, share: float, folder: Path) -> None:
    options = DatasetOptions(customers=customers, metrics_per_customer=1, days_of_history=2, archived_share=share, busiest_customer_contracts=0)
    with FakeMetronome(options) as fake:
        archived = {customer.id for customer in fake.dataset.customers if customer.archived}
        settings = {"start_date": (fake.now.date() - timedelta(days=1)).isoformat(), "requests_per_second": 1000, "max_concurrency": 8}
        _, run = sync(fake, folder, "archived", settings, PER_CUSTOMER)
        active_counts: Counter = Counter()
        archived_counts: Counter = Counter()
        for request in fake.requests:
            name = endpoint(request.method, request.path)
            customer_id = _customer_of(request)
            for_archived = customer_id in archived or request.param("only_archived") == "true"
            (archived_counts if for_archived else active_counts)[name] += 1
        print(f"| {customers} customers, {len(archived)} archived: one sync of every per-customer stream | for active customers | extra for archived customers |")
        print("|---|---:|---:|")
        for name in sorted(set(active_counts) | set(archived_counts)):
            print(f"| `{name}` | {active_counts[name]} | {archived_counts[name]} |")
        total_active, total_archived = sum(active_counts.values()), sum(archived_counts.values())
        print(f"| **total** | {total_active} | {total_archived} (+{100 * total_archived / total_active:.1f}%) |")
        read = {record["customer_id"] for record in run.records(INVOICES)}
        print(f"\nArchived customers with invoices in the sync: {len(read & archived)} of {len(archived)}; "
              f"with usage (include_archived_customers off): {len({record['customer_id'] for record in run.records(USAGE)} & archived)}.\n")


def _customer_of(request: Any) -> Optional[str]:
    match = CUSTOMER_IN_PATH.match(request.path)
    if match:
        return match["customer_id"]
    body = request.body if isinstance(request.body, dict) else {}
    return body.get("customer_id")


def breakdowns_by_account_size(sizes: Sequence[int], folder: Path) -> None:
    print("| invoice breakdowns, both streams | customers | breakdown requests | per customer | pages asked twice | customer listing | windows | line items |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for customers in sizes:
        # One invoice a customer (this month's draft): requests do not depend on how many windows a range holds.
        options = DatasetOptions(customers=customers, metrics_per_customer=1, days_of_history=3, invoices_per_customer=1)
        with FakeMetronome(options) as fake:
            settings = {"start_date": "2024-01-01", "requests_per_second": 1000, "max_concurrency": 8}
            first = _breakdowns_sync(fake, folder, "first sync, 75 days, DAY", customers, settings)
            fake.advance(days=1)
            state = write_json(folder / "breakdowns-state.json", list(first.last_states().values()))
            _breakdowns_sync(fake, folder, "next day, incremental (lookback 7 days)", customers, settings, state)
            _breakdowns_sync(fake, folder, "today, HOUR", customers, {**settings, "start_date": "2024-03-16", "breakdown_window_size": "HOUR"})
    print()


def _breakdowns_sync(fake: FakeMetronome, folder: Path, scenario: str, customers: int, settings: Mapping[str, Any], state: Optional[Path] = None) -> ConnectorRun:
    fake.reset_requests()
    config = write_json(folder / "breakdowns-config.json", {"api_token": fake.token, "base_url": fake.url, **settings})
    catalog = write_json(folder / "breakdowns-catalog.json", configured_catalog(dict.fromkeys(BREAKDOWN_STREAMS, "incremental")))
    run = run_connector(["read", "--config", str(config), "--catalog", str(catalog), *(["--state", str(state)] if state else [])], now=fake.now)
    if run.returncode != 0:
        raise SystemExit(f"{scenario}: the sync failed: {run.error_messages()}\n{run.stderr[-2000:]}")
    asked = [request for request in fake.requests if BREAKDOWNS_ENDPOINT.search(request.path)]
    repeated = sum(count - 1 for count in Counter((request.path, tuple(sorted((k, tuple(v)) for k, v in request.query.items()))) for request in asked).values())
    listing = len(fake.requests) - len(asked)
    windows, line_items = (len(run.records(stream)) for stream in BREAKDOWN_STREAMS)
    print(f"| {scenario} | {customers} | {len(asked)} | {len(asked) / customers:.2f} | {repeated} | {listing} | {windows} | {line_items} |")
    return run


CONTRACTS_ERA_SETTINGS = {"start_date": "2024-01-01", "requests_per_second": 1000, "max_concurrency": 8}
PAGE = 100
OWN_ENDPOINT = {
    CONTRACT_EDITS: "POST /v2/contracts/getEditHistory",
    RATE_CARD_RATES: "POST /v1/contract-pricing/rate-cards/getRateSchedule",
    CUSTOMER_PLANS: "GET /v1/customers/{customer_id}/plans",
    CUSTOMER_ALERTS: "POST /v1/customer-alerts/list",
    BILLING_PROVIDER_CONFIGURATIONS: "POST /v1/getCustomerBillingProviderConfigurations",
}


def fewest_requests(fake: FakeMetronome, stream: str) -> int:
    """The fewest requests the stream's endpoint allows for the account (the customer, contract and
    rate card listings apart): a request per partition, and one per further page of the endpoint's
    largest page."""
    expected = expected_contracts_era_records(fake.dataset, CONTRACTS_ERA_SETTINGS)[stream]
    if stream == CONTRACT_EDITS:
        # Unpaged, one request per contract, whether or not it has edits.
        return sum(len(contracts) for contracts in _contracts_by_customer(fake).values())
    if stream == RATE_CARD_RATES:
        per_card = [sum(rate["rate_card_id"] == card["id"] for rate in expected) for card in rate_card_items(fake.dataset)]
        return sum(max(1, math.ceil(count / PAGE)) for count in per_card)
    if stream == BILLING_PROVIDER_CONFIGURATIONS:
        return len(fake.dataset.customers)
    page = ALERTS_PAGE if stream == CUSTOMER_ALERTS else PAGE
    per_customer = [sum(record["customer_id"] == customer.id for record in expected) for customer in fake.dataset.customers]
    return sum(max(1, math.ceil(count / page)) for count in per_customer)


def _contracts_by_customer(fake: FakeMetronome) -> Dict[str, list]:
    return {customer.id: contracts_of(fake.dataset, customer) for customer in fake.dataset.customers}


def contracts_era_streams(customers: int, folder: Path) -> None:
    options = DatasetOptions(customers=customers, metrics_per_customer=2, days_of_history=3)
    with FakeMetronome(options) as fake:
        print(f"| contracts-era stream alone, {customers} customers | records | requests by endpoint | the stream's own | fewest its endpoint allows |")
        print("|---|---:|---|---:|---:|")
        for stream in CONTRACTS_ERA_STREAMS:
            counts, run = sync(fake, folder, f"era-{stream}-{customers}", CONTRACTS_ERA_SETTINGS, {stream: "full_refresh"})
            by_endpoint = ", ".join(f"`{name}` {count}" for name, count in sorted(counts.items()))
            print(f"| `{stream}` | {len(run.records(stream))} | {by_endpoint} | {counts[OWN_ENDPOINT[stream]]} | {fewest_requests(fake, stream)} |")
        together, _ = sync(fake, folder, f"era-contracts-and-edits-{customers}", CONTRACTS_ERA_SETTINGS, {CONTRACTS: "full_refresh", CONTRACT_EDITS: "full_refresh"})
        alone, _ = sync(fake, folder, f"era-contracts-{customers}", CONTRACTS_ERA_SETTINGS, {CONTRACTS: "full_refresh"})
        listing = "POST /v2/contracts/list"
        print(f"| `contracts` + `contract_edits` in one sync | | {', '.join(f'`{name}` {count}' for name, count in sorted(together.items()))} | | `{listing}` {alone[listing]} (as `contracts` alone) |\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--invoice-customers", type=int, default=1000)
    parser.add_argument("--archived-customers", type=int, default=1000)
    parser.add_argument("--archived-share", type=float, default=0.1)
    parser.add_argument("--only", choices=["archived"], help="print only this table")
    parser.add_argument("--breakdown-customers", type=int, nargs="*", default=[50, 1000])
    parser.add_argument("--contracts-era-customers", type=int, nargs="*", default=[50, 1000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        if args.only == "archived":
            archived_customers_cost(args.archived_customers, args.archived_share, folder)
            return
        with FakeMetronome(DatasetOptions(customers=args.customers, metrics_per_customer=2, days_of_history=7)) as fake:
            settings: Dict[str, Any] = {"start_date": "2024-03-09", "requests_per_second": 1000}
            print(f"Fake account: {args.customers} customers, 2 metrics each, 7 days, page size 100.\n")
            every_stream(fake, folder, settings)
        invoices_on_a_large_account(args.invoice_customers, folder)
        archived_customers_cost(args.archived_customers, args.archived_share, folder)
        breakdowns_by_account_size(args.breakdown_customers, folder)
        for customers in args.contracts_era_customers:
            contracts_era_streams(customers, folder)


if __name__ == "__main__":
    main()
