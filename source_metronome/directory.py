"""Who and what to read: customers and their billable metrics, listed at most once per sync and
shared by every stream, unless the user named them in the config.

Customers come in two lists, active and archived: a stream synced as a full refresh (it overwrites
its table) reads both, so a customer's records stay the day it is archived; an incremental sync
reads the archived list only with include_archived_customers (its history stays in the destination).
PartitionedStream.reads_archived_customers decides which."""

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Set, Tuple

from airbyte_cdk.models import SyncMode

from source_metronome.config import MetronomeConfig
from source_metronome.errors import PartitionSkipped
from source_metronome.pacing import SyncBudget
from source_metronome.read_ahead import map_in_order
from source_metronome.streams.base import MetronomeStream
from source_metronome.streams.endpoint import Endpoint
from source_metronome.windows import parse_moment

# The directory's own listings, read by the sync to find its partitions (the customers and
# billable_metrics streams emit what they list).
CUSTOMER_LISTING = Endpoint(
    name="customers",
    path="/v1/customers",
    primary_key="id",
    # Active customers by default; only archived ones with only_archived=true.
    docs="https://docs.metronome.com/api-reference/customers/list-customers",
)
CUSTOMER_METRIC_LISTING = Endpoint(
    name="billable_metrics",
    path="/v1/customers/{customer_id}/billable-metrics",
    primary_key=["customer_id", "id"],
    # Archived metrics are left out unless asked for (metronome-sdk, customer_list_billable_metrics_params):
    # a metric archived last week keeps its usage history, which the usage stream reads through it.
    params={"include_archived": "true"},
    docs="https://docs.metronome.com/api-reference/billable-metrics/list-billable-metrics",
)
# Where a customer without a readable created_at sorts.
UNKNOWN_CREATION = datetime.min.replace(tzinfo=timezone.utc)
# GET /v1/customers takes at most 100 customer_ids (its `customer_ids` parameter's maxItems).
MAX_CUSTOMER_IDS_PER_REQUEST = 100


def customer_listing(config: MetronomeConfig, *, only_archived: bool = False, customer_ids: Tuple[str, ...] = (), **kwargs: Any) -> MetronomeStream:
    """GET /v1/customers, narrowed to some customers (customer_ids is an array query parameter,
    form style, exploded: repeated) and to the archived ones."""
    params: Dict[str, Any] = {}
    if only_archived:
        params["only_archived"] = "true"
    if customer_ids:
        params["customer_ids"] = list(customer_ids)
    return MetronomeStream(replace(CUSTOMER_LISTING, params=params), config, **kwargs)


@dataclass(frozen=True)
class BillableMetric:
    id: str
    name: Optional[str] = None
    # The sets of keys Metronome accepts to group this metric by; empty when unknown (the metric
    # was named in the config and not listed).
    key_sets: FrozenSet[FrozenSet[str]] = frozenset()

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> "BillableMetric":
        # Metronome's older `group_by` is a list of single keys; the newer `group_keys` a list of
        # key lists (compound keys).
        key_sets = {frozenset([key]) for key in item.get("group_by") or []}
        key_sets |= {frozenset(keys) for keys in item.get("group_keys") or [] if keys}
        return cls(id=item["id"], name=item.get("name"), key_sets=frozenset(key_sets))


def _creation_order(customer: Mapping[str, Any]) -> Tuple[datetime, str]:
    """Metronome documents no order for GET /v1/customers. Creation order (then id) is the same in
    every attempt of a sync, and puts a customer created since at the end: a resumed full refresh
    relies on both (refresh_progress.py). `created_at` is required on the SDK's CustomerDetail."""
    try:
        return parse_moment(customer["created_at"]), customer["id"]
    except (KeyError, TypeError, ValueError, AttributeError):
        # First, in the order listed (the sort is stable).
        return UNKNOWN_CREATION, ""


