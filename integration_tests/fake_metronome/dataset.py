"""The fake account: customers, their billable metrics, plans and billing periods, the clock, and
late-data revisions.

Everything is derived from `DatasetOptions` (a seed and sizes), so the server and the ground truth
build identical datasets independently. Usage itself lives in events.py.
"""

import calendar
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

from integration_tests.fake_metronome.seeding import seeded_fraction, seeded_uuid
from integration_tests.fake_metronome.timestamps import ONE_DAY, OFFSET_STYLE, floor_to_midnight, format_timestamp

# In the middle of a day, so the current day is partial, as it is for any real sync.
DEFAULT_NOW = datetime(2024, 3, 15, 13, 30, tzinfo=timezone.utc)

AGGREGATION_TYPES = ("COUNT", "SUM", "MAX", "LATEST")
# Costs are not served for customers whose plan includes a UNIQUE metric, so UNIQUE metrics only
# appear on the plans of the customers chosen by `unique_plan_share`.
UNIQUE = "UNIQUE"
GROUP_KEY_NAMES = ("region", "cluster", "tier", "model")
METRIC_NAMES = ("API calls", "Storage (GB-hours)", "Compute seconds", "Data transfer (GB)", "Tokens processed", "Seats")
# The event property a metric aggregates: amounts, or (UNIQUE) the users counted.
AGGREGATION_KEYS = ("quantity", "user_id")
COMPANY_NAMES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell")


@dataclass(frozen=True)
class CreditType:
    id: str
    name: str


# The USD credit type id is Metronome's own, as in its reference examples.
USD_CENTS = CreditType("2714e483-4ff1-48e4-9e25-ac732e8f24f2", "USD (cents)")
COMPUTE_CREDITS = CreditType("6f0dcf5c-2f6d-4d63-8b5b-3c1c2b9a4e11", "Compute credits")


@dataclass(frozen=True)
class BillableMetric:
    id: str
    name: str
    aggregation_type: str
    group_keys: Tuple[str, ...]
    # Which of Metronome's two spellings the listing uses: "group_by" (older, a list of keys),
    # "group_keys" (newer, a list of key lists) or "both".
    key_form: str
    # Each event's amount is quantity × unit_quarters / 4, and its cost quantity × price / 4 cents:
    # quarters are exact in binary floating point, so sums stay exact.
    unit_quarters: int
    price_quarter_cents: int
    credit_type: CreditType
    # Archived metrics are on no plan: the account-wide listing shows them with include_archived, and
    # a customer's listing (with include_archived) those the customer used before (retired ones).
    archived_at: Optional[datetime] = None

    @property
    def group_key_lists(self) -> List[List[str]]:
        """The newer `group_keys`: each key alone, then all of them as one compound key (if more than one)."""
        compound = [list(self.group_keys)] if len(self.group_keys) > 1 else []
        return [[key] for key in self.group_keys] + compound

    def as_api(self, style: str = OFFSET_STYLE) -> Dict[str, Any]:
        """As a customer's listing (GET /v1/customers/{id}/billable-metrics) shows it."""
        archived_at = format_timestamp(self.archived_at, style) if self.archived_at else None
        item: Dict[str, Any] = {"id": self.id, "name": self.name, "aggregation_type": self.aggregation_type, "archived_at": archived_at}
        if self.key_form in ("group_by", "both"):
            item["group_by"] = list(self.group_keys)
        if self.key_form in ("group_keys", "both"):
            item["group_keys"] = self.group_key_lists
        return item

    def as_account_api(self, style: str = OFFSET_STYLE) -> Dict[str, Any]:
        """As the account-wide listing (GET /v1/billable-metrics) shows it: the newer SDK's
        BillableMetricListResponse, with `group_keys` only and an aggregation_key unless COUNT."""
        return {
            "id": self.id,
            "name": self.name,
            "aggregation_type": self.aggregation_type,
            "aggregation_key": None if self.aggregation_type == "COUNT" else AGGREGATION_KEYS[self.aggregation_type == UNIQUE],
            "group_keys": self.group_key_lists,
            "custom_fields": {},
            "archived_at": format_timestamp(self.archived_at, style) if self.archived_at else None,
        }


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    archived_at: Optional[datetime]
    created_at: datetime
    metric_ids: Tuple[str, ...]
    # Without one (say, the plan ended), usage for `current_period` is refused; dated usage is served.
    has_active_plan: bool = True
    # Archived metrics the customer used before they were archived: usage history, on no plan.
    retired_metric_ids: Tuple[str, ...] = ()

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def as_api(self, style: str = OFFSET_STYLE) -> Dict[str, Any]:
        alias = f"{self.name.lower().replace(' ', '-')}@example.com"
        return {
            "id": self.id,
            "external_id": alias,
            "ingest_aliases": [alias],
            "name": self.name,
            "customer_config": {},
            "custom_fields": {},
            "created_at": format_timestamp(self.created_at, style),
            # Archiving is the only change the fake makes to a customer.
            "updated_at": format_timestamp(self.archived_at or self.created_at, style),
            "archived_at": format_timestamp(self.archived_at, style) if self.archived_at else None,
        }


