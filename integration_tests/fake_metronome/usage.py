"""Usage and what it costs: POST /v1/usage/groups and GET /v1/customers/{id}/costs.

The windows and cost days are shared by the server and the ground truth, so both agree on every
value. Usage is served for any known metric of any known customer; a metric the customer never used
simply has no events. A day's cost per metric is its events' quantity × the metric's price, so costs
move with usage (late events included); line items break a metric down by its first group key, if it
has one. Amounts are counted in quarter cents and divided once, so every cost and sum is exact in
binary.
"""

import bisect
import functools
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from integration_tests.fake_metronome.dataset import UNIQUE, BillableMetric, Customer, Dataset
from integration_tests.fake_metronome.events import Batch, batches
from integration_tests.fake_metronome.request import ApiError, Request, known_customer, moment, required_string, strings
from integration_tests.fake_metronome.seeding import seeded_fraction
from integration_tests.fake_metronome.timestamps import ONE_DAY, WINDOW_STEPS, format_timestamp, is_midnight, steps

WINDOW_SIZES = ("HOUR", "DAY", "NONE")

Number = Union[int, float]


@dataclass(frozen=True)
class Grouping:
    """The groups asked for: by one key (`group_by`, or `group_key` of one key) or by a compound key
    (`group_key` of several). Each group is one combination of the keys' values, None standing
    for events without the key."""

    keys: Tuple[str, ...]
    # Key → the only values kept; a key not here keeps all its values (and events without it).
    filters: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    # Metronome's newer form (`group_key` and `group_filters`): items then carry `group`, a map of
    # each key to its value, and group_key/group_value only for a single key.
    newer_form: bool = False

    @classmethod
    def by(cls, key: str, values: Optional[Tuple[str, ...]] = None) -> "Grouping":
        """The older `group_by` {key, values?}: values narrow the groups to those values."""
        return cls((key,), () if values is None else ((key, tuple(values)),))

    @classmethod
    def compound(cls, keys: Tuple[str, ...], filters: Optional[Mapping[str, Tuple[str, ...]]] = None) -> "Grouping":
        """The newer `group_key` [keys] with `group_filters` {key: [values]}: an empty list keeps every value."""
        kept = tuple((key, tuple(values)) for key, values in (filters or {}).items() if values)
        return cls(tuple(keys), kept, newer_form=True)


@dataclass(frozen=True)
class UsageWindow:
    starting_on: datetime
    ending_before: datetime
    group_key: Optional[str]
    group_value: Optional[str]
    value: Optional[Number]
    # Each requested key's value, for the newer form (see Grouping); None otherwise.
    group: Optional[Dict[str, Optional[str]]] = None


# Every page of a request, and the ground truth, ask for the same windows: computed once, the fake
# answers at the speed of a real server and benchmarks measure the connector, not the fake.
_MEMO_SIZE = 20_000
_memo: "OrderedDict[Tuple[Any, ...], List[UsageWindow]]" = OrderedDict()
_memo_lock = threading.Lock()


def _memoised(compute: Callable[..., List[UsageWindow]]) -> Callable[..., List[UsageWindow]]:
    @functools.wraps(compute)
    def memoised(dataset: Dataset, *request: Any) -> List[UsageWindow]:
        key = (dataset.options, dataset.now, dataset.revisions, *request)
        with _memo_lock:
            if key in _memo:
                _memo.move_to_end(key)
                return _memo[key]
        windows = compute(dataset, *request)
        with _memo_lock:
            _memo[key] = windows
            if len(_memo) > _MEMO_SIZE:
                _memo.popitem(last=False)
        return windows

    return memoised


