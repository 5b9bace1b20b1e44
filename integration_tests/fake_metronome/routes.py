"""The five endpoints, by Metronome's rules: request validation and the full list each query
selects. Pagination, auth and faults are the server's (server.py).

Not modelled, and ignored if sent: `ingest_alias` (customers), `on_current_plan` (a customer's
billable metrics, which list archived metrics the customer used only with `include_archived=true`).
Usage is served for any known metric of any known customer; a metric the customer never used simply
has no events.
"""

import re
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from integration_tests.fake_metronome.costs import cost_days
from integration_tests.fake_metronome.dataset import BillableMetric, Customer, Dataset
from integration_tests.fake_metronome.errors import ApiError
from integration_tests.fake_metronome.timestamps import ONE_DAY, format_timestamp, is_midnight, parse_timestamp
from integration_tests.fake_metronome.usage import Grouping, usage_windows

WINDOW_SIZES = ("HOUR", "DAY", "NONE")
CUSTOMER_RESOURCE = re.compile(r"^/v1/customers/(?P<customer_id>[^/]+)/(?P<resource>billable-metrics|costs)$")

Query = Mapping[str, Sequence[str]]


def list_items(dataset: Dataset, style: str, method: str, path: str, query: Query, body: Any) -> List[Dict[str, Any]]:
    if method == "GET" and path == "/v1/customers":
        return _customers(dataset, style, query)
    if method == "POST" and path == "/v1/usage/groups":
        return _usage(dataset, style, body)
    if method == "GET" and path == "/v1/billable-metrics":
        return _account_metrics(dataset, style, query)
    match = CUSTOMER_RESOURCE.match(path)
    if method == "GET" and match:
        customer = _known_customer(dataset, match["customer_id"])
        if match["resource"] == "billable-metrics":
            return [metric.as_api(style) for metric in dataset.listed_metrics(customer, _flag(query, "include_archived"))]
        return _costs(dataset, style, customer, query)
    raise ApiError(404, f"No such endpoint: {method} {path}")


def _flag(query: Query, name: str) -> bool:
    return query.get(name, ["false"])[-1].lower() == "true"


def _customers(dataset: Dataset, style: str, query: Query) -> List[Dict[str, Any]]:
    # only_archived=true lists ONLY archived customers; without it, only active ones.
    only_archived = _flag(query, "only_archived")
    # customer_ids may come repeated or comma-separated.
    wanted = {customer_id for values in query.get("customer_ids", []) for customer_id in values.split(",") if customer_id}
    return [
        customer.as_api(style)
        for customer in dataset.customers
        if customer.archived == only_archived and (not wanted or customer.id in wanted)
    ]


def _account_metrics(dataset: Dataset, style: str, query: Query) -> List[Dict[str, Any]]:
    # The newer SDK: archived metrics are left out unless include_archived=true.
    include_archived = _flag(query, "include_archived")
    return [metric.as_account_api(style) for metric in dataset.metrics.values() if include_archived or metric.archived_at is None]


def _usage(dataset: Dataset, style: str, body: Any) -> List[Dict[str, Any]]:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    customer = _known_customer(dataset, _required_string(body, "customer_id"))
    metric = _known_metric(dataset, _required_string(body, "billable_metric_id"))
    window_size = _required_string(body, "window_size")
    # The spec lists upper case, and Metronome's SDK examples send lower case: any case is accepted.
    if window_size.upper() not in WINDOW_SIZES:
        raise ApiError(400, f"window_size must be one of HOUR, DAY, NONE, got {window_size!r}")
    starting_on, ending_before = _usage_range(dataset, customer, body)
    windows = usage_windows(dataset, customer.id, metric, window_size, starting_on, ending_before, _grouping(body, metric))
    items = []
    for window in windows:
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


def _costs(dataset: Dataset, style: str, customer: Customer, query: Query) -> List[Dict[str, Any]]:
    if dataset.on_unique_plan(customer):
        raise ApiError(400, "Costs are not supported for customers whose plan includes a UNIQUE-type billable metric")
    starting_on, ending_before = _date_range(query.get("starting_on", [None])[-1], query.get("ending_before", [None])[-1])
    return [
        {
            "start_timestamp": format_timestamp(day.start_timestamp, style),
            "end_timestamp": format_timestamp(day.end_timestamp, style),
            "credit_types": day.credit_types,
        }
        for day in cost_days(dataset, customer, starting_on, ending_before)
    ]


def _known_customer(dataset: Dataset, customer_id: str) -> Customer:
    customer = dataset.customer(customer_id)
    if customer is None:
        raise ApiError(404, f"Customer {customer_id} not found")
    return customer


def _known_metric(dataset: Dataset, metric_id: str) -> BillableMetric:
    metric = dataset.metrics.get(metric_id)
    if metric is None:
        raise ApiError(404, f"Billable metric {metric_id} not found")
    return metric


def _required_string(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"{name} is required")
    return value


def _date_range(starting_on: Optional[str], ending_before: Optional[str]) -> Tuple[datetime, datetime]:
    """Metronome's rule for every dated request, whatever the window size: both ends on UTC
    midnight, and at least one day apart."""
    moments = []
    for name, text in (("starting_on", starting_on), ("ending_before", ending_before)):
        if not isinstance(text, str) or not text:
            raise ApiError(400, f"{name} is required")
        try:
            moment = parse_timestamp(text)
        except ValueError:
            raise ApiError(400, f"{name} {text!r} is not an RFC 3339 timestamp") from None
        if not is_midnight(moment):
            raise ApiError(400, f"{name} must be aligned to midnight UTC, got {text!r}")
        moments.append(moment)
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
    return _group_by(group_by, metric)


def _group_by(value: Any, metric: BillableMetric) -> Optional[Grouping]:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("key"), str):
        raise ApiError(400, "group_by must be an object with a string key")
    if value["key"] not in metric.group_keys:
        raise ApiError(400, f"group_by key {value['key']!r} is not a group key of billable metric {metric.id}")
    values = value.get("values")
    if values is None:
        return Grouping.by(value["key"])
    if not _strings(values):
        raise ApiError(400, "group_by.values must be a list of strings")
    return Grouping.by(value["key"], tuple(values))


def _compound_grouping(group_key: Any, group_filters: Any, metric: BillableMetric) -> Grouping:
    """`group_key` must be exactly one of the metric's group_keys lists (a single key, or the whole
    compound, in any order: no partial matches); `group_filters` keys must be among its keys."""
    if not _strings(group_key) or not group_key or len(set(group_key)) != len(group_key):
        raise ApiError(400, "group_key must be a non-empty list of distinct strings")
    if sorted(group_key) not in [sorted(keys) for keys in metric.group_key_lists]:
        raise ApiError(400, f"group_key {group_key!r} is not a group key of billable metric {metric.id}")
    filters = group_filters or {}
    if not isinstance(filters, dict) or not all(_strings(values) for values in filters.values()):
        raise ApiError(400, "group_filters must map group keys to lists of strings")
    stray = sorted(set(filters) - set(group_key))
    if stray:
        raise ApiError(400, f"group_filters keys {stray!r} are not in group_key")
    return Grouping.compound(tuple(group_key), {key: tuple(values) for key, values in filters.items()})


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)

