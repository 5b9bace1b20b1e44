"""Who and what to read: customers and their billable metrics, listed at most once per sync and
shared by every stream, unless the user named them in the config."""

import logging
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Set, Tuple

from airbyte_cdk.models import SyncMode

from source_metronome.config import MetronomeConfig
from source_metronome.errors import PartitionSkipped
from source_metronome.pacing import SyncBudget
from source_metronome.read_ahead import map_in_order
from source_metronome.streams import CustomerBillableMetrics, Customers


@dataclass(frozen=True)
class BillableMetric:
    id: str
    name: Optional[str] = None
    # Group keys usable in group_by; empty when unknown (the metric was named in the config).
    group_keys: FrozenSet[str] = frozenset()

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> "BillableMetric":
        # Metronome's older `group_by` is a list of keys; the newer `group_keys` a list of key lists
        # (compound keys). A single-key group_by may use any key found in either.
        keys = set(item.get("group_by") or [])
        for compound in item.get("group_keys") or []:
            keys.update(compound)
        return cls(id=item["id"], name=item.get("name"), group_keys=frozenset(keys))


class Directory:
    def __init__(self, config: MetronomeConfig, budget: SyncBudget, logger: logging.Logger):
        self._config = config
        self._budget = budget
        self._logger = logger
        self._customer_ids: Optional[List[str]] = None
        self._metrics: Dict[str, List[BillableMetric]] = {}
        self._ungrouped_logged: Set[str] = set()
        # One stream for every customer's listing, shared by the worker threads: one connection pool.
        self._metric_lister = CustomerBillableMetrics(config, budget=budget)

    def customer_ids(self) -> List[str]:
        if self._customer_ids is None:
            self._customer_ids = list(self._config.customer_ids) or self._list_customer_ids()
        return self._customer_ids

    def billable_metrics_by_customer(self) -> List[Tuple[str, List[BillableMetric]]]:
        """Every customer with its billable metrics; the listings run max_concurrency at a time."""
        customer_ids = self.customer_ids()
        metrics = map_in_order(self.billable_metrics, customer_ids, workers=self._config.max_concurrency)
        return list(zip(customer_ids, metrics))

    def billable_metrics(self, customer_id: str) -> List[BillableMetric]:
        configured = self._config.billable_metric_ids
        # Named metrics need no listing, unless group_by needs to know their group keys.
        if configured and not self._config.group_by:
            return [BillableMetric(id=metric_id) for metric_id in configured]
        if customer_id not in self._metrics:
            try:
                items = self._read(self._metric_lister, {"customer_id": customer_id})
            except PartitionSkipped as refusal:
                # A customer deleted since it was listed has no metrics left to read.
                self._logger.warning(f"Skipping customer {customer_id}: {refusal}")
                items = []
            # Keyed by id: a metric repeated across pages is still one partition, read once.
            by_id = {metric.id: metric for metric in map(BillableMetric.from_api, items)}
            if configured:
                self._metrics[customer_id] = [by_id.get(metric_id, BillableMetric(id=metric_id)) for metric_id in configured]
            else:
                self._metrics[customer_id] = list(by_id.values())
        return self._metrics[customer_id]

    def group_by_for(self, metric: BillableMetric) -> Optional[Mapping[str, Any]]:
        """The group_by to send for this metric: Metronome answers 400 to a key the metric lacks, so
        such metrics are read ungrouped, and the log says so once per metric."""
        group_by = self._config.group_by
        if group_by is None:
            return None
        if group_by.key in metric.group_keys:
            return group_by.as_request()
        if metric.id not in self._ungrouped_logged:
            self._ungrouped_logged.add(metric.id)
            self._logger.info(
                f"Billable metric {metric.name or metric.id} ({metric.id}) has no group key {group_by.key!r}; reading it ungrouped."
            )
        return None

    def _list_customer_ids(self) -> List[str]:
        ids = [customer["id"] for customer in self._read(Customers(self._config, budget=self._budget), {})]
        if self._config.include_archived_customers:
            # only_archived=true returns only archived customers, so both lists are needed.
            ids += [customer["id"] for customer in self._read(Customers(self._config, budget=self._budget, only_archived=True), {})]
        return list(dict.fromkeys(ids))

    @staticmethod
    def _read(stream: Any, stream_slice: Mapping[str, Any]) -> List[Mapping[str, Any]]:
        return list(stream.read_records(sync_mode=SyncMode.full_refresh, stream_slice=stream_slice))
