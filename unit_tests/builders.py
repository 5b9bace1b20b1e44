"""Request and response builders for Metronome, and the helpers that read the connector in-process
and pick its output apart, so each test states only what it is about."""

import json
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from airbyte_cdk.models import AirbyteStream, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read
from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse

BASE = "https://api.metronome.com/v1"
TOKEN = "tok_unit_5ecret_do_not_print"
CUSTOMER = "04ca7e72-4229-4a6e-ab11-9f7376fccbcb"
OTHER_CUSTOMER = "d7abd0cd-4ae9-4db7-8676-e986a4ebd8dc"
METRIC = "222796fd-d29c-429e-89b2-549fabda4ed6"
OTHER_METRIC = "13117714-3f05-48e5-a6e9-a66093f13b4d"
# "Now" for every unit test: mid-day, so today is a partial, still-open window.
NOW = "2024-03-15T13:30:00+00:00"


def config(**overrides: Any) -> Dict[str, Any]:
    # Far above Metronome's pace, so tests do not wait between requests; test_pacing covers pacing.
    return {"api_token": TOKEN, "start_date": "2024-03-01", "requests_per_second": 1000, **overrides}


def catalog(*streams: str, sync_mode: SyncMode = SyncMode.incremental):
    return catalog_of(**{stream: sync_mode for stream in streams})


def catalog_of(**sync_modes: SyncMode):
    """A configured catalog reading each named stream in its own sync mode."""
    builder = CatalogBuilder()
    for stream, sync_mode in sync_modes.items():
        builder.with_stream(stream, sync_mode)
    return builder.build()


def page(items: List[Mapping[str, Any]], next_page: Optional[str] = None, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps({"data": items, "next_page": next_page}), status)


def error(status: int, message: str, headers: Optional[Mapping[str, str]] = None) -> HttpResponse:
    return HttpResponse(json.dumps({"message": message}), status, headers or {})


def customers_request(limit: int = 100, next_page: Optional[str] = None, only_archived: bool = False, customer_ids: Optional[List[str]] = None) -> HttpRequest:
    params: Dict[str, Any] = {"limit": str(limit)}
    if only_archived:
        params["only_archived"] = "true"
    if customer_ids:
        params["customer_ids"] = customer_ids
    if next_page:
        params["next_page"] = next_page
    return HttpRequest(f"{BASE}/customers", query_params=params, headers={"Authorization": f"Bearer {TOKEN}"})


def mock_every_customer(http_mocker: Any, active: List[Mapping[str, Any]], archived: Sequence[Mapping[str, Any]] = ()) -> None:
    """Both of Metronome's customer lists, as a full refresh of a per-customer stream reads them:
    the active customers, and the archived ones (only_archived=true)."""
    http_mocker.get(customers_request(), page(active))
    http_mocker.get(customers_request(only_archived=True), page(list(archived)))


def list_request(path: str, body: Optional[Mapping[str, Any]] = None, limit: int = 100, next_page: Optional[str] = None, **params: str) -> HttpRequest:
    """A request to a list paged in the query (`limit`, `next_page`), with the list's own parameters
    and its JSON body, if it has one."""
    query = {**params, "limit": str(limit), **({"next_page": next_page} if next_page else {})}
    return HttpRequest(f"{BASE}{path.removeprefix('/v1')}", query_params=query, body=body)


def customer(customer_id: str = CUSTOMER, name: str = "Example, Inc.") -> Dict[str, Any]:
    return {"id": customer_id, "name": name, "external_id": name, "ingest_aliases": [], "custom_fields": {}}


ARCHIVED_AT = "2024-03-10T00:00:00+00:00"


def archived_customer(customer_id: str, name: str = "Churned, Inc.") -> Dict[str, Any]:
    return {**customer(customer_id, name), "archived_at": ARCHIVED_AT}


def metrics_request(customer_id: str = CUSTOMER, next_page: Optional[str] = None, limit: int = 100) -> HttpRequest:
    # Archived metrics are listed too: their usage history is read like any other metric's.
    params = {"limit": str(limit), "include_archived": "true", **({"next_page": next_page} if next_page else {})}
    return HttpRequest(f"{BASE}/customers/{customer_id}/billable-metrics", query_params=params)


def metric(metric_id: str = METRIC, name: str = "CPU hours", group_by: Optional[List[str]] = None, group_keys: Optional[List[List[str]]] = None) -> Dict[str, Any]:
    item: Dict[str, Any] = {"id": metric_id, "name": name, "aggregation_type": "SUM"}
    if group_by is not None:
        item["group_by"] = group_by
    if group_keys is not None:
        item["group_keys"] = group_keys
    return item


