"""GET /v1/customers/{customer_id}/invoices/breakdowns: each invoice cut into daily (or hourly) windows.

Shape: metronome-sdk 4.12 `InvoiceListBreakdownsResponse`, an `Invoice` with
`breakdown_start_timestamp` and `breakdown_end_timestamp`. Metronome's docs describe the endpoint as
"standard invoices" turned into "detailed timelines", with "line items with quantities and costs for
that specific period": read here as a window holding the invoice's line items with the window's share
of each, so that, line item by line item, the windows of an invoice add up to the invoice exactly
(quantities and totals; the window's total and subtotal are its line items' sums).

How the fake cuts an invoice (finance.invoices_of):
- Windows: every day (hour) of the invoice's billing period that has begun by the dataset's "now".
- Usage line items: the quantity the invoice had before late data, spread evenly over the days the
  invoice had begun at the dataset's first "now" (each of the first days one more, for a remainder),
  and within a day over its hours alike; what late data added since (the difference from the
  invoice at revision 0) lands on the day its events are dated, `late_days` before the latest
  revision arrived. Backdated usage therefore changes a past window, as Metronome's docs say.
- Every other line item (scheduled charges, subscriptions, applied commits) whole in the period's
  first window, 0 in the others.
- A line item keeps its invoice's `starting_at`/`ending_before`, so it keeps its identity.
- Invoice-level fields are the invoice's now: a draft finalized or voided later is so in every window.
Amounts are quarters, exact in binary floating point, so the sums above are exact.

Request rules: `starting_on` and `ending_before` are required, aligned to the window (midnight for
DAY, the hour for HOUR), and at most 35 days (DAY) or 24 hours (HOUR) apart, as the SDK documents;
anything else is 400. Windows served start at or after `starting_on` and end at or before
`ending_before`. `window_size` (DAY by default; any case), `status`, `credit_type_id`,
`skip_zero_qty_line_items` (drops line items whose quantity is 0) and `sort` (date_asc, the
default, or date_desc, on the invoice's issued_at, ties by id; windows oldest first within an
invoice) filter and order; `limit` (1..100) and `next_page` page as for the other lists.
"""

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from integration_tests.fake_metronome.dataset import Customer, Dataset, DatasetOptions
from integration_tests.fake_metronome.finance import Invoice, invoices_of, sorted_invoices
from integration_tests.fake_metronome.request import ApiError, Request, known_customer, moment
from integration_tests.fake_metronome.timestamps import ONE_DAY, OFFSET_STYLE, WINDOW_STEPS, ceil_to_midnight, floor_to_midnight, format_timestamp, parse_timestamp, steps

# metronome-sdk, invoices.list_breakdowns: a response covers at most 35 days (DAY) or 24 hours (HOUR).
LONGEST_RANGE = {"DAY": timedelta(days=35), "HOUR": timedelta(hours=24)}
APPLIED = "applied_commit_or_credit"


def breakdowns_of(dataset: Dataset, customer: Customer, window_size: str = "DAY", sort: str = "date_asc") -> List[Tuple[Invoice, datetime, List[Dict[str, Any]]]]:
    """Every window of every invoice of the customer: (invoice, window start, the window's line items
    with datetimes unformatted); invoices by issued_at then id (`sort`), windows oldest first."""
    # The invoices before any late data: what the days were first charged.
    before_late_data = {invoice.id: invoice for invoice in invoices_of(_without_late_data(dataset.options), customer)}
    late_day = _late_day(dataset)
    windows = []
    for invoice in sorted_invoices(dataset, customer, sort):
        # Late data may add a charge (a metric's second tier): lines are matched by charge, not position.
        base_lines = {_charge(line): line for line in before_late_data[invoice.id].line_items}
        # Usage was spread over the days the invoice had begun at the dataset's first "now".
        used_days = list(steps(invoice.start_timestamp, invoice.end_timestamp, ONE_DAY, ceil_to_midnight(dataset.options.now)))
        late = min(max(late_day, invoice.start_timestamp), invoice.end_timestamp - ONE_DAY) if late_day else None
        for start in steps(invoice.start_timestamp, invoice.end_timestamp, WINDOW_STEPS[window_size], dataset.now):
            first = start == invoice.start_timestamp
            lines = [_window_line(line, base_lines.get(_charge(line), NOT_CHARGED), start, window_size, used_days, late, first) for line in invoice.line_items]
            windows.append((invoice, start, lines))
    return windows


# A charge the invoice did not carry before the late data: none of its quantity was used before.
NOT_CHARGED = {"quantity": 0}


def _charge(line: Dict[str, Any]) -> Tuple[Any, ...]:
    """What tells a line apart from the invoice's other lines, amounts aside."""
    return (line["type"], line["name"], line.get("product_id"), line.get("group_key"), line.get("group_value"), (line.get("tier") or {}).get("level"))


