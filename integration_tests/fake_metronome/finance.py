"""Money owed and held: invoices, contracts, their commits and credits (balances), credit grants.

Shapes follow metronome-sdk 4.12: `types/v1/customers/invoice.py` (Invoice, LineItem),
`types/shared/contract_v2.py` (POST /v2/contracts/list), `types/shared/commit.py` and `credit.py`
(customerBalances/list), `types/v1/credit_grant_list_response.py` and `credit_ledger_entry.py`.
Everything is derived from the dataset (seeded hashes, its clock and revision), so the server and the
ground truth compute the same objects. Amounts are in cents and multiples of a quarter, exact in
binary floating point, so every sum below is exact.
Routes and the parameters each honours: integration_tests/README.md.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple

from integration_tests.fake_metronome.catalog import (
    ALL_USAGE,
    PLATFORM_FEE,
    PREPAID_COMMITMENT,
    PROMOTIONAL_CREDIT,
    SEATS,
    Product,
    credit_type_data,
    product_named,
    products,
    rate_card_id,
)
from integration_tests.fake_metronome.dataset import COMPUTE_CREDITS, USD_CENTS, Customer, Dataset, month_after, month_day
from integration_tests.fake_metronome.request import ApiError, Request, known_customer, moment, string_list
from integration_tests.fake_metronome.seeding import seeded_int, seeded_uuid
from integration_tests.fake_metronome.timestamps import OFFSET_STYLE, floor_to_midnight, format_timestamp, parse_timestamp

DRAFT, FINALIZED, VOID = "DRAFT", "FINALIZED", "VOID"
CREATED_BY = "admin@example.com"
COMMIT_AMOUNT = 100000.0
CONTRACT_CREDIT_AMOUNT = 20000.0
CUSTOMER_CREDIT_AMOUNT = 10000.0
APPLIED_COMMIT = -1250.25
SEAT_PRICE = 1000.0
PLATFORM_FEE_CENTS = 5000.0
# The first metric on a plan is priced in tiers: the first TIER_SIZE units at its unit price, the
# rest at half of it, one line item per tier (metronome-sdk Invoice.LineItem.tier).
TIER_SIZE = 100


# Invoices


@dataclass(frozen=True)
class Invoice:
    id: str
    customer_id: str
    status: str
    start_timestamp: datetime
    end_timestamp: datetime
    issued_at: datetime
    line_items: Tuple[Dict[str, Any], ...]
    contract_id: Optional[str]
    regenerated_from_invoice_id: Optional[str]

    @property
    def total(self) -> float:
        return sum(item["total"] for item in self.line_items)

    def as_api(self, style: str = OFFSET_STYLE) -> Dict[str, Any]:
        item = {
            "id": self.id,
            "customer_id": self.customer_id,
            "type": "USAGE",
            "status": self.status,
            "credit_type": credit_type_data(USD_CENTS),
            # Exactly the sum of the line items' totals, applied commits (negative) included.
            "total": self.total,
            # Before applied commits and credits.
            "subtotal": sum(line["total"] for line in self.line_items if line["type"] != "applied_commit_or_credit"),
            "start_timestamp": format_timestamp(self.start_timestamp, style),
            "end_timestamp": format_timestamp(self.end_timestamp, style),
            "issued_at": format_timestamp(self.issued_at, style),
            "contract_id": self.contract_id,
            "net_payment_terms_days": 30,
            "custom_fields": {},
            "invoice_adjustments": [],
            "line_items": [_formatted_line(line, style) for line in self.line_items],
        }
        if self.regenerated_from_invoice_id:
            item["regenerated_from_invoice_id"] = self.regenerated_from_invoice_id
        return item


def invoices_of(dataset: Dataset, customer: Customer) -> List[Invoice]:
    """The customer's invoices, newest period first (see DatasetOptions.invoices_per_customer).

    The DRAFT (the current month) changes with late data: from revision 1 on it is FINALIZED (for
    customers at an even position) or VOID (odd), keeps its id and counts 10 more of each usage.
    Line items come in the order built, or reversed with `dataset.line_items_reversed`.
    """
    index = dataset.customers.index(customer)
    contract = next(iter(contracts_of(dataset, customer)), None)
    late = dataset.revision >= 1
    invoices = []
    for number in range(dataset.options.invoices_per_customer):
        period_index, status, regenerated_from = _invoice_slot(number)
        if number == 0 and late:
            status = FINALIZED if index % 2 == 0 else VOID
        # Calendar months, midnight UTC on the first.
        now = dataset.options.now
        start, end = (month_day(*month_after(now.year, now.month, months), 1) for months in (-period_index, 1 - period_index))
        invoice_id = _invoice_id(dataset, customer, number)
        applied = contract is not None and number > 0 and status == FINALIZED
        line_items = _line_items(dataset, customer, number, start, end, late and number == 0, contract if applied else None)
        invoices.append(
            Invoice(
                id=invoice_id,
                customer_id=customer.id,
                status=status,
                start_timestamp=start,
                end_timestamp=end,
                # Issued at the end of the period (for a draft: when it is due to be).
                issued_at=end,
                line_items=tuple(reversed(line_items)) if dataset.line_items_reversed else tuple(line_items),
                contract_id=contract.id if contract else None,
                regenerated_from_invoice_id=_invoice_id(dataset, customer, regenerated_from) if regenerated_from is not None else None,
            )
        )
    return invoices


def sorted_invoices(dataset: Dataset, customer: Customer, sort: str = "date_asc") -> List[Invoice]:
    """In `sort` order, as Metronome lists them: by issued_at, then id."""
    return sorted(invoices_of(dataset, customer), key=lambda invoice: (invoice.issued_at, invoice.id), reverse=sort == "date_desc")


def invoice_items(dataset: Dataset, customer: Customer, style: str = OFFSET_STYLE, sort: str = "date_asc") -> List[Dict[str, Any]]:
    """GET /v1/customers/{id}/invoices without filters."""
    return [invoice.as_api(style) for invoice in sorted_invoices(dataset, customer, sort)]


def _invoice_slot(number: int) -> Tuple[int, str, Optional[int]]:
    """(months back, status, the invoice it was regenerated from) of the customer's invoice `number`."""
    pattern = ((0, DRAFT, None), (1, FINALIZED, None), (2, VOID, None), (2, FINALIZED, 2))
    return pattern[number] if number < len(pattern) else (number - 1, FINALIZED, None)