@_memoised
def usage_windows(
    dataset: Dataset,
    customer_id: str,
    metric: BillableMetric,
    window_size: str,
    starting_on: datetime,
    ending_before: datetime,
    grouping: Optional[Grouping],
) -> List[UsageWindow]:
    """One window per day or hour of the range that starts before now (NONE: the range itself),
    times each group; grouped windows come group by group, each in time order."""
    window_size = window_size.upper()
    if window_size == "NONE":
        bounds = [(starting_on, ending_before)]
    else:
        step = WINDOW_STEPS[window_size]
        bounds = [(start, start + step) for start in steps(starting_on, ending_before, step, dataset.now)]
    keys = grouping.keys if grouping else ()
    filters = dict(grouping.filters) if grouping else {}
    values_per_key = [[value for value in dataset.group_values(metric, key) if key not in filters or value in filters[key]] for key in keys]
    groups = list(itertools.product(*values_per_key))

    buckets: Dict[Tuple[Tuple[Optional[str], ...], int], List[Batch]] = {}
    key_indexes = [metric.group_keys.index(key) for key in keys]
    window_starts = [start for start, _ in bounds]
    for batch in batches(dataset, customer_id, metric, starting_on, ending_before):
        cell = tuple(batch.cell[index] for index in key_indexes)
        buckets.setdefault((cell, _window_index(window_starts, batch.moment)), []).append(batch)

    windows = []
    for cell in groups:
        single = len(keys) == 1
        group_key, group_value = (keys[0], cell[0]) if single else (None, None)
        # A single key's null draw is the same in either form (one value, or the whole cell).
        null_draw = cell[0] if single else (cell or None)
        group = dict(zip(keys, cell)) if grouping and grouping.newer_form else None
        for index, (start, end) in enumerate(bounds):
            value = _aggregate(metric, buckets.get((cell, index), []))
            if seeded_fraction(dataset.options.seed, "null", customer_id, metric.id, window_size, start, null_draw) < dataset.options.null_share:
                value = None
            windows.append(UsageWindow(start, end, group_key, group_value, value, group))
    return windows


def _window_index(window_starts: List[datetime], moment: datetime) -> int:
    # Windows are contiguous and batches come from the requested range, so the last window that
    # starts at or before the moment holds it.
    return bisect.bisect_right(window_starts, moment) - 1


def _aggregate(metric: BillableMetric, window_batches: List[Batch]) -> Optional[Number]:
    """COUNT and UNIQUE count (events, distinct users), SUM adds amounts, MAX and LATEST pick one;
    with no events the counts are 0 and the picks null."""
    amounts = [batch.quantity * metric.unit_quarters for batch in window_batches]
    kind = metric.aggregation_type
    if kind == "COUNT":
        return sum(batch.quantity for batch in window_batches)
    if kind == UNIQUE:
        return len({batch.user for batch in window_batches})
    if kind == "SUM":
        return sum(amounts) / 4
    if not amounts:
        return None
    if kind == "MAX":
        return max(amounts) / 4
    return amounts[-1] / 4


# Costs


@dataclass(frozen=True)
class CostDay:
    start_timestamp: datetime
    end_timestamp: datetime
    credit_types: Dict[str, Dict[str, Any]]


def cost_days(dataset: Dataset, customer: Customer, starting_on: datetime, ending_before: datetime) -> List[CostDay]:
    return [CostDay(day, day + ONE_DAY, _credit_types(dataset, customer, day)) for day in steps(starting_on, ending_before, ONE_DAY, dataset.now)]


def _credit_types(dataset: Dataset, customer: Customer, day: datetime) -> Dict[str, Dict[str, Any]]:
    quarters_by_type: Dict[str, int] = {}
    credit_types: Dict[str, Dict[str, Any]] = {}
    for metric in dataset.metrics_of(customer):
        day_batches = batches(dataset, customer.id, metric, day, day + ONE_DAY)
        key = metric.group_keys[0] if metric.group_keys else None
        entry = credit_types.setdefault(metric.credit_type.id, {"name": metric.credit_type.name, "cost": 0, "line_item_breakdown": []})
        for group_value in dataset.group_values(metric, key) if key else [None]:
            quantity = sum(batch.quantity for batch in day_batches if key is None or batch.cell[0] == group_value)
            quarters = quantity * metric.price_quarter_cents
            quarters_by_type[metric.credit_type.id] = quarters_by_type.get(metric.credit_type.id, 0) + quarters
            line_item: Dict[str, Any] = {"name": metric.name, "cost": quarters / 4}
            if key:
                line_item.update(group_key=key, group_value=group_value)
            entry["line_item_breakdown"].append(line_item)
    for credit_type_id, entry in credit_types.items():
        entry["cost"] = quarters_by_type[credit_type_id] / 4
    return credit_types


# Serving (the handlers endpoints.py routes to)