def breakdown_items(dataset: Dataset, customer: Customer, style: str = OFFSET_STYLE, window_size: str = "DAY", sort: str = "date_asc") -> List[Dict[str, Any]]:
    """The whole list without filters, as served (before pagination)."""
    return [_as_api(invoice, start, lines, WINDOW_STEPS[window_size], style) for invoice, start, lines in breakdowns_of(dataset, customer, window_size, sort)]


@lru_cache(maxsize=4)
def _without_late_data(options: DatasetOptions) -> Dataset:
    """The account before any revision, built once per options rather than once per request."""
    return Dataset(options)


def _late_day(dataset: Dataset) -> Optional[datetime]:
    """The day the latest revision's late usage is dated (events.py: from `late_days` before it arrived)."""
    if not dataset.revisions:
        return None
    return floor_to_midnight(dataset.revisions[-1].arrived_at) - dataset.options.late_days * ONE_DAY


def _window_line(line: Dict[str, Any], base_line: Dict[str, Any], start: datetime, window_size: str, used_days: List[datetime], late: Optional[datetime], first: bool) -> Dict[str, Any]:
    window_line = dict(line)
    if line["type"] != "usage":
        share = 1 if first else 0
        window_line["total"] = line["total"] * share
        if line.get("quantity") is not None:
            window_line["quantity"] = line["quantity"] * share
        return window_line
    day = floor_to_midnight(start)
    base_quantity = int(base_line["quantity"])
    quantity = _share(base_quantity, used_days.index(day), len(used_days)) if day in used_days else 0
    if late == day:
        quantity += int(line["quantity"]) - base_quantity
    if window_size == "HOUR":
        quantity = _share(quantity, start.hour, 24)
    window_line["quantity"] = float(quantity)
    window_line["total"] = quantity * line["unit_price"]
    return window_line


def _share(whole: int, index: int, parts: int) -> int:
    """Part `index` of `whole` split into `parts` as evenly as whole numbers allow, the first ones larger."""
    return whole // parts + (1 if index < whole % parts else 0)


def _as_api(invoice: Invoice, start: datetime, lines: List[Dict[str, Any]], window: timedelta, style: str) -> Dict[str, Any]:
    item = invoice.as_api(style)
    item["line_items"] = [{name: format_timestamp(value, style) if isinstance(value, datetime) else value for name, value in line.items()} for line in lines]
    item["total"] = sum(line["total"] for line in lines)
    item["subtotal"] = sum(line["total"] for line in lines if line["type"] != APPLIED)
    item["breakdown_start_timestamp"] = format_timestamp(start, style)
    item["breakdown_end_timestamp"] = format_timestamp(start + window, style)
    return item


# Serving


def _window_size(request: Request) -> str:
    value = request.param("window_size") or "DAY"
    # Metronome's docs accept hour, day, HOUR, DAY, Hour and Day.
    if value.upper() not in WINDOW_STEPS:
        raise ApiError(400, f"window_size must be DAY or HOUR, got {value!r}")
    return value.upper()


def _aligned_range(request: Request, window_size: str) -> Tuple[datetime, datetime]:
    moments = []
    for name in ("starting_on", "ending_before"):
        text = request.param(name)
        moments.append(moment(name, text, required=True))
        if (moments[-1] - floor_to_midnight(moments[-1])) % WINDOW_STEPS[window_size]:
            raise ApiError(400, f"{name} must be aligned to a {window_size.lower()} boundary (UTC), got {text!r}")
    starting_on, ending_before = moments
    if ending_before <= starting_on:
        raise ApiError(400, "ending_before must be after starting_on")
    if ending_before - starting_on > LONGEST_RANGE[window_size]:
        longest = "35 days" if window_size == "DAY" else "24 hours"
        raise ApiError(400, f"A {window_size} breakdown covers at most {longest}: starting_on and ending_before are too far apart")
    return starting_on, ending_before


def serve_breakdowns(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    customer = known_customer(dataset, request.path_params["customer_id"])
    window_size = _window_size(request)
    starting_on, ending_before = _aligned_range(request, window_size)
    sort = request.sort()
    status, credit_type_id = request.param("status"), request.param("credit_type_id")
    skip_zero = request.flag("skip_zero_qty_line_items")
    items = []
    for item in breakdown_items(dataset, customer, style, window_size, sort):
        start, end = parse_timestamp(item["breakdown_start_timestamp"]), parse_timestamp(item["breakdown_end_timestamp"])
        if start < starting_on or end > ending_before:
            continue
        if (status and item["status"] != status.upper()) or (credit_type_id and item["credit_type"]["id"] != credit_type_id):
            continue
        if skip_zero:
            item["line_items"] = [line for line in item["line_items"] if line.get("quantity") != 0]
        items.append(item)
    return items