def _invoice_id(dataset: Dataset, customer: Customer, number: int) -> str:
    return seeded_uuid(dataset.options.seed, "invoice", customer.id, number)


def _line_items(dataset: Dataset, customer: Customer, number: int, start: datetime, end: datetime, late: bool, contract: Optional["Contract"]) -> List[Dict[str, Any]]:
    """Usage per metric (split by its first group key; the first metric in two tiers), the platform
    fee, seats in two (three on the second invoice) prorated pieces whose identifying fields are
    equal, and an applied commit."""
    seed = dataset.options.seed
    usd = credit_type_data(USD_CENTS)
    period = {"starting_at": start, "ending_before": end}
    lines: List[Dict[str, Any]] = []
    # The catalog once, rather than once per line item.
    listed = products(dataset)
    by_metric = {product.billable_metric_id: product for product in listed if product.billable_metric_id}
    by_name = {product.name: product for product in listed if product.billable_metric_id is None}
    for position, metric in enumerate(dataset.metrics_of(customer)):
        product = by_metric[metric.id]
        key = metric.group_keys[0] if metric.group_keys else None
        for value in ([f"{key}-a", f"{key}-b"] if key else [None]):
            quantity = 1 + seeded_int(seed, "invoice-quantity", customer.id, number, metric.id, value) % 400 + (10 if late else 0)
            unit_price = (1 + seeded_int(seed, "invoice-price", metric.id) % 20) / 4
            # (tier, its quantity, its unit price): halving a multiple of a quarter stays exact.
            tiers = [(None, quantity, unit_price)]
            if position == 0:
                tiers = [({"level": 1.0, "starting_at": "0", "size": str(TIER_SIZE)}, min(quantity, TIER_SIZE), unit_price)]
                if quantity > TIER_SIZE:
                    tiers.append(({"level": 2.0, "starting_at": str(TIER_SIZE)}, quantity - TIER_SIZE, unit_price / 2))
            for tier, tier_quantity, tier_price in tiers:
                line = _priced_line("usage", product, "UsageProductListItem", tier_quantity, tier_price, **period)
                if tier:
                    line["tier"] = tier
                if key:
                    line.update(group_key=key, group_value=value, presentation_group_values={key: value})
                lines.append(line)
    charge_id = seeded_uuid(seed, "scheduled-charge", customer.id, number)
    lines.append(_priced_line("scheduled", by_name[PLATFORM_FEE], "FixedProductListItem", 1, PLATFORM_FEE_CENTS, scheduled_charge_id=charge_id))
    subscription_id = seeded_uuid(seed, "subscription", customer.id)
    for quantity in (3, 2, 1)[: 3 if number == 1 else 2]:
        seats = _priced_line("subscription", by_name[SEATS], "SubscriptionProductListItem", quantity, SEAT_PRICE, subscription_id=subscription_id, is_prorated=True)
        lines.append({**seats, **period})
    if contract is not None:
        commit_id = contract.commit_id
        lines.append(
            {
                "type": "applied_commit_or_credit",
                "name": PREPAID_COMMITMENT,
                "credit_type": usd,
                "commit_id": commit_id,
                "commit_type": "PrepaidCommit",
                "applied_commit_or_credit": {"id": commit_id, "type": "PREPAID", "access_type": "SPEND"},
                "total": APPLIED_COMMIT,
                **period,
            }
        )
    return lines