@dataclass(frozen=True)
class DatasetOptions:
    seed: int = 1
    customers: int = 3
    metrics_per_customer: int = 3
    days_of_history: int = 10
    # Metric i has i % (group_keys_per_metric + 1) keys, so some metrics always lack any key.
    group_keys_per_metric: int = 2
    # A key every metric has (besides its own), as in an account that groups all usage by region.
    every_metric_grouped_by: Optional[str] = None
    group_values_per_key: int = 2
    archived_share: float = 0.0
    unique_plan_share: float = 0.0
    null_share: float = 0.0
    now: datetime = DEFAULT_NOW
    # How far back (in days before the current day) the events of a revision are backdated.
    late_days: int = 3
    # Share of customers without an active plan or contract (current_period usage is refused for them).
    no_plan_share: float = 0.0
    # Archived billable metrics in the account, on no plan (GET /v1/billable-metrics?include_archived=true).
    archived_metrics: int = 0
    # Billable metrics every customer used until they were archived (a day before "now", and a day
    # earlier each): their usage history stays, and a customer's listing shows them only with
    # include_archived=true.
    retired_metrics: int = 0
    # The finance, catalog and audit endpoints (finance.py, catalog.py, audit.py). Their objects are
    # drawn from seeded hashes, apart from `rng`, so these options leave every earlier choice as it was.
    # Invoices per customer, newest first: the current period's DRAFT, a FINALIZED one, a VOID one and
    # the FINALIZED invoice regenerated from it, then FINALIZED ones for earlier months.
    invoices_per_customer: int = 4
    # Contracts per customer (the second one archived), and of the first customer, so that it needs
    # more than one page at POST /v2/contracts/list's largest limit (20).
    contracts_per_customer: int = 2
    busiest_customer_contracts: int = 23
    # Credit grants per customer, besides one voided grant (left out of every listing).
    credit_grants_per_customer: int = 2
    # Contract-pricing products besides those the catalog needs (archived ones), rate cards, plans,
    # packages (and archived ones besides).
    archived_products: int = 1
    rate_cards: int = 3
    plans: int = 3
    packages: int = 3
    archived_packages: int = 1
    # Audit log entries recorded per day from the start of history until "now".
    audit_entries_per_day: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.group_keys_per_metric <= len(GROUP_KEY_NAMES):
            raise ValueError(f"group_keys_per_metric must be 0..{len(GROUP_KEY_NAMES)}")
        if not 0 <= self.group_values_per_key <= 26:
            raise ValueError("group_values_per_key must be 0..26 (values are named key-a .. key-z)")
        counts = ("archived_metrics", "retired_metrics", "invoices_per_customer", "contracts_per_customer", "busiest_customer_contracts",
                  "credit_grants_per_customer", "archived_products", "rate_cards", "plans", "packages",
                  "archived_packages", "audit_entries_per_day")
        for name in counts:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more")
        for share in (self.archived_share, self.unique_plan_share, self.null_share, self.no_plan_share):
            if not 0 <= share <= 1:
                raise ValueError("shares are fractions from 0 to 1")

    def with_changes(self, **changes: Any) -> "DatasetOptions":
        return replace(self, **changes)


