"""Contract edits, rate schedules, customer plans, threshold notifications (customer alerts) and
billing-provider configurations.

Shapes follow metronome-sdk 4.12: `types/v2/contract_get_edit_history_response.py`,
`types/v1/contracts/rate_card_retrieve_rate_schedule_response.py`,
`types/v1/customers/plan_list_response.py`, `types/v1/customers/customer_alert.py` and
`types/v1/customer_retrieve_billing_configurations_response.py`. Everything is derived from the
dataset (its contracts, catalog and customers) with seeded hashes, so the server and the ground
truth build the same objects. Parameters are strict: an unknown query parameter or body field is
400, as a missing or malformed known one is.
Routes and the parameters each honours: integration_tests/README.md.
"""

from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional

from integration_tests.fake_metronome.catalog import (
    PLATFORM_FEE,
    PREPAID_COMMITMENT,
    SEATS,
    Product,
    catalog_epoch,
    credit_type_data,
    product_named,
    products,
    rate_card_items,
)
from integration_tests.fake_metronome.dataset import USD_CENTS, Customer, Dataset
from integration_tests.fake_metronome.finance import COMMIT_AMOUNT, contracts_of
from integration_tests.fake_metronome.request import ApiError, Request, known_customer, moment, required_string
from integration_tests.fake_metronome.seeding import seeded_int, seeded_uuid
from integration_tests.fake_metronome.timestamps import OFFSET_STYLE, floor_to_midnight, format_timestamp, parse_timestamp

ALERT_STATUSES = ("ENABLED", "DISABLED", "ARCHIVED")
# The fake's page of customer alerts (the endpoint takes no limit; Metronome documents no size).
ALERTS_PAGE = 10
# Plans of the first customer, and its enabled alerts besides the others', so that it needs pages.
BUSIEST_CUSTOMER_PLANS = 5
BUSIEST_CUSTOMER_ALERTS = 12
BILLING_FREQUENCIES = ("MONTHLY", "ANNUAL")
RATE_SCHEDULE_FIELDS = {"rate_card_id", "starting_at", "ending_before", "selectors"}


# Contract edits


def edit_items(dataset: Dataset, contract_id: str, customer: Customer, style: str = OFFSET_STYLE) -> List[Dict[str, Any]]:
    """A contract's edits, oldest first: a rename, then (second contract and on) a later end date,
    then (every third) an added commit."""
    contract = next(contract for contract in contracts_of(dataset, customer) if contract.id == contract_id)
    edited = contract.starting_at + timedelta(days=1)
    edits: List[Dict[str, Any]] = [
        {
            "id": seeded_uuid(contract.id, "edit", 0),
            "timestamp": format_timestamp(edited, style),
            "update_contract_name": f"{customer.name} contract {contract.number + 1}",
        }
    ]
    if contract.number % 3 >= 1:
        edits.append(
            {
                "id": seeded_uuid(contract.id, "edit", 1),
                "timestamp": format_timestamp(edited + timedelta(days=7), style),
                "update_contract_end_date": format_timestamp(contract.ending_before, style),
            }
        )
    if contract.number % 3 == 2:
        commit = product_named(dataset, PREPAID_COMMITMENT)
        edits.append(
            {
                "id": seeded_uuid(contract.id, "edit", 2),
                "timestamp": format_timestamp(edited + timedelta(days=14), style),
                "add_commits": [
                    {
                        "id": seeded_uuid(contract.id, "edit", 2, "commit"),
                        "product": {"id": commit.id, "name": commit.name},
                        "type": "PREPAID",
                        "name": "Top-up commitment",
                        "priority": 1.0,
                        "access_schedule": {
                            "credit_type": credit_type_data(USD_CENTS),
                            "schedule_items": [
                                {
                                    "id": seeded_uuid(contract.id, "edit", 2, "segment"),
                                    "amount": COMMIT_AMOUNT / 4,
                                    "starting_at": format_timestamp(edited + timedelta(days=14), style),
                                    "ending_before": format_timestamp(contract.ending_before, style),
                                }
                            ],
                        },
                    }
                ],
            }
        )
    return edits