def usage_request(
    customer_id: str = CUSTOMER,
    metric_id: str = METRIC,
    starting_on: str = "2024-03-01T00:00:00+00:00",
    ending_before: str = "2024-03-16T00:00:00+00:00",
    window_size: str = "DAY",
    group_by: Optional[Mapping[str, Any]] = None,
    limit: int = 100,
    next_page: Optional[str] = None,
    current_period: bool = False,
    **newer_grouping: Any,
) -> HttpRequest:
    body: Dict[str, Any] = {"customer_id": customer_id, "billable_metric_id": metric_id, "window_size": window_size, **newer_grouping}
    if current_period:
        body["current_period"] = True
    else:
        body.update(starting_on=starting_on, ending_before=ending_before)
    if group_by is not None:
        body["group_by"] = group_by
    params = {"limit": str(limit), **({"next_page": next_page} if next_page else {})}
    return HttpRequest(f"{BASE}/usage/groups", query_params=params, body=body)


def usage_item(day: int, value: Optional[float] = 1.0, group_key: Optional[str] = None, group_value: Optional[str] = None, form: str = "{:02d}T00:00:00+00:00") -> Dict[str, Any]:
    return {
        "starting_on": "2024-03-" + form.format(day),
        "ending_before": "2024-03-" + form.format(day + 1),
        "group_key": group_key,
        "group_value": group_value,
        "value": value,
    }


def costs_request(
    customer_id: str = CUSTOMER,
    starting_on: str = "2024-03-01T00:00:00+00:00",
    ending_before: str = "2024-03-16T00:00:00+00:00",
    next_page: Optional[str] = None,
    limit: int = 100,
) -> HttpRequest:
    params = {"limit": str(limit), "starting_on": starting_on, "ending_before": ending_before}
    if next_page:
        params["next_page"] = next_page
    return HttpRequest(f"{BASE}/customers/{customer_id}/costs", query_params=params)


def cost_item(day: int, cost: float = 123.45) -> Dict[str, Any]:
    return {
        "start_timestamp": f"2024-03-{day:02d}T00:00:00+00:00",
        "end_timestamp": f"2024-03-{day + 1:02d}T00:00:00+00:00",
        "credit_types": {
            "2714e483-4ff1-48e4-9e25-ac732e8f24f2": {
                "name": "USD (cents)",
                "cost": cost,
                "line_item_breakdown": [{"name": "CPU hours", "cost": cost}],
            }
        },
    }


def invoices_request(customer_id: str = CUSTOMER, next_page: Optional[str] = None) -> HttpRequest:
    """GET /v1/customers/{customer_id}/invoices as invoices and invoice_line_items ask it: every
    status, sort=date_asc (the connector pins the order Metronome documents both ways)."""
    params = {"sort": "date_asc", "limit": "100", **({"next_page": next_page} if next_page else {})}
    return HttpRequest(f"{BASE}/customers/{customer_id}/invoices", query_params=params)


def invoice_line_item(name: str, total: float) -> Dict[str, Any]:
    return {"type": "usage", "name": name, "credit_type": {"id": "usd", "name": "USD (cents)"}, "total": total, "quantity": 3}


def invoice(invoice_id: str, status: str = "FINALIZED", *line_items: Mapping[str, Any]) -> Dict[str, Any]:
    return {
        "id": invoice_id,
        "status": status,
        "start_timestamp": "2024-02-01T00:00:00+00:00",
        "end_timestamp": "2024-03-01T00:00:00+00:00",
        "total": sum(item["total"] for item in line_items),
        "line_items": list(line_items),
    }


BREAKDOWN_INVOICE = "6a37bb88-8538-48c5-b37b-a41c836328bd"
USD = {"id": "2714e483-4ff1-48e4-9e25-ac732e8f24f2", "name": "USD (cents)"}
MARCH_16 = "2024-03-16T00:00:00+00:00"


def breakdowns_request(
    starting_on: str, ending_before: str = MARCH_16, customer_id: str = CUSTOMER, window_size: str = "DAY", limit: int = 100, next_page: Optional[str] = None
) -> HttpRequest:
    params = {"starting_on": starting_on, "ending_before": ending_before, "window_size": window_size, "sort": "date_asc", "limit": str(limit)}
    if next_page:
        params["next_page"] = next_page
    return HttpRequest(f"{BASE}/customers/{customer_id}/invoices/breakdowns", query_params=params)


def breakdown_line_item(name: str, total: float, quantity: Optional[float] = None, **fields: Any) -> Dict[str, Any]:
    item = {"credit_type": USD, "name": name, "type": "usage", "total": total, "product_id": "5c1f40cd-9ff8-4e90-ae53-5f81b0e9d1e8", **fields}
    if quantity is not None:
        item["quantity"] = quantity
    return item