def _priced_line(kind: str, product: Product, product_type: str, quantity: int, unit_price: float, **fields: Any) -> Dict[str, Any]:
    """A line item charging `quantity` of the product at `unit_price`, in USD cents."""
    return {
        "type": kind,
        "name": product.name,
        "credit_type": credit_type_data(USD_CENTS),
        "product_id": product.id,
        "product_type": product_type,
        **fields,
        "quantity": float(quantity),
        "unit_price": unit_price,
        "total": quantity * unit_price,
        "custom_fields": {},
    }


def _formatted_line(line: Dict[str, Any], style: str) -> Dict[str, Any]:
    return {name: format_timestamp(value, style) if isinstance(value, datetime) else value for name, value in line.items()}


# Contracts, their commits and credits


@dataclass(frozen=True)
class Contract:
    id: str
    customer_id: str
    number: int
    starting_at: datetime
    ending_before: datetime
    archived_at: Optional[datetime]

    @property
    def commit_id(self) -> str:
        return seeded_uuid(self.id, "commit")

    @property
    def credit_id(self) -> Optional[str]:
        """Every other contract (the first, third, ...) also grants a credit."""
        return seeded_uuid(self.id, "credit") if self.number % 2 == 0 else None


def contracts_of(dataset: Dataset, customer: Customer) -> List[Contract]:
    """The customer's contracts, newest first; the second is archived. The first customer has
    `busiest_customer_contracts` of them (when more than 0), the others `contracts_per_customer`."""
    options = dataset.options
    index = dataset.customers.index(customer)
    count = options.busiest_customer_contracts if index == 0 and options.busiest_customer_contracts else options.contracts_per_customer
    start = floor_to_midnight(dataset.history_start)
    contracts = []
    for number in range(count):
        starting_at = start - timedelta(days=30 * (number + 1))
        contracts.append(
            Contract(
                id=seeded_uuid(options.seed, "contract", customer.id, number),
                customer_id=customer.id,
                number=number,
                starting_at=starting_at,
                ending_before=starting_at + timedelta(days=365),
                archived_at=options.now - timedelta(days=2) if number == 1 else None,
            )
        )
    return contracts