@dataclass(frozen=True)
class Revision:
    """A batch of backdated events that arrived at `arrived_at`, dated up to `late_days` days earlier."""

    number: int
    arrived_at: datetime


@dataclass
class Dataset:
    options: DatasetOptions
    customers: List[Customer] = field(init=False)
    metrics: Dict[str, BillableMetric] = field(init=False)
    history_start: datetime = field(init=False)
    now: datetime = field(init=False)
    revisions: Tuple[Revision, ...] = field(init=False, default=())
    # How GET /v1/customers/{id}/invoices orders each invoice's line items: reversed, or as built.
    line_items_reversed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        options = self.options
        self.now = options.now
        self.history_start = floor_to_midnight(options.now) - options.days_of_history * ONE_DAY
        pool = [_metric(options, index) for index in range(options.metrics_per_customer + 2)]
        self.metrics = {metric.id: metric for metric in pool}
        unique_metric = replace(_metric(options, len(pool)), name="Unique users", aggregation_type=UNIQUE, group_keys=())
        rng = random.Random(options.seed)
        count = options.customers
        archived = set(rng.sample(range(count), round(count * options.archived_share)))
        on_unique_plan = set(rng.sample(range(count), round(count * options.unique_plan_share)))
        if on_unique_plan:
            self.metrics[unique_metric.id] = unique_metric
        for number in range(options.archived_metrics):
            archived_metric = replace(_metric(options, len(pool) + 1 + number), archived_at=options.now - timedelta(days=2 + number))
            self.metrics[archived_metric.id] = archived_metric
        retired = []
        for number in range(options.retired_metrics):
            index = len(pool) + 1 + options.archived_metrics + number
            retired.append(replace(_metric(options, index), archived_at=floor_to_midnight(options.now) - timedelta(days=1 + number)))
        self.metrics.update((metric.id, metric) for metric in retired)
        # Drawn apart from `rng`, so that adding the option left every other seeded choice as it was.
        by_draw = sorted(range(count), key=lambda index: seeded_fraction(options.seed, "no-plan", index))
        without_plan = set(by_draw[: round(count * options.no_plan_share)])
        self.customers = []
        for index in range(count):
            plan = sorted(rng.sample(range(len(pool)), options.metrics_per_customer))
            metric_ids = [pool[position].id for position in plan]
            if index in on_unique_plan:
                metric_ids[-1] = unique_metric.id
            self.customers.append(
                Customer(
                    id=seeded_uuid(options.seed, "customer", index),
                    name=f"{COMPANY_NAMES[index % len(COMPANY_NAMES)]} {index + 1}",
                    archived_at=options.now - timedelta(days=1 + index) if index in archived else None,
                    created_at=self.history_start - timedelta(days=30, hours=index),
                    metric_ids=tuple(metric_ids),
                    has_active_plan=index not in without_plan,
                    retired_metric_ids=tuple(metric.id for metric in retired),
                )
            )

    @property
    def revision(self) -> int:
        return self.revisions[-1].number if self.revisions else 0

    @revision.setter
    def revision(self, number: int) -> None:
        """Raising the revision delivers each new revision's backdated events now; lowering it
        withdraws the later ones (as if they never arrived)."""
        kept = tuple(revision for revision in self.revisions if revision.number <= number)
        added = tuple(Revision(next_number, self.now) for next_number in range(self.revision + 1, number + 1))
        self.revisions = kept + added

    def customer(self, customer_id: str) -> Optional[Customer]:
        return next((customer for customer in self.customers if customer.id == customer_id), None)

    def metrics_of(self, customer: Customer) -> List[BillableMetric]:
        """The metrics on the customer's plan (what it is invoiced and costed for)."""
        return [self.metrics[metric_id] for metric_id in customer.metric_ids]

    def listed_metrics(self, customer: Customer, include_archived: bool) -> List[BillableMetric]:
        """GET /v1/customers/{id}/billable-metrics: the plan's metrics, then with include_archived the
        archived ones the customer used (the SDK: archived metrics are left out by default)."""
        return self.metrics_of(customer) + ([self.metrics[metric_id] for metric_id in customer.retired_metric_ids] if include_archived else [])

    def archive_customers(self, *customer_ids: str) -> None:
        """Archives these customers now, as a user does in Metronome between two syncs."""
        for position, customer in enumerate(self.customers):
            if customer.id in customer_ids and not customer.archived:
                self.customers[position] = replace(customer, archived_at=self.now)

    def on_unique_plan(self, customer: Customer) -> bool:
        return any(metric.aggregation_type == UNIQUE for metric in self.metrics_of(customer))

    def current_period(self, customer: Customer) -> Optional[Tuple[datetime, datetime]]:
        """The customer's current billing period [start, end), None without an active plan.

        Periods are monthly, from midnight UTC on the day of the month the customer was created
        (the last day of shorter months), so the period holding "now" usually ends in the future.
        """
        if not customer.has_active_plan:
            return None
        anchor_day = customer.created_at.day
        start = month_day(self.now.year, self.now.month, anchor_day)
        if start > self.now:
            start = month_day(*month_after(start.year, start.month, -1), anchor_day)
        return start, month_day(*month_after(start.year, start.month, 1), anchor_day)

    def group_values(self, metric: BillableMetric, key: str) -> List[Optional[str]]:
        """The values events carry for `key`, then None for events without the key (Metronome
        groups those under a null group value)."""
        if key not in metric.group_keys:
            return []
        return [f"{key}-{chr(ord('a') + index)}" for index in range(self.options.group_values_per_key)] + [None]


