"""What a correct sync of the fake account must emit, computed from the dataset, not from the API.

Written from the connector's documented behaviour (its spec and source_metronome/windows.py,
directory.py), independently of its code, so that a connector bug shows up as a difference:

- partitions: usage per customer × billable metric, costs per customer; customers are the
  configured ids, else every active one (and archived ones with include_archived_customers) in an
  incremental sync, every customer, archived ones included, in a full refresh (the streams named
  in `full_refresh`, and usage with window_size NONE or current_period, full refresh only);
  metrics are the configured ids, else each customer's listed metrics;
- each partition reads [start, end): start is floor(start_date), or in an incremental sync
  max(start, saved cursor - lookback_days); end is min(ceil(end_date), ceil(now)); a range under
  a day is not read;
- its cursor then becomes min(end, floor(now)); saved cursors of partitions not read are kept;
- customers whose plan has a UNIQUE metric have no costs (Metronome refuses them), so a correct
  sync emits none for them.

The directory and line-item streams and the newer usage settings, as the connector declares them:
- `customers` (primary key id): every customer (configured ids: those), archived ones included
  whatever include_archived_customers says, as the API lists them; `billable_metrics` (customer_id,
  id): one row per such customer × metric of its listing with include_archived=true (all of them,
  archived metrics it used included, whatever billable_metric_ids says), with `customer_id`;
- metrics are listed with include_archived=true: an archived metric a customer used is one more
  usage partition, read under the same incremental rules;
- `customer_cost_line_items`: each cost day flattened to one row per credit type × line item,
  over the same partitions and ranges as costs (its own saved cursors); the line item is keyed by
  `line_item_id`, compact JSON of [name, group_key, group_value] (see line_item_id);
- `group_keys` (a list of keys) with optional `group_filters` (key → values) ask in Metronome's
  newer form for metrics whose listing offers that key set (in its `group_keys` lists, or its older
  `group_by` list as single keys; any order): records carry the served `group` map; other metrics
  read ungrouped; `group_by` with `group_keys`, or `group_filters` without `group_keys`, is a
  config error;
- `current_period: true` reads each usage partition over its customer's current billing period
  instead of [start, end) (usage is full refresh then: no lookback, no saved cursor); customers
  without an active plan have none.

The twelve finance, catalog and audit streams (invoices, contracts, audit_logs, ...) are computed in
ground_truth_billing.py, of contract edits, rate schedules, customer plans, alerts and
billing-provider configurations in ground_truth_contracts_era.py; expected_records and PRIMARY_KEYS
include them.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Collection, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from integration_tests.fake_metronome.customers_read import customer_ids_read as _customer_ids
from integration_tests.fake_metronome.customers_read import customers_read as _known_customers
from integration_tests.fake_metronome.customers_read import per_customer_read, range_read
from integration_tests.fake_metronome.dataset import BillableMetric, Dataset
from integration_tests.fake_metronome.ground_truth_billing import BILLING_PRIMARY_KEYS, expected_billing_records
from integration_tests.fake_metronome.ground_truth_breakdowns import BREAKDOWN_PRIMARY_KEYS
from integration_tests.fake_metronome.ground_truth_contracts_era import CONTRACTS_ERA_PRIMARY_KEYS, expected_contracts_era_records
from integration_tests.fake_metronome.timestamps import floor_to_midnight, format_timestamp, parse_timestamp
from integration_tests.fake_metronome.usage import Grouping, cost_days, usage_windows

USAGE = "usage_with_groups"
COSTS = "customer_costs"
COST_LINE_ITEMS = "customer_cost_line_items"
CUSTOMERS = "customers"
BILLABLE_METRICS = "billable_metrics"
# The oracle's own stream names, keys and cursors, on purpose (not read from source_metronome/endpoints.py,
# so a wrong declaration cannot agree with itself); integration_tests/test_ground_truth_agrees_with_declarations.py
# compares them with the connector's declarations.
CURSOR_FIELDS = {USAGE: "ending_before", COSTS: "end_timestamp", COST_LINE_ITEMS: "end_timestamp"}
PARTITION_FIELDS = {USAGE: ("customer_id", "billable_metric_id"), COSTS: ("customer_id",), COST_LINE_ITEMS: ("customer_id",)}
PRIMARY_KEYS = {
    USAGE: ("customer_id", "billable_metric_id", "window_size", "group_id", "starting_on"),
    COSTS: ("customer_id", "start_timestamp"),
    COST_LINE_ITEMS: ("customer_id", "start_timestamp", "credit_type_id", "line_item_id"),
    CUSTOMERS: ("id",),
    BILLABLE_METRICS: ("customer_id", "id"),
    **BILLING_PRIMARY_KEYS,
    **BREAKDOWN_PRIMARY_KEYS,
    **CONTRACTS_ERA_PRIMARY_KEYS,
}

PartitionKey = Tuple[str, ...]


@dataclass(frozen=True)
class MetricToRead:
    id: str
    # None when the connector does not list metrics (ids configured and no grouping).
    name: Optional[str]
    grouping: Optional[Grouping]


@dataclass(frozen=True)
class Partition:
    stream: str
    customer_id: str
    metric: Optional[MetricToRead]
    starting_on: datetime
    ending_before: datetime

    @property
    def key(self) -> PartitionKey:
        return (self.customer_id, self.metric.id) if self.metric else (self.customer_id,)


def without_nulls(record: Mapping[str, Any]) -> Dict[str, Any]:
    """The record as the CDK emits it: its serializer leaves out top-level keys whose value is null
    (nested nulls stay), so records are compared after dropping those on both sides."""
    return {key: value for key, value in record.items() if value is not None}


def group_id(group: Optional[Mapping[str, Optional[str]]]) -> str:
    """The connector's stand-in for the group in the primary key: compact JSON of the group (each
    key to its value, keys sorted), `{}` ungrouped; compound groups alike."""
    return json.dumps(dict(group or {}), separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def line_item_id(name: str, group_key: Optional[str], group_value: Optional[str]) -> str:
    """The connector's non-null stand-in for a line item in the primary key: compact JSON of
    [name, group_key, group_value], e.g. `["Platform fee",null,null]`."""
    return json.dumps([name, group_key, group_value], separators=(",", ":"), ensure_ascii=False)


def usage_is_full_refresh_only(config: Mapping[str, Any]) -> bool:
    """With window_size NONE (one total per range) or current_period (Metronome's range) usage has
    no cursor to resume from: it is offered in full refresh only."""
    return config.get("window_size") == "NONE" or bool(config.get("current_period"))


def read_plan(
    dataset: Dataset,
    config: Mapping[str, Any],
    now: Optional[datetime] = None,
    state: Optional[Mapping[str, Mapping[str, Any]]] = None,
    full_refresh: Collection[str] = (),
) -> List[Partition]:
    """The partitions a correct sync reads, each with its range.

    `now` is the connector's clock (by default the server's); `state` maps a stream name to the
    stream state it resumes from; `full_refresh` names the streams with a cursor synced as full
    refreshes (they read every customer, each over the whole range, whatever `state` says).
    """
    now = now or dataset.now
    saved = {stream: cursors_of(stream_state) for stream, stream_state in (state or {}).items()}
    refreshed = set(full_refresh) | ({USAGE} if usage_is_full_refresh_only(config) else set())
    saved = {stream: cursors for stream, cursors in saved.items() if stream not in refreshed}
    read_by = {stream: set(_customer_ids(dataset, config, every_customer=stream in refreshed)) for stream in (USAGE, COSTS)}
    partitions = []
    for customer_id in _customer_ids(dataset, config, every_customer=True):
        customer = dataset.customer(customer_id)
        metrics = list(_metrics(dataset, config, customer_id)) if customer_id in read_by[USAGE] else []
        if config.get("current_period"):
            period = dataset.current_period(customer) if customer else None
            # Read whole, whatever the state: the period is Metronome's, not a cursor's.
            partitions.extend(Partition(USAGE, customer_id, metric, *period) for metric in metrics if period)
            metrics = []
        candidates: List[Tuple[str, Optional[MetricToRead]]] = [(USAGE, metric) for metric in metrics]
        if customer is not None and customer_id in read_by[COSTS] and not dataset.on_unique_plan(customer):
            candidates.append((COSTS, None))
        for stream, metric in candidates:
            read = range_read(config, now, saved.get(stream, {}).get((customer_id, metric.id) if metric else (customer_id,)))
            if read:
                partitions.append(Partition(stream, customer_id, metric, *read))
    return partitions


def expected_records(
    dataset: Dataset,
    config: Mapping[str, Any],
    now: Optional[datetime] = None,
    state: Optional[Mapping[str, Mapping[str, Any]]] = None,
    full_refresh: Collection[str] = (),
) -> Dict[str, List[Dict[str, Any]]]:
    """Per stream, exactly the records a correct sync emits, in the connector's record shape (with
    nulls; see without_nulls). `full_refresh`: as read_plan's."""
    window_size = config.get("window_size", "DAY")
    records: Dict[str, List[Dict[str, Any]]] = {USAGE: [], COSTS: []}
    for partition in read_plan(dataset, config, now, state, full_refresh):
        if partition.stream == USAGE:
            records[USAGE].extend(_usage_records(dataset, partition, window_size))
        else:
            records[COSTS].extend(_cost_records(dataset, partition))
    records[COST_LINE_ITEMS] = expected_cost_line_items(dataset, config, now, state, full_refresh)
    records[CUSTOMERS] = expected_customers(dataset, config)
    records[BILLABLE_METRICS] = expected_billable_metrics(dataset, config)
    records.update(expected_billing_records(dataset, config, now, state))
    records.update(expected_contracts_era_records(dataset, config))
    return records