def contract_item(dataset: Dataset, contract: Contract, style: str = OFFSET_STYLE, include_balance: bool = False, include_ledgers: bool = False) -> Dict[str, Any]:
    """As POST /v2/contracts/list lists it (ContractV2); commits and credits carry `balance` and
    `ledger` only when asked for."""
    balances = _balances_of_contract(dataset, contract)
    customer = dataset.customer(contract.customer_id)
    return {
        "id": contract.id,
        "customer_id": contract.customer_id,
        "name": f"{customer.name} contract {contract.number + 1}",
        "created_at": format_timestamp(contract.starting_at - timedelta(days=1), style),
        "created_by": CREATED_BY,
        "starting_at": format_timestamp(contract.starting_at, style),
        "ending_before": format_timestamp(contract.ending_before, style),
        "archived_at": format_timestamp(contract.archived_at, style) if contract.archived_at else None,
        "rate_card_id": rate_card_id(dataset, 0) if dataset.options.rate_cards else None,
        "commits": [balance.as_api(style, include_balance, include_ledgers) for balance in balances if balance.type != "CREDIT"],
        "credits": [balance.as_api(style, include_balance, include_ledgers) for balance in balances if balance.type == "CREDIT"],
        "overrides": [],
        "scheduled_charges": [],
        "transitions": [],
        "usage_filter": [],
        "usage_statement_schedule": {"billing_anchor_date": format_timestamp(contract.starting_at, style), "frequency": "MONTHLY"},
        "custom_fields": {},
    }


@dataclass(frozen=True)
class Balance:
    """A commit (PREPAID) or credit (CREDIT), on a contract or (contract None) on the customer."""

    id: str
    type: str
    product_name: str
    product_id: str
    amount: float
    starting_at: datetime
    ending_before: datetime
    created_at: datetime
    contract_id: Optional[str]
    archived_at: Optional[datetime]
    # (timestamp, amount, type, extra fields) after the segment start.
    entries: Tuple[Tuple[datetime, float, str, Tuple[Tuple[str, str], ...]], ...]

    @property
    def segment_id(self) -> str:
        return seeded_uuid(self.id, "segment")

    @property
    def balance(self) -> float:
        return self.amount + sum(entry[1] for entry in self.entries)

    def ledger(self, style: str) -> List[Dict[str, Any]]:
        start = "PREPAID_COMMIT_SEGMENT_START" if self.type == "PREPAID" else "CREDIT_SEGMENT_START"
        ledger = [{"type": start, "amount": self.amount, "segment_id": self.segment_id, "timestamp": format_timestamp(self.starting_at, style)}]
        for timestamp, amount, kind, extra in self.entries:
            entry = {"type": kind, "amount": amount, "timestamp": format_timestamp(timestamp, style), **dict(extra)}
            if not kind.endswith("_MANUAL"):
                entry["segment_id"] = self.segment_id
            ledger.append(entry)
        return ledger

    def as_api(self, style: str = OFFSET_STYLE, include_balance: bool = False, include_ledgers: bool = False) -> Dict[str, Any]:
        item: Dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "name": self.product_name,
            "product": {"id": self.product_id, "name": self.product_name},
            "created_at": format_timestamp(self.created_at, style),
            "priority": 1.0 if self.type == "PREPAID" else 2.0,
            "access_schedule": {
                "credit_type": credit_type_data(USD_CENTS),
                "schedule_items": [
                    {
                        "id": self.segment_id,
                        "amount": self.amount,
                        "starting_at": format_timestamp(self.starting_at, style),
                        "ending_before": format_timestamp(self.ending_before, style),
                    }
                ],
            },
        }
        if self.contract_id:
            item["contract"] = {"id": self.contract_id}
        if self.type == "PREPAID":
            # shared.Credit has no archived_at: a credit's archiving shows only through its contract's.
            item["archived_at"] = format_timestamp(self.archived_at, style) if self.archived_at else None
        if include_balance:
            item["balance"] = self.balance
        if include_ledgers:
            item["ledger"] = self.ledger(style)
        return item


def balances_of(dataset: Dataset, customer: Customer) -> List[Balance]:
    """The customer's commits and credits: its own promotional credit, then each contract's
    commit and (every other contract) credit, newest contract first."""
    seed = dataset.options.seed
    start = floor_to_midnight(dataset.history_start) - timedelta(days=15)
    own = Balance(
        id=seeded_uuid(seed, "customer-credit", customer.id),
        type="CREDIT",
        product_name=PROMOTIONAL_CREDIT,
        product_id=product_named(dataset, PROMOTIONAL_CREDIT).id,
        amount=CUSTOMER_CREDIT_AMOUNT,
        starting_at=start,
        ending_before=start + timedelta(days=365),
        created_at=start - timedelta(days=1),
        contract_id=None,
        archived_at=None,
        entries=((start + timedelta(days=3), -2500.5, "CREDIT_MANUAL", (("reason", "Goodwill adjustment"),)),),
    )
    return [own] + [balance for contract in contracts_of(dataset, customer) for balance in _balances_of_contract(dataset, contract)]