def _metric(options: DatasetOptions, index: int) -> BillableMetric:
    per_cycle = options.group_keys_per_metric + 1
    key_count = index % per_cycle
    # Each cycle of metrics starts its keys one name further, so some metrics have keys but not "region".
    first_key = (index // per_cycle) % len(GROUP_KEY_NAMES)
    keys = tuple(GROUP_KEY_NAMES[(first_key + offset) % len(GROUP_KEY_NAMES)] for offset in range(key_count))
    if options.every_metric_grouped_by and options.every_metric_grouped_by not in keys:
        keys = (options.every_metric_grouped_by,) + keys
    return BillableMetric(
        id=seeded_uuid(options.seed, "metric", index),
        name=METRIC_NAMES[index % len(METRIC_NAMES)] + ("" if index < len(METRIC_NAMES) else f" {index}"),
        aggregation_type=AGGREGATION_TYPES[index % len(AGGREGATION_TYPES)],
        group_keys=keys,
        key_form=("group_by", "group_keys", "both")[index % 3],
        unit_quarters=1 + index % 6,
        price_quarter_cents=2 + 3 * (index % 5),
        credit_type=COMPUTE_CREDITS if index % 4 == 3 else USD_CENTS,
    )


def month_after(year: int, month: int, months: int) -> Tuple[int, int]:
    """(year, month) `months` after this month."""
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def month_day(year: int, month: int, day: int) -> datetime:
    """Midnight UTC on that day of the month, or on its last day when shorter."""
    return datetime(year, month, min(day, calendar.monthrange(year, month)[1]), tzinfo=timezone.utc)
