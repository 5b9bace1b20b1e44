"""Which customers a sync reads, and over which range, shared by every part of the ground truth.

Customers: the configured ids, else
every customer for a stream synced as a full refresh, which overwrites its table (customers,
billable_metrics, invoices, invoice_line_items, contracts, balances, ..., and usage, costs and
invoice breakdowns when the catalog picks full refresh for them, or usage with window_size NONE or
current_period), and for an incremental sync (usage, costs, invoice breakdowns) every active
customer, and archived ones with include_archived_customers.

Range, of a partition of an incremental stream: [start, end), start floor(start_date), or the later
of it and the partition's saved cursor (at most the start of today) less lookback_days; end
min(ceil(end_date), ceil(now)); a range under a day is not read."""

from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from integration_tests.fake_metronome.dataset import Customer, Dataset
from integration_tests.fake_metronome.timestamps import ONE_DAY, ceil_to_midnight, floor_to_midnight, parse_timestamp

DEFAULT_LOOKBACK_DAYS = 7


def customer_ids_read(dataset: Dataset, config: Mapping[str, Any], every_customer: bool = False) -> List[str]:
    """Active customers as listed, then archived ones (the connector reads them in creation order;
    the ground truth's records are compared whatever their order). `every_customer`: the stream is
    synced as a full refresh."""
    if config.get("customer_ids"):
        return list(dict.fromkeys(config["customer_ids"]))
    # Metronome lists active customers by default and archived ones only with only_archived=true.
    active = [customer.id for customer in dataset.customers if not customer.archived]
    archived = [customer.id for customer in dataset.customers if customer.archived]
    return active + (archived if every_customer or config.get("include_archived_customers") else [])


def customers_read(dataset: Dataset, config: Mapping[str, Any], every_customer: bool = False) -> List[Customer]:
    """The customers read that Metronome knows (configured ids it does not know are left out)."""
    return [customer for customer in map(dataset.customer, customer_ids_read(dataset, config, every_customer)) if customer is not None]


def per_customer_read(dataset: Dataset, config: Mapping[str, Any], items_of: Callable[[Customer], Iterable[Mapping[str, Any]]]) -> List[Dict[str, Any]]:
    """Each item of every customer a full refresh reads, as served, with its customer_id."""
    return [{**item, "customer_id": customer.id} for customer in customers_read(dataset, config, every_customer=True) for item in items_of(customer)]


def range_read(config: Mapping[str, Any], now: datetime, cursor: Optional[datetime]) -> Optional[Tuple[datetime, datetime]]:
    """The range a partition with this saved cursor (None: none saved) reads, None when under a day."""
    start = floor_to_midnight(parse_timestamp(config["start_date"]))
    end = ceil_to_midnight(now)
    if config.get("end_date"):
        end = min(end, ceil_to_midnight(parse_timestamp(config["end_date"])))
    if cursor is not None:
        # A saved cursor in the future is taken as the start of today.
        start = max(start, min(cursor, floor_to_midnight(now)) - timedelta(days=config.get("lookback_days", DEFAULT_LOOKBACK_DAYS)))
    return (start, end) if end - start >= ONE_DAY else None
