"""What a correct sync must emit for `invoice_breakdowns` and `invoice_breakdown_line_items`,
computed from the dataset (breakdowns.py cuts the invoices into windows; the API is not asked).

Written from the streams' specification, independently of the connector's code:
- partitions: one per customer the sync reads (customers_read.py: every customer, archived ones
  included, in a full refresh), whatever its plan;
- each reads [start, end): start is floor(start_date), or in an incremental sync the later of it
  and the partition's saved cursor (at most the start of today) less lookback_days; end is
  min(ceil(end_date), ceil(now)); a range under a day is not read. The partition's cursor becomes
  min(end, floor(now)); saved cursors of partitions not read are kept. Each stream resumes from its
  own state, with `breakdown_end_timestamp` as its cursor field;
- `invoice_breakdowns` (id, breakdown_start_timestamp): every window (DAY, or HOUR with
  breakdown_window_size HOUR) of every invoice of every status inside the range, as served, with
  customer_id;
- `invoice_breakdown_line_items` (invoice_id, breakdown_start_timestamp, line_item_id): each
  window's line_items as served, plus invoice_id, customer_id (the invoice's), the invoice's
  start_timestamp/end_timestamp as invoice_start_timestamp/invoice_end_timestamp, the window's
  breakdown_start_timestamp/breakdown_end_timestamp and line_item_id: invoice_line_items' identity,
  numbered within the window (ground_truth_billing.invoice_line_item_ids).

Records keep the served nulls (compare after ground_truth.without_nulls, as for the other streams).
"""

from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Tuple

from integration_tests.fake_metronome.breakdowns import breakdown_items
from integration_tests.fake_metronome.customers_read import customers_read, range_read
from integration_tests.fake_metronome.dataset import Dataset
from integration_tests.fake_metronome.ground_truth_billing import line_item_rows
from integration_tests.fake_metronome.timestamps import floor_to_midnight, format_timestamp, parse_timestamp

INVOICE_BREAKDOWNS = "invoice_breakdowns"
INVOICE_BREAKDOWN_LINE_ITEMS = "invoice_breakdown_line_items"
BREAKDOWN_STREAMS = (INVOICE_BREAKDOWNS, INVOICE_BREAKDOWN_LINE_ITEMS)
BREAKDOWN_PRIMARY_KEYS = {
    INVOICE_BREAKDOWNS: ("id", "breakdown_start_timestamp"),
    INVOICE_BREAKDOWN_LINE_ITEMS: ("invoice_id", "breakdown_start_timestamp", "line_item_id"),
}
BREAKDOWN_CURSOR_FIELD = "breakdown_end_timestamp"


def breakdown_ranges(
    dataset: Dataset, config: Mapping[str, Any], now: Optional[datetime] = None, saved: Optional[Mapping[str, Any]] = None, full_refresh: bool = False
) -> Dict[str, Tuple[datetime, datetime]]:
    """Each customer read (by id) with the range [start, end) a correct sync reads for it, from the
    stream's saved state `saved` (none for a full refresh, which reads every customer)."""
    cursors = {} if full_refresh else saved_cursors(saved)
    ranges = {}
    for customer in customers_read(dataset, config, every_customer=full_refresh):
        read = range_read(config, now or dataset.now, cursors.get(customer.id))
        if read:
            ranges[customer.id] = read
    return ranges


def saved_cursors(saved: Optional[Mapping[str, Any]]) -> Dict[str, datetime]:
    """{"states": [{"partition": {"customer_id": …}, "cursor": {"breakdown_end_timestamp": …}}]} by customer id."""
    return {
        entry["partition"]["customer_id"]: parse_timestamp(entry["cursor"][BREAKDOWN_CURSOR_FIELD])
        for entry in (saved or {}).get("states", [])
    }


def expected_breakdowns(
    dataset: Dataset, config: Mapping[str, Any], now: Optional[datetime] = None, saved: Optional[Mapping[str, Any]] = None, full_refresh: bool = False
) -> List[Dict[str, Any]]:
    window_size = config.get("breakdown_window_size", "DAY")
    records = []
    for customer_id, (start, end) in breakdown_ranges(dataset, config, now, saved, full_refresh).items():
        for item in breakdown_items(dataset, dataset.customer(customer_id), window_size=window_size):
            if start <= parse_timestamp(item["breakdown_start_timestamp"]) and parse_timestamp(item["breakdown_end_timestamp"]) <= end:
                records.append({**item, "customer_id": customer_id})
    return records


def expected_breakdown_line_items(
    dataset: Dataset, config: Mapping[str, Any], now: Optional[datetime] = None, saved: Optional[Mapping[str, Any]] = None, full_refresh: bool = False
) -> List[Dict[str, Any]]:
    windows = expected_breakdowns(dataset, config, now, saved, full_refresh)
    return line_item_rows(windows, "breakdown_start_timestamp", "breakdown_end_timestamp")


def expected_breakdown_cursors(
    dataset: Dataset, config: Mapping[str, Any], now: Optional[datetime] = None, saved: Optional[Mapping[str, Any]] = None
) -> Dict[Tuple[str, ...], str]:
    """Each partition's cursor after a correct sync, as record_checks.assert_cursors_match compares them."""
    today = floor_to_midnight(now or dataset.now)
    cursors = {customer_id: min(cursor, today) for customer_id, cursor in saved_cursors(saved).items()}
    for customer_id, (_, end) in breakdown_ranges(dataset, config, now, saved).items():
        cursors[customer_id] = min(end, today)
    return {(customer_id,): format_timestamp(cursor) for customer_id, cursor in cursors.items()}