def _balances_of_contract(dataset: Dataset, contract: Contract) -> List[Balance]:
    """The contract's commit (its ledger: each FINALIZED invoice's applied commit; on an archived
    contract, expired in full) and, every other contract, a credit with a manual deduction."""
    customer = dataset.customer(contract.customer_id)
    entries: List[Tuple[datetime, float, str, Tuple[Tuple[str, str], ...]]] = []
    if contract.archived_at is not None:
        entries.append((contract.archived_at, -COMMIT_AMOUNT, "PREPAID_COMMIT_EXPIRATION", ()))
    elif contract.number == 0:
        applied = [
            invoice
            for invoice in sorted(_finalized_with_commit(dataset, customer), key=lambda invoice: invoice.issued_at)
            if any(line.get("commit_id") == contract.commit_id for line in invoice.line_items)
        ]
        for invoice in applied:
            extra = (("invoice_id", invoice.id), ("contract_id", contract.id))
            entries.append((invoice.issued_at, APPLIED_COMMIT, "PREPAID_COMMIT_AUTOMATED_INVOICE_DEDUCTION", extra))

    def balance(balance_id: str, kind: str, product: str, amount: float, ledger: Tuple[Any, ...]) -> Balance:
        return Balance(
            id=balance_id,
            type=kind,
            product_name=product,
            product_id=product_named(dataset, product).id,
            amount=amount,
            starting_at=contract.starting_at,
            ending_before=contract.ending_before,
            created_at=contract.starting_at - timedelta(days=1),
            contract_id=contract.id,
            archived_at=contract.archived_at,
            entries=ledger,
        )

    balances = [balance(contract.commit_id, "PREPAID", PREPAID_COMMITMENT, COMMIT_AMOUNT, tuple(entries))]
    if contract.credit_id:
        used = ((contract.starting_at + timedelta(days=1), -500.5, "CREDIT_MANUAL", (("reason", "Service credit used"),)),)
        balances.append(balance(contract.credit_id, "CREDIT", PROMOTIONAL_CREDIT, CONTRACT_CREDIT_AMOUNT, used))
    return balances


def _finalized_with_commit(dataset: Dataset, customer: Customer) -> List[Invoice]:
    return [invoice for invoice in invoices_of(dataset, customer) if any(line["type"] == "applied_commit_or_credit" for line in invoice.line_items)]


# Credit grants (the older Plans API)


def credit_grant_items(dataset: Dataset, style: str = OFFSET_STYLE, include_voided: bool = False) -> List[Dict[str, Any]]:
    """Every customer's grants (archived customers' too), `credit_grants_per_customer` each, plus
    one voided grant each that POST /v1/credits/listGrants leaves out (`include_voided` shows it,
    for tests)."""
    seed = dataset.options.seed
    start = floor_to_midnight(dataset.history_start)
    items = []
    for customer in dataset.customers:
        for number in range(dataset.options.credit_grants_per_customer + 1):
            voided = number == dataset.options.credit_grants_per_customer
            if voided and not include_voided:
                continue
            grant_id = seeded_uuid(seed, "credit-grant", customer.id, number)
            credit_type = COMPUTE_CREDITS if number % 2 else USD_CENTS
            amount = 10000.0 + 2500.0 * number
            effective_at = start - timedelta(days=7 * (number + 1))
            deductions = []
            if number == 0:
                deductions.append(
                    {
                        "amount": -1234.5,
                        "created_by": "Metronome",
                        "credit_grant_id": grant_id,
                        "effective_at": format_timestamp(start + timedelta(days=1), style),
                        "reason": "Invoice deduction",
                        "running_balance": amount - 1234.5,
                        "invoice_id": _invoice_id(dataset, customer, 1) if dataset.options.invoices_per_customer > 1 else None,
                    }
                )
            remaining = amount + sum(entry["amount"] for entry in deductions)
            items.append(
                {
                    "id": grant_id,
                    "customer_id": customer.id,
                    "name": ("Welcome credit", "Compute trial", "Loyalty credit")[number % 3],
                    "credit_grant_type": ("promotional", "trial", "loyalty")[number % 3],
                    "reason": "Voided: issued in error" if voided else "Granted by the account team",
                    "effective_at": format_timestamp(effective_at, style),
                    "expires_at": format_timestamp(effective_at + timedelta(days=365), style),
                    "grant_amount": {"amount": amount, "credit_type": credit_type_data(credit_type)},
                    "paid_amount": {"amount": 0.0, "credit_type": credit_type_data(USD_CENTS)},
                    "balance": {"effective_at": format_timestamp(dataset.now, style), "excluding_pending": remaining, "including_pending": remaining},
                    "deductions": deductions,
                    "pending_deductions": [],
                    "priority": float(number + 1),
                    "products": [{"id": product_named(dataset, ALL_USAGE).id, "name": ALL_USAGE}],
                    "custom_fields": {},
                    "invoice_id": None,
                }
            )
    return items


