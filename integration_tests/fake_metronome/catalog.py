"""The account's directory and catalog: customers, billable metrics, credit types, contract-pricing
products and rate cards, plans and packages.

Shapes follow metronome-sdk 4.12: `types/v1/pricing_unit_list_response.py` (credit types),
`types/v1/contracts/product_list_response.py` and `product_list_item_state.py`,
`types/v1/contracts/rate_card_list_response.py`, `types/v1/plan_list_response.py` and
`types/v1/package_list_response.py`. Everything is derived from the dataset's options with seeded
hashes, so the server and the ground truth build the same catalog.
Routes and the parameters each honours: integration_tests/README.md.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from integration_tests.fake_metronome.dataset import COMPUTE_CREDITS, USD_CENTS, CreditType, Dataset
from integration_tests.fake_metronome.request import Request, known_customer, one_of
from integration_tests.fake_metronome.seeding import seeded_uuid
from integration_tests.fake_metronome.timestamps import format_timestamp

# A third pricing unit, a currency no invoice uses.
EUR_CENTS = CreditType("5ae401dc-a648-4b49-9ac3-391bb5eacf2a", "EUR (cents)")
CREDIT_TYPES = (USD_CENTS, COMPUTE_CREDITS, EUR_CENTS)
CURRENCIES = {USD_CENTS.id, EUR_CENTS.id}
ARCHIVE_FILTERS = ("ARCHIVED", "NOT_ARCHIVED", "ALL")
CREATED_BY = "admin@example.com"

# The products invoices, contracts and grants refer to, besides one USAGE product per metric.
PLATFORM_FEE = "Platform fee"
SEATS = "Seats"
PREPAID_COMMITMENT = "Prepaid commitment"
PROMOTIONAL_CREDIT = "Promotional credit"
ONBOARDING = "Onboarding"
ALL_USAGE = "All usage"
FIXED_PRODUCTS = ((PLATFORM_FEE, "FIXED"), (PREPAID_COMMITMENT, "FIXED"), (PROMOTIONAL_CREDIT, "FIXED"), (SEATS, "SUBSCRIPTION"), (ONBOARDING, "PRO_SERVICE"), (ALL_USAGE, "COMPOSITE"))


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    type: str
    created_at: datetime
    billable_metric_id: Optional[str] = None
    # The metric's first group key, by which its line items are presented.
    presentation_group_key: Optional[str] = None
    archived_at: Optional[datetime] = None


def catalog_epoch(dataset: Dataset) -> datetime:
    """When the catalog was set up: well before the start of history and every contract."""
    return dataset.history_start - timedelta(days=400)


def credit_type_items(dataset: Dataset, style: str = "offset") -> List[Dict[str, Any]]:
    return [{"id": credit_type.id, "name": credit_type.name, "is_currency": credit_type.id in CURRENCIES} for credit_type in CREDIT_TYPES]


def credit_type_data(credit_type: CreditType) -> Dict[str, str]:
    return {"id": credit_type.id, "name": credit_type.name}


def products(dataset: Dataset) -> List[Product]:
    """Every product, archived ones last: a USAGE product per active billable metric, the fixed
    ones (FIXED_PRODUCTS), then `archived_products` archived ones."""
    epoch = catalog_epoch(dataset)
    seed = dataset.options.seed
    listed = []
    for index, metric in enumerate(metric for metric in dataset.metrics.values() if metric.archived_at is None):
        listed.append(
            Product(
                id=seeded_uuid(seed, "product", "metric", metric.id),
                name=metric.name,
                type="USAGE",
                created_at=epoch + timedelta(hours=index),
                billable_metric_id=metric.id,
                presentation_group_key=metric.group_keys[0] if metric.group_keys else None,
            )
        )
    for index, (name, kind) in enumerate(FIXED_PRODUCTS):
        listed.append(Product(seeded_uuid(seed, "product", name), name, kind, epoch + timedelta(days=1, hours=index)))
    for number in range(dataset.options.archived_products):
        listed.append(
            Product(
                id=seeded_uuid(seed, "product", "archived", number),
                name=f"Legacy add-on {number + 1}",
                type="FIXED",
                created_at=epoch + timedelta(days=2, hours=number),
                archived_at=dataset.history_start - timedelta(days=20 + number),
            )
        )
    return listed


def product_named(dataset: Dataset, name: str) -> Product:
    return next(product for product in products(dataset) if product.name == name and product.billable_metric_id is None)


def product_item(dataset: Dataset, product: Product, style: str = "offset") -> Dict[str, Any]:
    """As POST /v1/contract-pricing/products/list lists it: `initial` and `current` states, and the
    updates between them (the platform fee was renamed once)."""
    state: Dict[str, Any] = {"created_at": format_timestamp(product.created_at, style), "created_by": CREATED_BY, "name": product.name}
    if product.billable_metric_id:
        state["billable_metric_id"] = product.billable_metric_id
    if product.presentation_group_key:
        state["presentation_group_key"] = [product.presentation_group_key]
    if product.type == "COMPOSITE":
        state["composite_product_ids"] = [other.id for other in products(dataset) if other.type == "USAGE" and other.archived_at is None]
    state["tags"] = [product.type.lower()]
    initial, updates = dict(state), []
    if product.name == PLATFORM_FEE:
        renamed_at = format_timestamp(product.created_at + timedelta(days=30), style)
        initial = {**state, "name": f"{PLATFORM_FEE} (v1)"}
        updates = [{"created_at": renamed_at, "created_by": CREATED_BY, "name": PLATFORM_FEE}]
    return {
        "id": product.id,
        "type": product.type,
        "initial": initial,
        "current": state,
        "updates": updates,
        "custom_fields": {},
        "archived_at": format_timestamp(product.archived_at, style) if product.archived_at else None,
    }


def product_items(dataset: Dataset, style: str = "offset", archive_filter: str = "NOT_ARCHIVED") -> List[Dict[str, Any]]:
    return [product_item(dataset, product, style) for product in products(dataset) if _kept(product.archived_at, archive_filter)]


def rate_card_id(dataset: Dataset, number: int) -> str:
    return seeded_uuid(dataset.options.seed, "rate-card", number)


def rate_card_items(dataset: Dataset, style: str = "offset") -> List[Dict[str, Any]]:
    epoch = catalog_epoch(dataset)
    return [
        {
            "id": rate_card_id(dataset, number),
            "name": f"Rate card {number + 1}",
            "description": "List prices" if number == 0 else f"Negotiated prices, tier {number}",
            "created_at": format_timestamp(epoch + timedelta(days=3, hours=number), style),
            "created_by": CREATED_BY,
            "fiat_credit_type": credit_type_data(USD_CENTS),
            "aliases": [{"name": f"rate-card-{number + 1}"}],
            "credit_type_conversions": [{"custom_credit_type": credit_type_data(COMPUTE_CREDITS), "fiat_per_custom_credit": "0.5"}],
            "custom_fields": {},
        }
        for number in range(dataset.options.rate_cards)
    ]


def plan_items(dataset: Dataset, style: str = "offset") -> List[Dict[str, Any]]:
    return [
        {
            "id": seeded_uuid(dataset.options.seed, "plan", number),
            "name": ("Starter", "Growth", "Enterprise")[number % 3] + ("" if number < 3 else f" {number + 1}"),
            "description": f"Plan {number + 1} of the older Plans API",
            "custom_fields": {"tier": str(number + 1)},
        }
        for number in range(dataset.options.plans)
    ]


def package_items(dataset: Dataset, style: str = "offset", archive_filter: str = "NOT_ARCHIVED") -> List[Dict[str, Any]]:
    epoch = catalog_epoch(dataset)
    options = dataset.options
    items = []
    for number in range(options.packages + options.archived_packages):
        archived_at = dataset.history_start - timedelta(days=10 + number) if number >= options.packages else None
        if not _kept(archived_at, archive_filter):
            continue
        items.append(
            {
                "id": seeded_uuid(options.seed, "package", number),
                "name": f"Package {number + 1}" + (" (retired)" if archived_at else ""),
                "created_at": format_timestamp(epoch + timedelta(days=5, hours=number), style),
                "created_by": CREATED_BY,
                "rate_card_id": rate_card_id(dataset, number % options.rate_cards) if options.rate_cards else None,
                "commits": [],
                "overrides": [],
                "scheduled_charges": [],
                "usage_statement_schedule": {"frequency": "MONTHLY", "day": "FIRST_OF_MONTH"},
                "archived_at": format_timestamp(archived_at, style) if archived_at else None,
            }
        )
    return items


def _kept(archived_at: Optional[datetime], archive_filter: str) -> bool:
    if archive_filter == "ALL":
        return True
    return (archived_at is not None) == (archive_filter == "ARCHIVED")


def _archive_filter(request: Request) -> str:
    return one_of("archive_filter", request.body.get("archive_filter", "NOT_ARCHIVED"), ARCHIVE_FILTERS)


# Serving (the handlers endpoints.py routes to)


def serve_customers(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    # only_archived=true lists ONLY archived customers; without it, only active ones.
    only_archived = request.flag("only_archived")
    # customer_ids may come repeated or comma-separated.
    wanted = {customer_id for values in request.query.get("customer_ids", []) for customer_id in values.split(",") if customer_id}
    return [customer.as_api(style) for customer in dataset.customers if customer.archived == only_archived and (not wanted or customer.id in wanted)]


def serve_customer_metrics(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    customer = known_customer(dataset, request.path_params["customer_id"])
    return [metric.as_api(style) for metric in dataset.listed_metrics(customer, request.flag("include_archived"))]


def serve_account_metrics(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    # The newer SDK: archived metrics are left out unless include_archived=true.
    include_archived = request.flag("include_archived")
    return [metric.as_account_api(style) for metric in dataset.metrics.values() if include_archived or metric.archived_at is None]


def serve_credit_types(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    return credit_type_items(dataset, style)


def serve_products(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    return product_items(dataset, style, _archive_filter(request))


def serve_rate_cards(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    return rate_card_items(dataset, style)


def serve_plans(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    return plan_items(dataset, style)


def serve_packages(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    return package_items(dataset, style, _archive_filter(request))
