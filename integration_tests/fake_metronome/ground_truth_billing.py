"""What a correct sync must emit for the twelve finance, catalog and audit streams, computed from
the dataset (finance.py, catalog.py, audit.py build the objects; the API is not asked).

Written from the streams' specification, independently of any connector code:
- `invoices` (primary key id, full refresh): every invoice of every customer (configured ids: those;
  archived customers included whatever include_archived_customers says, active ones first), all
  statuses, in their latest state, as served, with customer_id. `contracts` and `balances` read the
  same customers.
- `invoice_line_items` (invoice_id, line_item_id; full refresh): each invoice's `line_items` as
  served, plus invoice_id, customer_id, invoice_start_timestamp and invoice_end_timestamp (the
  invoice's start_timestamp/end_timestamp) and line_item_id (see invoice_line_item_ids).
- `contracts` (id, full refresh): every contract of each customer read, archived ones included, as
  served (by default without `include_balance`/`include_ledgers`), with customer_id.
- `balances` (id, full refresh): each customer read's commits and credits as served with
  include_archived, include_ledgers, include_balance and include_contract_balances true, plus
  customer_id. (The SDK: without include_contract_balances only customer-level balances come.)
- `credit_grants` (id): every grant that is not voided, account-wide, as served.
- `products` (archive_filter ALL), `rate_cards`, `credit_types`, `plans`, `packages` (archive_filter
  ALL), `billable_metric_definitions` (include_archived=true): every item as served (id).
- `audit_logs` (id, incremental on timestamp): every entry whose timestamp lies in the sync's window
  (audit_log_window), oldest first (date_asc), as served.

Records keep the served nulls (compare after ground_truth.without_nulls, as for the other streams).
"""

import hashlib
import json
from datetime import datetime
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from integration_tests.fake_metronome import audit, catalog, finance
from integration_tests.fake_metronome.customers_read import per_customer_read
from integration_tests.fake_metronome.dataset import Customer, Dataset
from integration_tests.fake_metronome.timestamps import format_timestamp, parse_timestamp

INVOICES = "invoices"
INVOICE_LINE_ITEMS = "invoice_line_items"
CONTRACTS = "contracts"
BALANCES = "balances"
CREDIT_GRANTS = "credit_grants"
PRODUCTS = "products"
RATE_CARDS = "rate_cards"
CREDIT_TYPES = "credit_types"
PLANS = "plans"
PACKAGES = "packages"
BILLABLE_METRIC_DEFINITIONS = "billable_metric_definitions"
AUDIT_LOGS = "audit_logs"
BILLING_STREAMS = (
    INVOICES,
    INVOICE_LINE_ITEMS,
    CONTRACTS,
    BALANCES,
    CREDIT_GRANTS,
    PRODUCTS,
    RATE_CARDS,
    CREDIT_TYPES,
    PLANS,
    PACKAGES,
    BILLABLE_METRIC_DEFINITIONS,
    AUDIT_LOGS,
)
# The oracle's own copy of the keys, on purpose: read from the connector's declarations, a wrong key
# would be checked against itself. integration_tests/test_ground_truth_agrees_with_declarations.py
# compares the two.
BILLING_PRIMARY_KEYS = {stream: ("id",) for stream in BILLING_STREAMS}
BILLING_PRIMARY_KEYS[INVOICE_LINE_ITEMS] = ("invoice_id", "line_item_id")
AUDIT_CURSOR_FIELD = "timestamp"

# The fields that tell a line item apart within its invoice, in this order (missing ones as null):
# every field of metronome-sdk 4.12's Invoice.LineItem that names the charge, not its amounts. The
# oracle's own copy of source_metronome/records.py's, on purpose, like the keys above;
# integration_tests/test_ground_truth_agrees_with_declarations.py compares the two.
LINE_ITEM_IDENTITY = (
    "type",
    "credit_type.id",
    "name",
    "product_id",
    "product_type",
    "commit_id",
    "commit_type",
    "commit_segment_id",
    "applied_commit_or_credit.id",
    "applied_commit_or_credit.type",
    "postpaid_commit.id",
    "scheduled_charge_id",
    "subscription_id",
    "is_prorated",
    "professional_service_id",
    "discount_id",
    "reseller_type",
    "group_key",
    "group_value",
    "presentation_group_values",
    "pricing_group_values",
    "tier.level",
    "tier.starting_at",
    "origin.customer_id",
    "origin.contract_id",
    "origin.invoice_id",
    "origin.line_item_id",
    "starting_at",
    "ending_before",
)


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def invoice_line_item_digest(line_item: Mapping[str, Any]) -> str:
    """The first 16 hex digits of SHA-256 of the compact JSON of the line item's LINE_ITEM_IDENTITY
    (timestamps in the `+00:00` form)."""
    identity = []
    for name in LINE_ITEM_IDENTITY:
        value: Any = line_item
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if name in ("starting_at", "ending_before") and value is not None:
            value = format_timestamp(parse_timestamp(value))
        identity.append(value)
    return hashlib.sha256(compact_json(identity).encode()).hexdigest()[:16]


def invoice_line_item_ids(line_items: List[Mapping[str, Any]]) -> List[str]:
    """Each line item's line_item_id, in served order: its digest, with -2, -3, ... appended to the
    second, third ... line item of the invoice with the same digest, counted in the order of their
    whole content as compact JSON (not in served order)."""
    digests = [invoice_line_item_digest(line_item) for line_item in line_items]
    ids = list(digests)
    for digest in set(digests):
        same = sorted((position for position, other in enumerate(digests) if other == digest), key=lambda position: compact_json(line_items[position]))
        for number, position in enumerate(same[1:], start=2):
            ids[position] = f"{digest}-{number}"
    return ids


