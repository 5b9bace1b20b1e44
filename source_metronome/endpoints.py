"""Every stream the connector emits, declared as data: its endpoint, family, pagination, keys and
record shape. Adding an endpoint of a known family is one entry here and a JSON schema in schemas/.

Families (source_metronome/streams/): AccountStream (an account-wide list), CustomerStream (one
partition per customer, with a date range when it has a cursor), UsageStream (customer × billable
metric), and the streams emitted from the directory's lists.
"""

from dataclasses import replace
from typing import Tuple

from source_metronome import records
from source_metronome.directory import CUSTOMER_LISTING, CUSTOMER_METRIC_LISTING
from source_metronome.streams.endpoint import Endpoint
from source_metronome.streams.from_directory import BillableMetricsFromDirectory, CustomersFromDirectory
from source_metronome.streams.partitioned import CustomerStream
from source_metronome.streams.usage import UsageStream

COSTS_PATH = "/v1/customers/{customer_id}/costs"

STREAMS: Tuple[Endpoint, ...] = (
    Endpoint(
        name="usage_with_groups",
        path="/v1/usage/groups",
        method="POST",
        family=UsageStream,
        # group_key/group_value are null for ungrouped usage, and destinations cannot deduplicate on
        # null keys: group_id stands in for them (records.group_id).
        primary_key=["customer_id", "billable_metric_id", "window_size", "group_id", "starting_on"],
        cursor="ending_before",
        records=records.usage,
        docs="https://docs.metronome.com/api-reference/usage/get-usage-with-paginated-groups",
    ),
    # Two views of the same daily pending costs: with both in a sync, each page is requested once.
    Endpoint(
        name="customer_costs",
        path=COSTS_PATH,
        family=CustomerStream,
        primary_key=["customer_id", "start_timestamp"],
        cursor="end_timestamp",
        records=records.cost_day,
        docs="https://docs.metronome.com/api-reference/customers/get-costs",
    ),
    Endpoint(
        name="customer_cost_line_items",
        path=COSTS_PATH,
        family=CustomerStream,
        # line_item_id stands in for the line item, whose group fields may be null.
        primary_key=["customer_id", "start_timestamp", "credit_type_id", "line_item_id"],
        cursor="end_timestamp",
        records=records.cost_line_items,
        docs="https://docs.metronome.com/api-reference/customers/get-costs",
    ),
    # The lists the sync reads to find its partitions, emitted as they were listed.
    replace(CUSTOMER_LISTING, family=CustomersFromDirectory),
    replace(CUSTOMER_METRIC_LISTING, family=BillableMetricsFromDirectory),
)