def expected_cost_line_items(
    dataset: Dataset,
    config: Mapping[str, Any],
    now: Optional[datetime] = None,
    state: Optional[Mapping[str, Mapping[str, Any]]] = None,
    full_refresh: Collection[str] = (),
) -> List[Dict[str, Any]]:
    """The customer_cost_line_items records: each cost day's credit types × line items, as rows.

    The same partitions and ranges as customer_costs, resumed from the line-item stream's own
    state (state[COST_LINE_ITEMS]), every customer read when COST_LINE_ITEMS is in `full_refresh`.
    A line item without a group has null group_key/group_value.
    """
    rows = []
    for partition in read_plan(dataset, config, now, _line_items_as_costs(state), [COSTS] if COST_LINE_ITEMS in full_refresh else []):
        if partition.stream != COSTS:
            continue
        for day in _cost_records(dataset, partition):
            for credit_type_id, credit_type in day["credit_types"].items():
                for line_item in credit_type.get("line_item_breakdown") or []:
                    rows.append(
                        {
                            "customer_id": day["customer_id"],
                            "start_timestamp": day["start_timestamp"],
                            "end_timestamp": day["end_timestamp"],
                            "credit_type_id": credit_type_id,
                            "credit_type_name": credit_type.get("name"),
                            "line_item_name": line_item["name"],
                            "group_key": line_item.get("group_key"),
                            "group_value": line_item.get("group_value"),
                            "cost": line_item["cost"],
                            "line_item_id": line_item_id(line_item["name"], line_item.get("group_key"), line_item.get("group_value")),
                        }
                    )
    return rows