# Serving (the handlers endpoints.py routes to)


def serve_invoices(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    customer = known_customer(dataset, request.path_params["customer_id"])
    sort = request.sort()
    status = request.param("status")
    starting_on, ending_before = moment("starting_on", request.param("starting_on")), moment("ending_before", request.param("ending_before"))
    return [
        invoice.as_api(style)
        for invoice in sorted_invoices(dataset, customer, sort)
        if (status is None or invoice.status == status.upper())
        and (starting_on is None or invoice.start_timestamp >= starting_on)
        and (ending_before is None or invoice.end_timestamp <= ending_before)
    ]


def serve_contracts(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    customer = known_customer(dataset, request.body.get("customer_id"))
    covering_date, starting_at = moment("covering_date", request.body.get("covering_date")), moment("starting_at", request.body.get("starting_at"))
    if covering_date and starting_at:
        raise ApiError(400, "covering_date cannot be provided together with starting_at")
    include_archived = request.flag("include_archived")
    return [
        contract_item(dataset, contract, style, request.flag("include_balance"), request.flag("include_ledgers"))
        for contract in contracts_of(dataset, customer)
        if (include_archived or contract.archived_at is None)
        and (covering_date is None or contract.starting_at <= covering_date < contract.ending_before)
        and (starting_at is None or contract.starting_at >= starting_at)
    ]


def serve_balances(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    customer = known_customer(dataset, request.body.get("customer_id"))
    covering_date = moment("covering_date", request.body.get("covering_date"))
    starting_at = moment("starting_at", request.body.get("starting_at"))
    effective_before = moment("effective_before", request.body.get("effective_before"))
    # The SDK: `include_archived` includes "archived credits and credits from archived contracts",
    # `include_contract_balances` "balances on the contract level" (without it only the customer's own).
    include_archived, include_contract_balances = request.flag("include_archived"), request.flag("include_contract_balances")
    exclude_zero = request.flag("exclude_zero_balances")
    return [
        balance.as_api(style, request.flag("include_balance"), request.flag("include_ledgers"))
        for balance in balances_of(dataset, customer)
        if (include_archived or balance.archived_at is None)
        and (include_contract_balances or balance.contract_id is None)
        and not (exclude_zero and balance.balance == 0)
        and (covering_date is None or balance.starting_at <= covering_date < balance.ending_before)
        and (starting_at is None or balance.ending_before > starting_at)
        and (effective_before is None or balance.starting_at < effective_before)
    ]


def serve_credit_grants(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    customer_ids, credit_type_ids, grant_ids = (string_list(request.body, name) for name in ("customer_ids", "credit_type_ids", "credit_grant_ids"))
    effective_before = moment("effective_before", request.body.get("effective_before"))
    not_expiring_before = moment("not_expiring_before", request.body.get("not_expiring_before"))
    return [
        grant
        for grant in credit_grant_items(dataset, style)
        if (customer_ids is None or grant["customer_id"] in customer_ids)
        and (credit_type_ids is None or grant["grant_amount"]["credit_type"]["id"] in credit_type_ids)
        and (grant_ids is None or grant["id"] in grant_ids)
        and (effective_before is None or parse_timestamp(grant["effective_at"]) < effective_before)
        and (not_expiring_before is None or parse_timestamp(grant["expires_at"]) >= not_expiring_before)
    ]
