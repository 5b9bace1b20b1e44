"""Requests per stream for the finance, catalog and audit streams, and what the invoice sync choice
costs on a large account.

    .venv/bin/python -m benchmarks.billing_requests [--customers 50] [--invoice-customers 1000]

Table 1: one sync of every stream (usage and costs included) on a fake account, each stream's
requests by endpoint, and each billing stream alone. Table 2: invoices on a larger account, full
refresh (what the connector does) against the least an incremental read could send: one request
per customer and page either way, since the endpoint is per customer and a customer's invoices fit
one page of 100 for years. Not a test: it prints tables for notes.
"""

import argparse
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, Mapping

from benchmarks.directory_and_line_item_requests import sync
from integration_tests.fake_metronome import BILLING_STREAMS, COST_LINE_ITEMS, COSTS, CUSTOMERS, INVOICE_LINE_ITEMS, INVOICES, USAGE, DatasetOptions, FakeMetronome

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--invoice-customers", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        with FakeMetronome(DatasetOptions(customers=args.customers, metrics_per_customer=2, days_of_history=7)) as fake:
            settings: Dict[str, Any] = {"start_date": "2024-03-09", "requests_per_second": 1000}
            print(f"Fake account: {args.customers} customers, 2 metrics each, 7 days, page size 100.\n")
            every_stream(fake, folder, settings)
        invoices_on_a_large_account(args.invoice_customers, folder)


if __name__ == "__main__":
    main()