def serve_usage(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    customer = known_customer(dataset, required_string(request.body, "customer_id"))
    metric_id = required_string(request.body, "billable_metric_id")
    metric = dataset.metrics.get(metric_id)
    if metric is None:
        raise ApiError(404, f"Billable metric {metric_id} not found")
    window_size = required_string(request.body, "window_size")
    # The spec lists upper case, and Metronome's SDK examples send lower case: any case is accepted.
    if window_size.upper() not in WINDOW_SIZES:
        raise ApiError(400, f"window_size must be one of HOUR, DAY, NONE, got {window_size!r}")
    starting_on, ending_before = _usage_range(dataset, customer, request.body)
    items = []
    for window in usage_windows(dataset, customer.id, metric, window_size, starting_on, ending_before, _grouping(request.body, metric)):
        item = {
            "starting_on": format_timestamp(window.starting_on, style),
            "ending_before": format_timestamp(window.ending_before, style),
            "group_key": window.group_key,
            "group_value": window.group_value,
            "value": window.value,
        }
        if window.group is not None:
            item["group"] = window.group
        items.append(item)
    return items


def serve_costs(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    customer = known_customer(dataset, request.path_params["customer_id"])
    if dataset.on_unique_plan(customer):
        raise ApiError(400, "Costs are not supported for customers whose plan includes a UNIQUE-type billable metric")
    starting_on, ending_before = _date_range(request.param("starting_on"), request.param("ending_before"))
    return [
        {"start_timestamp": format_timestamp(day.start_timestamp, style), "end_timestamp": format_timestamp(day.end_timestamp, style), "credit_types": day.credit_types}
        for day in cost_days(dataset, customer, starting_on, ending_before)
    ]


def _usage_range(dataset: Dataset, customer: Customer, body: Mapping[str, Any]) -> Tuple[datetime, datetime]:
    """The explicit range, or with `current_period` the customer's current billing period (the
    newest SDK: an error with explicit dates, or for a customer without an active plan/contract)."""
    current_period = body.get("current_period", False)
    if not isinstance(current_period, bool):
        raise ApiError(400, "current_period must be a boolean")
    if not current_period:
        return _date_range(body.get("starting_on"), body.get("ending_before"))
    if body.get("starting_on") is not None or body.get("ending_before") is not None:
        raise ApiError(400, "current_period cannot be combined with starting_on or ending_before")
    period = dataset.current_period(customer)
    if period is None:
        raise ApiError(400, f"Customer {customer.id} has no active plan or contract, so it has no current billing period")
    return period


def _date_range(starting_on: Any, ending_before: Any) -> Tuple[datetime, datetime]:
    """Metronome's rule for every dated usage or cost request, whatever the window size: both ends on
    UTC midnight, and at least one day apart."""
    moments = []
    for name, text in (("starting_on", starting_on), ("ending_before", ending_before)):
        moments.append(moment(name, text if isinstance(text, str) else None, required=True))
        if not is_midnight(moments[-1]):
            raise ApiError(400, f"{name} must be aligned to midnight UTC, got {text!r}")
    if moments[1] - moments[0] < ONE_DAY:
        raise ApiError(400, "ending_before must be at least one day after starting_on")
    return moments[0], moments[1]


def _grouping(body: Mapping[str, Any], metric: BillableMetric) -> Optional[Grouping]:
    """The older `group_by` or the newer `group_key` with `group_filters`, never both (newest SDK)."""
    group_by, group_key, group_filters = body.get("group_by"), body.get("group_key"), body.get("group_filters")
    if group_by is not None and (group_key is not None or group_filters is not None):
        raise ApiError(400, "group_by cannot be used together with group_key or group_filters")
    if group_key is not None or group_filters is not None:
        return _compound_grouping(group_key, group_filters, metric)
    if group_by is None:
        return None
    if not isinstance(group_by, dict) or not isinstance(group_by.get("key"), str):
        raise ApiError(400, "group_by must be an object with a string key")
    if group_by["key"] not in metric.group_keys:
        raise ApiError(400, f"group_by key {group_by['key']!r} is not a group key of billable metric {metric.id}")
    values = group_by.get("values")
    if values is None:
        return Grouping.by(group_by["key"])
    if not strings(values):
        raise ApiError(400, "group_by.values must be a list of strings")
    return Grouping.by(group_by["key"], tuple(values))


def _compound_grouping(group_key: Any, group_filters: Any, metric: BillableMetric) -> Grouping:
    """`group_key` must be exactly one of the metric's group_keys lists (a single key, or the whole
    compound, in any order: no partial matches); `group_filters` keys must be among its keys."""
    if not strings(group_key) or not group_key or len(set(group_key)) != len(group_key):
        raise ApiError(400, "group_key must be a non-empty list of distinct strings")
    if sorted(group_key) not in [sorted(keys) for keys in metric.group_key_lists]:
        raise ApiError(400, f"group_key {group_key!r} is not a group key of billable metric {metric.id}")
    filters = group_filters or {}
    if not isinstance(filters, dict) or not all(strings(values) for values in filters.values()):
        raise ApiError(400, "group_filters must map group keys to lists of strings")
    stray = sorted(set(filters) - set(group_key))
    if stray:
        raise ApiError(400, f"group_filters keys {stray!r} are not in group_key")
    return Grouping.compound(tuple(group_key), {key: tuple(values) for key, values in filters.items()})