def breakdown(day: int, month: int = 3, line_items: Optional[List[Dict[str, Any]]] = None, form: str = "+00:00") -> Dict[str, Any]:
    """One daily window of the invoice BREAKDOWN_INVOICE, its timestamps in `form`."""
    lines = line_items if line_items is not None else [breakdown_line_item("CPU hours", 250.0, 10.0)]
    return {
        "id": BREAKDOWN_INVOICE,
        "customer_id": CUSTOMER,
        "type": "USAGE",
        "status": "DRAFT",
        "credit_type": USD,
        "start_timestamp": "2024-03-01T00:00:00+00:00",
        "end_timestamp": "2024-04-01T00:00:00+00:00",
        "breakdown_start_timestamp": f"2024-{month:02d}-{day:02d}T00:00:00{form}",
        "breakdown_end_timestamp": f"2024-{month:02d}-{day + 1:02d}T00:00:00{form}",
        "line_items": lines,
        "total": sum(line["total"] for line in lines),
    }


def contracts_request(customer_id: str = CUSTOMER, cursor: Optional[str] = None) -> HttpRequest:
    """POST /v2/contracts/list: archived contracts too, 20 a page (Metronome's limit), the cursor in the body."""
    body = {"include_archived": True, "customer_id": customer_id, "limit": 20, **({"cursor": cursor} if cursor else {})}
    return HttpRequest(f"{BASE.removesuffix('/v1')}/v2/contracts/list", body=body)


def contracts_page(customer_id: str, ids: Sequence[str], cursor: Optional[str] = None) -> HttpResponse:
    return HttpResponse(json.dumps({"data": [{"id": contract_id, "customer_id": customer_id} for contract_id in ids], "cursor": cursor}))


# The rate schedule is read from start_date (config's 2024-03-01).
RATES_START = "2024-03-01T00:00:00+00:00"


def rate_schedule_entry(product_id: str, price: float = 1.5, starting_at: str = RATES_START, **fields: Any) -> Dict[str, Any]:
    """An entry of a rate card's schedule: it has no id of its own (records.rate_id makes one)."""
    return {"product_id": product_id, "product_name": product_id, "entitled": True, "starting_at": starting_at, "rate": {"rate_type": "FLAT", "price": price}, **fields}


def state_of(stream: str, entries: List[Dict[str, Any]]):
    from airbyte_cdk.test.state_builder import StateBuilder

    return StateBuilder().with_stream_state(stream, {"states": entries}).build()


# Reading in-process and picking the output apart


def schema(stream: str) -> Dict[str, Any]:
    return json.loads((Path(__file__).parents[1] / "source_metronome" / "schemas" / f"{stream}.json").read_text())


def read_stream(stream: str, cfg: Mapping[str, Any], state=None, sync_mode: SyncMode = SyncMode.incremental, **kwargs: Any) -> EntrypointOutput:
    """`read` of one stream, with SourceMetronome, in-process."""
    return read_catalog(catalog(stream, sync_mode=sync_mode), cfg, state, **kwargs)


def read_catalog(configured_catalog, cfg: Mapping[str, Any], state=None, **kwargs: Any) -> EntrypointOutput:
    from source_metronome import SourceMetronome

    return read(SourceMetronome(), cfg, configured_catalog, state, **kwargs)


def discovered(cfg: Mapping[str, Any]) -> Dict[str, AirbyteStream]:
    """The streams `discover` declares, by name."""
    from source_metronome import SourceMetronome

    return {stream.name: stream for stream in discover(SourceMetronome(), cfg).catalog.catalog.streams}


def records(output: EntrypointOutput, stream: Optional[str] = None) -> List[Dict[str, Any]]:
    """The records' data, of one stream when named."""
    return [message.record.data for message in output.records if stream is None or message.record.stream == stream]


def last_state(output: EntrypointOutput) -> Dict[str, Any]:
    """The stream state of the last STATE message."""
    return output.most_recent_state.stream_state.__dict__


def warnings(output: EntrypointOutput) -> List[str]:
    """The WARN log lines, in order."""
    return [message.log.message for message in output.logs if message.log.level.value == "WARN"]


def assert_skipped_as_a_feature_off(output: EntrypointOutput, stream: str) -> None:
    """The stream was skipped whole, with one warning naming it, and the sync did not fail."""
    assert output.records == [] and not output.errors
    assert [warning.split(":")[0] for warning in warnings(output)] == [f"Skipping the {stream} stream"]