def serve_edits(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    request.strict(query=(), body={"customer_id", "contract_id"})
    customer = known_customer(dataset, request.body.get("customer_id"))
    contract_id = required_string(request.body, "contract_id")
    if contract_id not in {contract.id for contract in contracts_of(dataset, customer)}:
        raise ApiError(404, f"Contract {contract_id} not found for customer {customer.id}")
    return edit_items(dataset, contract_id, customer, style)


# Rate schedules


def price_change(dataset: Dataset) -> datetime:
    """When every usage rate changed price: five days before the start of history."""
    return floor_to_midnight(dataset.history_start) - timedelta(days=5)


def rate_schedule_items(dataset: Dataset, rate_card_id: str, style: str = OFFSET_STYLE, starting_at: Optional[datetime] = None, ending_before: Optional[datetime] = None) -> List[Dict[str, Any]]:
    """The rate card's schedule, in a fixed order (product, pricing group value, segment), limited to
    the segments that overlap [starting_at, ending_before)."""
    card = next(number for number, card in enumerate(rate_card_items(dataset)) if card["id"] == rate_card_id)
    usd = credit_type_data(USD_CENTS)
    epoch, changed = catalog_epoch(dataset), price_change(dataset)
    entries: List[Dict[str, Any]] = []
    listed = [product for product in products(dataset) if product.archived_at is None]
    for product in listed:
        if product.type == "USAGE":
            metric = dataset.metrics[product.billable_metric_id]
            key = metric.group_keys[0] if metric.group_keys else None
            for value in [f"{key}-a", f"{key}-b"] if key else [None]:
                base = (1 + seeded_int(dataset.options.seed, "rate", card, product.id, value) % 40) / 4
                for start, end, price in ((epoch, changed, base), (changed, None, base + 0.25)):
                    rate: Dict[str, Any] = {"rate_type": "FLAT", "price": price, "credit_type": usd}
                    entry = _entry(product, rate, start, end, style)
                    if value is not None:
                        rate["pricing_group_values"] = {key: value}
                        entry["pricing_group_values"] = {key: value}
                    # Usage may be paid from a commit at a lower rate.
                    entry["commit_rate"] = {"rate_type": "FLAT", "price": price / 2}
                    entries.append(entry)
        elif product.name == SEATS:
            for frequency in BILLING_FREQUENCIES:
                price = 1000.0 if frequency == "MONTHLY" else 10000.0
                rate = {"rate_type": "SUBSCRIPTION", "price": price, "credit_type": usd, "is_prorated": True}
                entries.append({**_entry(product, rate, epoch, None, style), "billing_frequency": frequency})
        elif product.name == PLATFORM_FEE:
            entries.append(_entry(product, {"rate_type": "FLAT", "price": 5000.0, "credit_type": usd}, epoch, None, style))
    return [
        entry
        for entry in entries
        if (starting_at is None or entry["ending_before"] is None or parse_timestamp(entry["ending_before"]) > starting_at)
        and (ending_before is None or parse_timestamp(entry["starting_at"]) < ending_before)
    ]


def _entry(product: Product, rate: Dict[str, Any], start: datetime, end: Optional[datetime], style: str) -> Dict[str, Any]:
    return {
        "entitled": True,
        "product_custom_fields": {},
        "product_id": product.id,
        "product_name": product.name,
        "product_tags": [product.type.lower()],
        "rate": rate,
        "starting_at": format_timestamp(start, style),
        "ending_before": format_timestamp(end, style) if end else None,
    }


def serve_rate_schedule(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    request.strict(query=("limit", "next_page"), body=RATE_SCHEDULE_FIELDS)
    rate_card_id = required_string(request.body, "rate_card_id")
    if rate_card_id not in {card["id"] for card in rate_card_items(dataset)}:
        raise ApiError(404, f"Rate card {rate_card_id} not found")
    if request.body.get("selectors") is not None:
        raise ApiError(400, "selectors are not modelled by this fake; leave them out to list every rate")
    starting_at = moment("starting_at", required_string(request.body, "starting_at"))
    ending_before = moment("ending_before", request.body.get("ending_before"))
    if ending_before is not None and ending_before <= starting_at:
        raise ApiError(400, "ending_before must be after starting_at")
    return rate_schedule_items(dataset, rate_card_id, style, starting_at, ending_before)


# Customer plans


def customer_plan_items(dataset: Dataset, customer: Customer, style: str = OFFSET_STYLE) -> List[Dict[str, Any]]:
    """The customer's plans, newest first (reverse-chronological, as the SDK says): the current one
    (open-ended, on a trial for every other customer), then ended ones."""
    index = dataset.customers.index(customer)
    count = BUSIEST_CUSTOMER_PLANS if index == 0 else 2
    plans = dataset.options.plans or 1
    items = []
    for number in range(count):
        starting_on = floor_to_midnight(dataset.history_start) - timedelta(days=30 * number)
        plan_number = (index + number) % plans
        item: Dict[str, Any] = {
            "id": seeded_uuid(dataset.options.seed, "customer-plan", customer.id, number),
            "custom_fields": {},
            "plan_description": f"Plan {plan_number + 1} of the older Plans API",
            "plan_id": seeded_uuid(dataset.options.seed, "plan", plan_number),
            "plan_name": ("Starter", "Growth", "Enterprise")[plan_number % 3],
            "starting_on": format_timestamp(starting_on, style),
            "ending_before": None if number == 0 else format_timestamp(starting_on + timedelta(days=30), style),
            "net_payment_terms_days": 30.0,
        }
        if number == 0 and index % 2 == 0:
            item["trial_info"] = {
                "ending_before": format_timestamp(starting_on + timedelta(days=14), style),
                "spending_caps": [{"amount": 10000.0, "amount_remaining": 7500.25, "credit_type": credit_type_data(USD_CENTS)}],
            }
        items.append(item)
    return items


def serve_customer_plans(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    request.strict(query=("limit", "next_page"), body=set())
    return customer_plan_items(dataset, known_customer(dataset, request.path_params["customer_id"]), style)


# Threshold notifications (customer alerts)


def customer_alert_items(dataset: Dataset, customer: Customer, style: str = OFFSET_STYLE, statuses: Iterable[str] = ALERT_STATUSES) -> List[Dict[str, Any]]:
    """The customer's notifications in the given statuses: two enabled (one in alarm), one disabled,
    one archived, and the first customer's BUSIEST_CUSTOMER_ALERTS more enabled ones."""
    index = dataset.customers.index(customer)
    kinds = ["ENABLED", "ENABLED", "DISABLED", "ARCHIVED"] + (["ENABLED"] * BUSIEST_CUSTOMER_ALERTS if index == 0 else [])
    wanted = set(statuses)
    updated = dataset.history_start - timedelta(days=2)
    items = []
    for number, status in enumerate(kinds):
        if status not in wanted:
            continue
        spend = number % 2 == 0
        alert: Dict[str, Any] = {
            "id": seeded_uuid(dataset.options.seed, "alert", customer.id, number),
            "name": f"{'Spend' if spend else 'Low balance'} notification {number + 1}",
            "status": status.lower(),
            "threshold": 50000.0 + 250.5 * number if spend else 1000.0,
            "type": "spend_threshold_reached" if spend else "low_remaining_commit_balance_reached",
            "updated_at": format_timestamp(updated + timedelta(hours=number), style),
            "credit_type": credit_type_data(USD_CENTS),
        }
        if not spend:
            alert["access_type"] = "SPEND"
        in_alarm = number == 1
        items.append(
            {
                "alert": alert,
                # The SDK: null for an archived notification.
                "customer_status": None if status == "ARCHIVED" else ("in_alarm" if in_alarm else "ok"),
                "triggered_by": "Remaining commit balance fell below the threshold" if in_alarm else None,
            }
        )
    return items


def serve_customer_alerts(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    request.strict(query=("next_page",), body={"customer_id", "alert_statuses"})
    customer = known_customer(dataset, request.body.get("customer_id"))
    statuses = request.body.get("alert_statuses")
    if statuses is None:
        # The SDK: "If absent, only enabled notifications will be returned."
        statuses = ["ENABLED"]
    if not isinstance(statuses, list) or not statuses or any(status not in ALERT_STATUSES for status in statuses):
        raise ApiError(400, f"alert_statuses must be a list of {', '.join(ALERT_STATUSES)}, got {statuses!r}")
    return customer_alert_items(dataset, customer, style, statuses)


# Billing provider configurations


def billing_configuration_items(dataset: Dataset, customer: Customer, style: str = OFFSET_STYLE, include_archived: bool = False) -> List[Dict[str, Any]]:
    """A Stripe configuration per customer; an archived AWS Marketplace one for every other customer
    (replaced by Stripe); a NetSuite one for every third."""
    index = dataset.customers.index(customer)
    seed = dataset.options.seed
    configured = [
        _configuration(seed, customer, "stripe", {"stripe_customer_id": f"cus_{index:06d}", "stripe_collection_method": "charge_automatically"}, "direct_to_billing_provider", None, style),
    ]
    if index % 2 == 0:
        archived_at = dataset.history_start - timedelta(days=40)
        configured.append(_configuration(seed, customer, "aws_marketplace", {"aws_customer_id": f"aws-{index}", "aws_product_code": "metronome-fake"}, "aws_sqs", archived_at, style))
    if index % 3 == 0:
        configured.append(_configuration(seed, customer, "netsuite", {"netsuite_customer_id": str(1000 + index)}, "direct_to_billing_provider", None, style))
    return [item for item in configured if include_archived or item["archived_at"] is None]


def _configuration(seed: int, customer: Customer, provider: str, configuration: Dict[str, Any], delivery_method: str, archived_at: Optional[datetime], style: str) -> Dict[str, Any]:
    return {
        "id": seeded_uuid(seed, "billing-configuration", customer.id, provider),
        "archived_at": format_timestamp(archived_at, style) if archived_at else None,
        "billing_provider": provider,
        "configuration": configuration,
        "customer_id": customer.id,
        "delivery_method": delivery_method,
        "delivery_method_configuration": {"queue_url": "https://sqs.example.com/invoices"} if delivery_method == "aws_sqs" else {},
        "delivery_method_id": seeded_uuid(seed, "delivery-method", provider, delivery_method),
    }


def serve_billing_configurations(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    request.strict(query=(), body={"customer_id", "include_archived"})
    customer = known_customer(dataset, request.body.get("customer_id"))
    return billing_configuration_items(dataset, customer, style, request.flag("include_archived"))