class Directory:
    """`keep_records`: the sync also emits the customers and billable_metrics streams, so the listed
    items are kept for them rather than only the ids and keys the partitions need."""

    def __init__(self, config: MetronomeConfig, budget: SyncBudget, logger: logging.Logger, *, keep_records: bool = False):
        self._config = config
        self._budget = budget
        self._logger = logger
        self._keep_records = keep_records
        # Metronome's two customer lists, by only_archived: ids always, the items only for the customers stream.
        self._listed_ids: Dict[bool, List[str]] = {}
        self._listed_items: Dict[bool, List[Mapping[str, Any]]] = {}
        # Each listed customer's place in creation order (customer_ids' order).
        self._creation: Dict[str, Tuple[datetime, str]] = {}
        self._metric_items: Dict[str, List[Mapping[str, Any]]] = {}
        self._metrics: Dict[str, List[BillableMetric]] = {}
        # Asked for twice per usage stream: once to count its partitions, once to read them.
        self._metrics_by_customer: Dict[bool, List[Tuple[str, List[BillableMetric]]]] = {}
        self._interned: Dict[BillableMetric, BillableMetric] = {}
        self._ungrouped_logged: Set[str] = set()
        # One stream for every customer's listing, shared by the worker threads: one connection pool.
        self._metric_lister = MetronomeStream(CUSTOMER_METRIC_LISTING, config, budget=budget)

    def customer_ids(self, *, archived_too: bool) -> List[str]:
        """The customers a stream reads: the configured ones in the configured order, else the
        active customers and (archived_too) the archived ones, each once, in creation order. The
        order is the same in every attempt of a sync, whether a customer was archived in between or
        not, and a customer created since comes last (a resumed full refresh relies on both)."""
        if self._config.customer_ids:
            return list(self._config.customer_ids)
        ids = self._listed(archived=False) + (self._listed(archived=True) if archived_too else [])
        return sorted(dict.fromkeys(ids), key=self._creation.__getitem__)

    def customers(self) -> List[Mapping[str, Any]]:
        """Every customer, archived ones included (or the configured ones), as Metronome lists them,
        in customer_ids' order: listed once per sync."""
        if not self._keep_records:
            # Only the ids are kept otherwise: an empty list here would delete the customers table.
            raise RuntimeError("Directory.customers() needs a Directory made with keep_records=True")
        self._listed(archived=False)
        self._listed(archived=True)
        # A customer archived between the two listings is in both: its archived copy is the newer.
        by_id = {customer["id"]: customer for customer in self._listed_items[False] + self._listed_items[True]}
        return [by_id[customer_id] for customer_id in self.customer_ids(archived_too=True) if customer_id in by_id]

    def billable_metrics_by_customer(self, *, archived_too: bool) -> List[Tuple[str, List[BillableMetric]]]:
        """Each customer read (see customer_ids) with its billable metrics; the listings run
        max_concurrency at a time."""
        if archived_too not in self._metrics_by_customer:
            customer_ids = self.customer_ids(archived_too=archived_too)
            metrics = map_in_order(self.billable_metrics, customer_ids, workers=self._config.max_concurrency)
            self._metrics_by_customer[archived_too] = list(zip(customer_ids, metrics))
        return self._metrics_by_customer[archived_too]

    def billable_metric_items_by_customer(self) -> List[Tuple[str, List[Mapping[str, Any]]]]:
        """Every customer's listed metrics, archived customers' and archived metrics included."""
        customer_ids = self.customer_ids(archived_too=True)
        items = map_in_order(self.billable_metric_items, customer_ids, workers=self._config.max_concurrency)
        return list(zip(customer_ids, items))

    def billable_metrics(self, customer_id: str) -> List[BillableMetric]:
        configured = self._config.billable_metric_ids
        # Named metrics need no listing, unless a grouping needs to know their group keys.
        if configured and not self._config.grouping:
            return [BillableMetric(id=metric_id) for metric_id in configured]
        if customer_id not in self._metrics:
            # Keyed by id: a metric repeated across pages is still one partition, read once. The same
            # metric on many customers' plans is kept once.
            metrics = (self._interned.setdefault(metric, metric) for metric in map(BillableMetric.from_api, self.billable_metric_items(customer_id)))
            by_id = {metric.id: metric for metric in metrics}
            if configured:
                self._metrics[customer_id] = [by_id.get(metric_id, BillableMetric(id=metric_id)) for metric_id in configured]
            else:
                self._metrics[customer_id] = list(by_id.values())
        return self._metrics[customer_id]

    def billable_metric_items(self, customer_id: str) -> List[Mapping[str, Any]]:
        """A customer's billable metrics as Metronome lists them: listed once per sync."""
        if customer_id in self._metric_items:
            return self._metric_items[customer_id]
        try:
            items = self._read(self._metric_lister, {"customer_id": customer_id})
        except PartitionSkipped as refusal:
            # A customer deleted since it was listed has no metrics left to read.
            self._logger.warning(f"Skipping customer {customer_id}: {refusal}")
            items = []
        items = list({item["id"]: item for item in items}.values())
        if self._keep_records:
            self._metric_items[customer_id] = items
        return items

    def grouping_for(self, metric: BillableMetric) -> Mapping[str, Any]:
        """What to add to the usage request to group this metric: Metronome answers 400 to keys the
        metric lacks, so such metrics are read ungrouped, and the log says so once per metric."""
        grouping = self._config.grouping
        if grouping is None:
            return {}
        if grouping.usable_with(metric.key_sets):
            return grouping.as_request()
        if metric.id not in self._ungrouped_logged:
            self._ungrouped_logged.add(metric.id)
            self._logger.info(
                f"Billable metric {metric.name or metric.id} ({metric.id}) has no group key {grouping.describe()}; reading it ungrouped."
            )
        return {}

    def _listed(self, *, archived: bool) -> List[str]:
        """The ids of one of Metronome's customer lists: GET /v1/customers lists only active
        customers, and only archived ones with only_archived=true, so every customer takes both.
        Configured customers may be archived ones: both lists are filtered to their ids."""
        if archived not in self._listed_ids:
            listings = [customer_listing(self._config, budget=self._budget, customer_ids=chunk, only_archived=archived) for chunk in self._id_chunks()]
            items = [customer for listing in listings for customer in self._read(listing, {})]
            self._listed_ids[archived] = [customer["id"] for customer in items]
            self._creation.update((customer["id"], _creation_order(customer)) for customer in items)
            # Ids are all the partitions need; the items are kept only for the customers stream.
            self._listed_items[archived] = items if self._keep_records else []
        return self._listed_ids[archived]

    def _id_chunks(self) -> List[Tuple[str, ...]]:
        """The configured customer ids in requests of at most 100 (Metronome's limit), or one unfiltered listing."""
        ids = self._config.customer_ids
        if not ids:
            return [()]
        return [ids[start : start + MAX_CUSTOMER_IDS_PER_REQUEST] for start in range(0, len(ids), MAX_CUSTOMER_IDS_PER_REQUEST)]

    @staticmethod
    def _read(stream: Any, stream_slice: Mapping[str, Any]) -> List[Mapping[str, Any]]:
        return list(stream.read_records(sync_mode=SyncMode.full_refresh, stream_slice=stream_slice))