def expected_customers(dataset: Dataset, config: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The customers records: every customer (or the configured ones), archived ones included, as listed."""
    return [customer.as_api() for customer in _known_customers(dataset, config, every_customer=True)]


def expected_billable_metrics(dataset: Dataset, config: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The billable_metrics records: every customer's listed metrics (archived ones included), with its customer_id."""
    return per_customer_read(dataset, config, lambda customer: [metric.as_api() for metric in dataset.listed_metrics(customer, include_archived=True)])


def expected_cursors(
    dataset: Dataset,
    config: Mapping[str, Any],
    now: Optional[datetime] = None,
    state: Optional[Mapping[str, Mapping[str, Any]]] = None,
) -> Dict[str, Dict[PartitionKey, str]]:
    """Per stream, the cursor of each partition after a correct sync (see cursors_of); none for
    usage with current_period (full refresh only)."""
    now = now or dataset.now
    today = floor_to_midnight(now)
    cursors = {stream: {key: min(cursor, today) for key, cursor in cursors_of((state or {}).get(stream)).items()} for stream in (USAGE, COSTS)}
    for partition in read_plan(dataset, config, now, state):
        cursors[partition.stream][partition.key] = min(partition.ending_before, today)
    if config.get("current_period"):
        cursors[USAGE] = {}
    return {stream: {key: format_timestamp(cursor) for key, cursor in by_key.items()} for stream, by_key in cursors.items()}


def expected_line_item_cursors(
    dataset: Dataset,
    config: Mapping[str, Any],
    now: Optional[datetime] = None,
    state: Optional[Mapping[str, Mapping[str, Any]]] = None,
) -> Dict[PartitionKey, str]:
    """The customer_cost_line_items cursors after a correct sync: as costs', from its own state."""
    return expected_cursors(dataset, config, now, _line_items_as_costs(state))[COSTS]


def _line_items_as_costs(state: Optional[Mapping[str, Mapping[str, Any]]]) -> Dict[str, Mapping[str, Any]]:
    """The line-item stream's state in costs' place: it reads the same partitions from its own cursors."""
    line_items = (state or {}).get(COST_LINE_ITEMS)
    return {COSTS: line_items} if line_items else {}


def cursors_of(stream_state: Optional[Mapping[str, Any]]) -> Dict[PartitionKey, datetime]:
    """A per-partition stream state, {"states": [{"partition": {...}, "cursor": {...}}]}, as
    partition key → cursor."""
    cursors: Dict[PartitionKey, datetime] = {}
    for entry in (stream_state or {}).get("states", []):
        partition = entry["partition"]
        fields = PARTITION_FIELDS[USAGE] if "billable_metric_id" in partition else PARTITION_FIELDS[COSTS]
        cursor_value = next(iter(entry["cursor"].values()))
        cursors[tuple(partition[field] for field in fields)] = floor_to_midnight(parse_timestamp(cursor_value))
    return cursors


def primary_key(stream: str, record: Mapping[str, Any]) -> Tuple[Any, ...]:
    return tuple(record.get(field) for field in PRIMARY_KEYS[stream])


def _metrics(dataset: Dataset, config: Mapping[str, Any], customer_id: str) -> Iterable[MetricToRead]:
    configured = config.get("billable_metric_ids") or []
    group_by = config.get("group_by") or None
    group_keys = config.get("group_keys") or None
    if group_by and group_keys:
        raise ValueError("configure group_by or group_keys, not both")
    if config.get("group_filters") and not group_keys:
        raise ValueError("group_filters needs group_keys")
    if configured and not (group_by or group_keys):
        return [MetricToRead(metric_id, None, None) for metric_id in configured]
    customer = dataset.customer(customer_id)
    listed = {metric.id: metric for metric in dataset.listed_metrics(customer, include_archived=True)} if customer else {}
    ids = configured or list(listed)
    metrics = []
    for metric_id in ids:
        metric = listed.get(metric_id)
        grouping = None
        if metric is not None and group_by and group_by["key"] in metric.group_keys:
            grouping = Grouping.by(group_by["key"], tuple(group_by["values"]) if group_by.get("values") else None)
        if metric is not None and group_keys and set(group_keys) in _offered_key_sets(metric):
            filters = {key: tuple(values) for key, values in (config.get("group_filters") or {}).items()}
            grouping = Grouping.compound(tuple(group_keys), filters)
        metrics.append(MetricToRead(metric_id, metric.name if metric else None, grouping))
    return metrics


def _offered_key_sets(metric: BillableMetric) -> List[Set[str]]:
    """The key sets a customer's listing offers for the newer group_key: its `group_keys` lists,
    and each key of its older `group_by` list alone (a listing with only `group_by` offers no
    compound key, though Metronome may hold one)."""
    listed = metric.as_api()
    return [set(keys) for keys in listed.get("group_keys") or []] + [{key} for key in listed.get("group_by") or []]


def _usage_records(dataset: Dataset, partition: Partition, window_size: str) -> Iterable[Dict[str, Any]]:
    metric = dataset.metrics[partition.metric.id]
    for window in usage_windows(
        dataset, partition.customer_id, metric, window_size, partition.starting_on, partition.ending_before, partition.metric.grouping
    ):
        record = {
            "starting_on": format_timestamp(window.starting_on),
            "ending_before": format_timestamp(window.ending_before),
            "group_key": window.group_key,
            "group_value": window.group_value,
            "value": window.value,
            "customer_id": partition.customer_id,
            "billable_metric_id": partition.metric.id,
            "billable_metric_name": partition.metric.name,
            "window_size": window_size,
        }
        if window.group is not None:
            record["group"] = window.group
        single = {window.group_key: window.group_value} if window.group_key is not None else None
        record["group_id"] = group_id(window.group if window.group is not None else single)
        yield record


def _cost_records(dataset: Dataset, partition: Partition) -> Iterable[Dict[str, Any]]:
    customer = dataset.customer(partition.customer_id)
    for day in cost_days(dataset, customer, partition.starting_on, partition.ending_before):
        yield {
            "start_timestamp": format_timestamp(day.start_timestamp),
            "end_timestamp": format_timestamp(day.end_timestamp),
            "credit_types": day.credit_types,
            "customer_id": partition.customer_id,
        }
