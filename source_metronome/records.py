"""Where records are shaped: from one item of a Metronome page to the stream's records.

Each function takes the item as served and the partition it was read for. Amounts are never
touched: they stay the numbers Metronome sent. Timestamps that are part of a primary key take one
canonical form, so that one window always has one key whatever form the API answered in.
"""

import hashlib
import json
from functools import lru_cache
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from airbyte_cdk.sources.types import StreamSlice

from source_metronome.streams.endpoint import Item, Record
from source_metronome.windows import canonical_timestamp


def usage(item: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """A usage window, with the partition it belongs to (Metronome's items carry neither)."""
    item["starting_on"] = canonical_timestamp(item["starting_on"])
    item["ending_before"] = canonical_timestamp(item["ending_before"])
    item["customer_id"] = stream_slice["customer_id"]
    item["billable_metric_id"] = stream_slice["billable_metric_id"]
    item["billable_metric_name"] = stream_slice.extra_fields["billable_metric_name"]
    item["window_size"] = stream_slice.extra_fields["window_size"]
    item["group_id"] = group_id(item)
    yield item


def group_id(item: Mapping[str, Any]) -> str:
    """A non-null, unambiguous stand-in for the group in the primary key: the group as compact JSON
    with sorted keys, `{}` for ungrouped usage and `{"region":null}` for events without the key.
    Items grouped the newer way carry the whole (maybe compound) group as `group`."""
    group = item.get("group")
    if isinstance(group, Mapping):
        return _compact_json(tuple(sorted(group.items())))
    if item.get("group_key") is None:
        return "{}"
    return _compact_json(((item["group_key"], item.get("group_value")),))


# Few distinct groups, many records each.
@lru_cache(maxsize=4096)
def _compact_json(pairs: Tuple[Tuple[str, Optional[str]], ...]) -> str:
    return json.dumps(dict(pairs), separators=(",", ":"), ensure_ascii=False)


def cost_day(day: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """One record per customer and day, with Metronome's map of credit types."""
    day["start_timestamp"] = canonical_timestamp(day["start_timestamp"])
    day["end_timestamp"] = canonical_timestamp(day["end_timestamp"])
    day["customer_id"] = stream_slice["customer_id"]
    yield day


def cost_line_items(day: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """One record per customer × day × credit type × line item: the costs map flattened for SQL."""
    start_timestamp = canonical_timestamp(day["start_timestamp"])
    end_timestamp = canonical_timestamp(day["end_timestamp"])
    for credit_type_id, credit_type in (day.get("credit_types") or {}).items():
        breakdown = credit_type.get("line_item_breakdown") or []
        for line_item, line_item_id in zip(breakdown, line_item_ids(breakdown, cost_line_item_id)):
            yield {
                "customer_id": stream_slice["customer_id"],
                "start_timestamp": start_timestamp,
                "end_timestamp": end_timestamp,
                "credit_type_id": credit_type_id,
                "credit_type_name": credit_type.get("name"),
                "line_item_name": line_item.get("name"),
                "group_key": line_item.get("group_key"),
                "group_value": line_item.get("group_value"),
                "cost": line_item.get("cost"),
                "line_item_id": line_item_id,
            }


def cost_line_item_id(line_item: Mapping[str, Any]) -> str:
    """A non-null, unambiguous stand-in for the line item in the primary key (group_key and
    group_value are null for line items without a group, and destinations cannot deduplicate on
    null keys): its name, group key and group value as a compact JSON array, such as
    `["API calls","region","US-East"]`. These are every field of a costs breakdown entry but its
    cost (metronome-sdk, CustomerListCostsResponse.CreditTypesLineItemBreakdown)."""
    return json.dumps([line_item.get("name"), line_item.get("group_key"), line_item.get("group_value")], separators=(",", ":"), ensure_ascii=False)


def with_customer(item: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """An item read for one customer, as served, with that customer's id (balances carry none)."""
    item["customer_id"] = stream_slice["customer_id"]
    yield item


# What tells one charge on an invoice from another: Metronome gives line items no id of their own.
# Every field of metronome-sdk's Invoice.LineItem (types/v1/customers/invoice.py) that names what is
# charged, left out only what changes while the charge stays the same: amounts (quantity, unit_price,
# total, sub_line_items), custom fields, metadata and billing-provider fields. A dotted name is a
# field of a nested object.
LINE_ITEM_IDENTITY = (
    "type",
    "credit_type.id",
    "name",
    "product_id",
    "product_type",
    "commit_id",
    "commit_type",
    # One line per segment of a commit's schedule.
    "commit_segment_id",
    # Several commits or credits applied to one product: one line each.
    "applied_commit_or_credit.id",
    "applied_commit_or_credit.type",
    # A postpaid commit's true-up.
    "postpaid_commit.id",
    "scheduled_charge_id",
    "subscription_id",
    "is_prorated",
    "professional_service_id",
    "discount_id",
    "reseller_type",
    "group_key",
    "group_value",
    "presentation_group_values",
    "pricing_group_values",
    # Tiered pricing: one line per tier reached.
    "tier.level",
    "tier.starting_at",
    # On consolidated invoices (type USAGE_CONSOLIDATED): the line item this one was copied from.
    "origin.customer_id",
    "origin.contract_id",
    "origin.invoice_id",
    "origin.line_item_id",
    "starting_at",
    "ending_before",
)
# Part of the identity, so in one form whatever form Metronome answered in.
IDENTITY_TIMESTAMPS = frozenset({"starting_at", "ending_before"})


def invoice_line_items(invoice: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """One record per line item of an invoice, as served, with the invoice it is on."""
    line_items = invoice.get("line_items") or []
    for line_item, line_item_id in zip(line_items, line_item_ids(line_items, invoice_line_item_digest)):
        yield {
            **line_item,
            "invoice_id": invoice["id"],
            "customer_id": invoice.get("customer_id") or stream_slice["customer_id"],
            "invoice_start_timestamp": invoice.get("start_timestamp"),
            "invoice_end_timestamp": invoice.get("end_timestamp"),
            "line_item_id": line_item_id,
        }


def invoice_line_item_digest(line_item: Mapping[str, Any]) -> str:
    """The identity of a charge with the shape of metronome-sdk's Invoice.LineItem (an invoice's or
    an invoice breakdown's line item): the first 16 hex digits of SHA-256 over its LINE_ITEM_IDENTITY
    fields as compact JSON (sorted keys; a missing field as null). Stable across syncs while the line
    item is the same charge, whatever its amounts become and whatever order it is served in."""
    identity = [_identifying_value(line_item, field) for field in LINE_ITEM_IDENTITY]
    return hashlib.sha256(_compact(identity).encode()).hexdigest()[:16]


def line_item_ids(line_items: Sequence[Mapping[str, Any]], identity: Callable[[Mapping[str, Any]], str]) -> List[str]:
    """Each line item's key, in served order: its identity, and for line items identical in every
    identifying field "-2", "-3", ... on the second, third, ... of them. Those are counted in the
    order of their whole content (amounts included), not in served order, so a key does not move to
    another charge when Metronome serves the line items in another order."""
    identities = [identity(line_item) for line_item in line_items]
    positions: Dict[str, List[int]] = {}
    for position, key in enumerate(identities):
        positions.setdefault(key, []).append(position)
    ids = list(identities)
    for key, same in positions.items():
        if len(same) > 1:
            for number, position in enumerate(sorted(same, key=lambda position: _compact(line_items[position])), start=1):
                ids[position] = key if number == 1 else f"{key}-{number}"
    return ids


def _identifying_value(line_item: Mapping[str, Any], field: str) -> Any:
    value: Any = line_item
    for part in field.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if field in IDENTITY_TIMESTAMPS and isinstance(value, str):
        try:
            return canonical_timestamp(value)
        except ValueError:
            # Not a timestamp after all: as served is still stable.
            return value
    return value


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)


def breakdown(item: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """One window of an invoice, as served, with the customer it was read for; the window's bounds
    (primary key and cursor) in canonical form."""
    item["breakdown_start_timestamp"] = canonical_timestamp(item["breakdown_start_timestamp"])
    item["breakdown_end_timestamp"] = canonical_timestamp(item["breakdown_end_timestamp"])
    item["customer_id"] = stream_slice["customer_id"]
    yield item


def breakdown_line_items(item: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """One record per line item of an invoice's window: the line items as invoice_line_items shapes
    them (the same line_item_id, so a window's line joins to its line on the invoice), with the window."""
    window = {
        "breakdown_start_timestamp": canonical_timestamp(item["breakdown_start_timestamp"]),
        "breakdown_end_timestamp": canonical_timestamp(item["breakdown_end_timestamp"]),
    }
    for line_item in invoice_line_items(item, stream_slice):
        yield {**line_item, **window}


def with_contract(item: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """An item read for one contract (an edit), as served, with the customer and contract it belongs to."""
    item["customer_id"] = stream_slice["customer_id"]
    item["contract_id"] = stream_slice["contract_id"]
    yield item


def customer_alert(item: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """A threshold notification's status for one customer, as served, with the customer and the
    notification's id (the item nests it as `alert.id`) as its key."""
    item["customer_id"] = stream_slice["customer_id"]
    item["alert_id"] = item["alert"]["id"]
    yield item


# What tells two entries of one rate schedule apart: Metronome gives them no id. An entry is one
# rate of one product for one set of pricing group values, one billing frequency (subscription
# rates) and one time segment (metronome-sdk: rate_card_retrieve_rate_schedule_response.Data).
RATE_IDENTITY = ("product_id", "pricing_group_values", "billing_frequency", "starting_at", "ending_before")


def rate_schedule_entry(item: Item, stream_slice: StreamSlice) -> Iterable[Record]:
    """An entry of a rate card's schedule, as served, with its rate card and its rate_id."""
    item["rate_card_id"] = stream_slice["rate_card_id"]
    item["rate_id"] = rate_id(item)
    yield item


def rate_id(entry: Mapping[str, Any]) -> str:
    """The first 16 hex digits of SHA-256 over the entry's RATE_IDENTITY as compact JSON (sorted
    keys; timestamps in canonical form; a missing field, or no pricing group values, as null): the
    same while the entry is the same rate of the same segment, whatever its price becomes."""
    identity = {field: entry.get(field) or None for field in RATE_IDENTITY}
    for field in ("starting_at", "ending_before"):
        if identity[field]:
            identity[field] = canonical_timestamp(identity[field])
    text = json.dumps([identity[field] for field in RATE_IDENTITY], separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
