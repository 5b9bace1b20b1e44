"""Requests per stream for the finance, catalog and audit streams, and what the invoice sync choice
costs on a large account.

    .venv/bin/python -m benchmarks.billing_requests [--customers 50] [--invoice-customers 1000]
        [--contracts-era-customers 50 1000]

Table 1: one sync of every stream (usage and costs included) on a fake account, each stream's
requests by endpoint, and each billing stream alone. Table 2: invoices on a larger account, full
refresh (what the connector does) against the least an incremental read could send: one request
per customer and page either way, since the endpoint is per customer and a customer's invoices fit
one page of 100 for years. Table 3, per account size: each contracts-era stream alone (contract
edits, rate schedules, customer plans, alerts, billing-provider configurations), its requests by
endpoint against the fewest its endpoint allows, and contracts with contract_edits in one sync.
Not a test: it prints tables for notes.
"""

import argparse
import math
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, Mapping

from benchmarks.new_streams_requests import sync
from integration_tests.fake_metronome import (
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
    parser.add_argument("--contracts-era-customers", type=int, nargs="*", default=[50, 1000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        with FakeMetronome(DatasetOptions(customers=args.customers, metrics_per_customer=2, days_of_history=7)) as fake:
            settings: Dict[str, Any] = {"start_date": "2024-03-09", "requests_per_second": 1000}
            print(f"Fake account: {args.customers} customers, 2 metrics each, 7 days, page size 100.\n")
            every_stream(fake, folder, settings)
        invoices_on_a_large_account(args.invoice_customers, folder)
        for customers in args.contracts_era_customers:
            contracts_era_streams(customers, folder)


if __name__ == "__main__":
    main()