def line_item_rows(parents: Iterable[Mapping[str, Any]], *copied: str) -> List[Dict[str, Any]]:
    """Each parent's (an invoice's, or a breakdown window's) `line_items` as rows: the line item as
    served, plus invoice_id, customer_id, invoice_start_timestamp and invoice_end_timestamp (the
    parent's id, customer_id, start_timestamp and end_timestamp), the parent's `copied` fields and
    line_item_id, numbered within the parent (invoice_line_item_ids)."""
    rows = []
    for parent in parents:
        for line_item, line_item_id in zip(parent["line_items"], invoice_line_item_ids(parent["line_items"])):
            rows.append(
                {
                    **line_item,
                    "invoice_id": parent["id"],
                    "customer_id": parent["customer_id"],
                    "invoice_start_timestamp": parent.get("start_timestamp"),
                    "invoice_end_timestamp": parent.get("end_timestamp"),
                    **{name: parent[name] for name in copied},
                    "line_item_id": line_item_id,
                }
            )
    return rows


def expected_contracts(dataset: Dataset, config: Mapping[str, Any], include_balance: bool = False, include_ledgers: bool = False) -> List[Dict[str, Any]]:
    """Every contract, archived ones included, as POST /v2/contracts/list serves it with
    include_archived and the given include_balance/include_ledgers."""

    def contracts(customer: Customer) -> Iterable[Dict[str, Any]]:
        for contract in finance.contracts_of(dataset, customer):
            yield finance.contract_item(dataset, contract, include_balance=include_balance, include_ledgers=include_ledgers)

    return per_customer_read(dataset, config, contracts)


def audit_log_window(
    dataset: Dataset,
    config: Mapping[str, Any],
    now: Optional[datetime] = None,
    state: Optional[Mapping[str, Mapping[str, Any]]] = None,
) -> Tuple[datetime, datetime]:
    """The audit log entries a sync reads, [start, end): start is config's start_date (as given, not
    floored), or in an incremental sync the later of it and the saved cursor (inclusive: entries at
    the cursor's moment are read again, as others may share it); end is the connector's clock `now`
    (by default the server's), or config's end_date when earlier."""
    now = now or dataset.now
    start = parse_timestamp(config["start_date"])
    saved = audit_log_cursor(state)
    if saved is not None:
        start = max(start, saved)
    end = now
    if config.get("end_date"):
        end = min(end, parse_timestamp(config["end_date"]))
    return start, end


def audit_log_cursor(state: Optional[Mapping[str, Mapping[str, Any]]]) -> Optional[datetime]:
    """The saved audit_logs cursor, from state[AUDIT_LOGS] = {"timestamp": "<RFC 3339>"}."""
    saved = ((state or {}).get(AUDIT_LOGS) or {}).get(AUDIT_CURSOR_FIELD)
    return parse_timestamp(saved) if saved else None


def expected_audit_logs(
    dataset: Dataset,
    config: Mapping[str, Any],
    now: Optional[datetime] = None,
    state: Optional[Mapping[str, Mapping[str, Any]]] = None,
) -> List[Dict[str, Any]]:
    start, end = audit_log_window(dataset, config, now, state)
    return audit.audit_log_items(dataset, starting_on=start, ending_before=end, sort="date_asc")


def expected_audit_log_cursor(
    dataset: Dataset,
    config: Mapping[str, Any],
    now: Optional[datetime] = None,
    state: Optional[Mapping[str, Mapping[str, Any]]] = None,
) -> Optional[str]:
    """The audit_logs cursor after a correct sync: the latest timestamp emitted, else the saved one
    (None when there is neither), formatted as the fake's default timestamps."""
    records = expected_audit_logs(dataset, config, now, state)
    if records:
        return records[-1][AUDIT_CURSOR_FIELD]
    saved = audit_log_cursor(state)
    return format_timestamp(saved) if saved else None


def expected_billing_records(
    dataset: Dataset,
    config: Mapping[str, Any],
    now: Optional[datetime] = None,
    state: Optional[Mapping[str, Mapping[str, Any]]] = None,
) -> Dict[str, List[Dict[str, Any]]]:
    """The twelve streams' records (also part of ground_truth.expected_records), each as the module
    docstring says."""
    invoices = per_customer_read(dataset, config, lambda customer: finance.invoice_items(dataset, customer))
    return {
        INVOICES: invoices,
        INVOICE_LINE_ITEMS: line_item_rows(invoices),
        CONTRACTS: expected_contracts(dataset, config),
        # All of them: as served with include_archived and include_contract_balances.
        BALANCES: per_customer_read(
            dataset, config, lambda customer: [balance.as_api(include_balance=True, include_ledgers=True) for balance in finance.balances_of(dataset, customer)]
        ),
        # Account-wide, whichever customers the sync reads; the voided grants are not listed.
        CREDIT_GRANTS: finance.credit_grant_items(dataset),
        PRODUCTS: catalog.product_items(dataset, archive_filter="ALL"),
        RATE_CARDS: catalog.rate_card_items(dataset),
        CREDIT_TYPES: catalog.credit_type_items(dataset),
        PLANS: catalog.plan_items(dataset),
        PACKAGES: catalog.package_items(dataset, archive_filter="ALL"),
        # GET /v1/billable-metrics?include_archived=true: archived metrics too.
        BILLABLE_METRIC_DEFINITIONS: [metric.as_account_api() for metric in dataset.metrics.values()],
        AUDIT_LOGS: expected_audit_logs(dataset, config, now, state),
    }
