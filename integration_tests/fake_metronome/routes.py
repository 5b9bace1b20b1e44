"""The four endpoints, by Metronome's rules: request validation and the full list each query
selects. Pagination, auth and faults are the server's (server.py).

Not modelled, and ignored if sent: `ingest_alias` (customers), `on_current_plan` and
`include_archived` (billable metrics), `current_period` (usage). Usage is served for any known
metric of any known customer; a metric off the customer's plan simply has no events.
"""

import re
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from integration_tests.fake_metronome.costs import cost_days
from integration_tests.fake_metronome.dataset import BillableMetric, Customer, Dataset
from integration_tests.fake_metronome.errors import ApiError
from integration_tests.fake_metronome.timestamps import ONE_DAY, format_timestamp, is_midnight, parse_timestamp
from integration_tests.fake_metronome.usage import GroupBy, usage_windows

WINDOW_SIZES = ("HOUR", "DAY", "NONE")
CUSTOMER_RESOURCE = re.compile(r"^/v1/customers/(?P<customer_id>[^/]+)/(?P<resource>billable-metrics|costs)$")

Query = Mapping[str, Sequence[str]]


def list_items(dataset: Dataset, style: str, method: str, path: str, query: Query, body: Any) -> List[Dict[str, Any]]:
    if method == "GET" and path == "/v1/customers":
        return _customers(dataset, style, query)
    if method == "POST" and path == "/v1/usage/groups":
        return _usage(dataset, style, body)
    match = CUSTOMER_RESOURCE.match(path)
    if method == "GET" and match:
        customer = _known_customer(dataset, match["customer_id"])
        if match["resource"] == "billable-metrics":
            return [metric.as_api() for metric in dataset.metrics_of(customer)]
        return _costs(dataset, style, customer, query)
    raise ApiError(404, f"No such endpoint: {method} {path}")


def _customers(dataset: Dataset, style: str, query: Query) -> List[Dict[str, Any]]:
    # only_archived=true lists ONLY archived customers; without it, only active ones.
    only_archived = query.get("only_archived", ["false"])[-1].lower() == "true"
    # customer_ids may come repeated or comma-separated.
    wanted = {customer_id for values in query.get("customer_ids", []) for customer_id in values.split(",") if customer_id}
    return [
        customer.as_api(style)
        for customer in dataset.customers
        if customer.archived == only_archived and (not wanted or customer.id in wanted)
    ]


def _usage(dataset: Dataset, style: str, body: Any) -> List[Dict[str, Any]]:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    customer = _known_customer(dataset, _required_string(body, "customer_id"))
    metric = _known_metric(dataset, _required_string(body, "billable_metric_id"))
    window_size = _required_string(body, "window_size")
    # The spec lists upper case, and Metronome's SDK examples send lower case: any case is accepted.
    if window_size.upper() not in WINDOW_SIZES:
        raise ApiError(400, f"window_size must be one of HOUR, DAY, NONE, got {window_size!r}")
    starting_on, ending_before = _date_range(body.get("starting_on"), body.get("ending_before"))
    windows = usage_windows(dataset, customer.id, metric, window_size, starting_on, ending_before, _group_by(body.get("group_by"), metric))
    return [
        {
            "starting_on": format_timestamp(window.starting_on, style),
            "ending_before": format_timestamp(window.ending_before, style),
            "group_key": window.group_key,
            "group_value": window.group_value,
            "value": window.value,
        }
        for window in windows
    ]


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


def _group_by(value: Any, metric: BillableMetric) -> Optional[GroupBy]:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("key"), str):
        raise ApiError(400, "group_by must be an object with a string key")
    if value["key"] not in metric.group_keys:
        raise ApiError(400, f"group_by key {value['key']!r} is not a group key of billable metric {metric.id}")
    values = value.get("values")
    if values is None:
        return GroupBy(value["key"])
    if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
        raise ApiError(400, "group_by.values must be a list of strings")
    return GroupBy(value["key"], tuple(values))

