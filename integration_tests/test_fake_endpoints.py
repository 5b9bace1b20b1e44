"""Every row of the fake's routing table (fake_metronome/endpoints.py), checked alike: its items parse
with the SDK's model, its pages add up, its `limit` is bounded, it can be switched off, it is logged.
A new row is checked as soon as it has an example request below."""

import importlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import pytest
import requests
from pydantic import BaseModel, TypeAdapter

from integration_tests.fake_metronome import Dataset, DatasetOptions, FakeMetronome
from integration_tests.fake_metronome.catalog import rate_card_items
from integration_tests.fake_metronome.endpoints import ENDPOINTS, Endpoint
from integration_tests.fake_metronome.finance import contracts_of
from integration_tests.fake_metronome.pagination import BODY

BY_NAME = {endpoint.family: endpoint for endpoint in ENDPOINTS}
OPTIONS = DatasetOptions(customers=3, metrics_per_customer=2, days_of_history=4, archived_share=0.34)
# The body a client sends by default, asking for everything an endpoint can list.
BODIES: Dict[str, Dict[str, Any]] = {
    "contracts": {"include_archived": True, "include_balance": True, "include_ledgers": True},
    "balances": {"include_archived": True, "include_balance": True, "include_ledgers": True, "include_contract_balances": True},
    "products": {"archive_filter": "ALL"},
    "packages": {"archive_filter": "ALL"},
    "customer_alerts": {"alert_statuses": ["ENABLED", "DISABLED", "ARCHIVED"]},
    "billing_provider_configurations": {"include_archived": True},
}
DAYS = {"starting_on": "2024-03-12T00:00:00+00:00", "ending_before": "2024-03-15T00:00:00+00:00"}


@dataclass(frozen=True)
class Call:
    customer_id: Optional[str] = None
    body: Optional[Dict[str, Any]] = None
    params: Dict[str, Any] = field(default_factory=dict)


def _each_customer(dataset: Dataset, **params: Any) -> List[Call]:
    return [Call(customer.id, params=params) for customer in dataset.customers]


def _usage(dataset: Dataset) -> List[Call]:
    # The older group_by and no grouping: the newer group_key answers null group values for events
    # without the key, which the SDK types as strings (README).
    calls = []
    for customer in dataset.customers:
        for metric in dataset.metrics_of(customer):
            for window_size in ("DAY", "HOUR", "NONE"):
                groupings = [{}] + ([{"group_by": {"key": metric.group_keys[0]}}] if metric.group_keys else [])
                calls += [Call(body={"customer_id": customer.id, "billable_metric_id": metric.id, "window_size": window_size, **DAYS, **grouping}) for grouping in groupings]
    return calls


# Requests that together serve every item of the dataset, by family.
EXAMPLES: Dict[str, Callable[[Dataset], List[Call]]] = {
    "customers": lambda dataset: [Call(params={"only_archived": flag}) for flag in ("false", "true")],
    "billable_metrics": lambda dataset: _each_customer(dataset, include_archived="true"),
    "billable_metric_definitions": lambda dataset: [Call(params={"include_archived": "true"})],
    "usage": _usage,
    "costs": lambda dataset: [Call(customer.id, params=DAYS) for customer in dataset.customers if not dataset.on_unique_plan(customer)],
    "invoices": _each_customer,
    "invoice_breakdowns": lambda dataset: [
        call
        for dates, window_size in [("2024-01-01", "DAY"), ("2024-02-05", "DAY"), ("2024-03-11", "DAY"), ("2024-03-14", "HOUR")]
        for call in _each_customer(dataset, window_size=window_size, starting_on=f"{dates}T00:00:00+00:00", ending_before=_breakdown_end(dates, window_size))
    ],
    "contracts": _each_customer,
    "balances": _each_customer,
    "credit_grants": lambda dataset: [Call()],
    "credit_types": lambda dataset: [Call()],
    "products": lambda dataset: [Call()],
    "rate_cards": lambda dataset: [Call()],
    "plans": lambda dataset: [Call()],
    "packages": lambda dataset: [Call()],
    "audit_logs": lambda dataset: [Call()],
    "contract_edits": lambda dataset: [Call(customer.id, {"contract_id": contract.id}) for customer in dataset.customers for contract in contracts_of(dataset, customer)],
    "rate_card_rates": lambda dataset: [Call(body={"rate_card_id": card["id"], "starting_at": "2020-01-01T00:00:00Z"}) for card in rate_card_items(dataset)],
    "customer_plans": _each_customer,
    "customer_alerts": _each_customer,
    "billing_provider_configurations": _each_customer,
}


def _breakdown_end(day: str, window_size: str) -> str:
    ends = {"2024-01-01": "2024-02-05", "2024-02-05": "2024-03-11", "2024-03-11": "2024-03-16", "2024-03-14": "2024-03-15"}
    return f"{ends[day]}T00:00:00+00:00"


class Client:
    """Reads any endpoint of the table as a client following the SDK would, paging as its row says."""

    def __init__(self, fake: FakeMetronome):
        self.fake = fake
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {fake.token}"

    def request(self, method: str, path: str, body: Optional[Dict[str, Any]] = None, **params: Any) -> requests.Response:
        return self.session.request(method, self.fake.url + path, params=params, json=body, timeout=10)

    def page(self, endpoint: Endpoint, customer_id: Optional[str] = None, token: Optional[str] = None, limit: Optional[int] = None, body: Optional[Dict[str, Any]] = None, **params: Any) -> requests.Response:
        paging = endpoint.paging
        if body is None and endpoint.method == "POST":
            body = dict(BODIES.get(endpoint.family, {}))
        if customer_id is not None and "{customer_id}" not in endpoint.path:
            body = {**(body or {}), "customer_id": customer_id}
        if token is not None:
            # Parameters the token carries are not sent again (the audit log's window).
            params = {name: value for name, value in params.items() if name not in paging.carried}
        sent = {name: value for name, value in ((paging.token_name, token), ("limit", limit)) if value is not None}
        if paging.token_in == BODY:
            body = {**(body or {}), **sent}
        else:
            params.update(sent)
        return self.request(endpoint.method, endpoint.path.format(customer_id=customer_id), body, **params)

    def pages(self, endpoint: Endpoint, customer_id: Optional[str] = None, limit: Optional[int] = None, body: Optional[Dict[str, Any]] = None, **params: Any) -> List[List[Dict[str, Any]]]:
        """Every page's data, following the token to its end."""
        pages, token = [], None
        for _ in range(500):
            response = self.page(endpoint, customer_id, token, limit, body, **params)
            assert response.status_code == 200, response.text
            answer = response.json()
            if endpoint.paging.token_in is None:
                assert set(answer) == {"data"}
                return [answer["data"]]
            assert set(answer) == {"data", endpoint.paging.answer_key}
            pages.append(answer["data"])
            token = answer[endpoint.paging.answer_key]
            if not token:
                return pages
        raise AssertionError("the token chain did not end")

    def items(self, endpoint: Endpoint, customer_id: Optional[str] = None, limit: Optional[int] = None, body: Optional[Dict[str, Any]] = None, **params: Any) -> List[Dict[str, Any]]:
        return [item for page in self.pages(endpoint, customer_id, limit, body, **params) for item in page]

    def every_item(self, endpoint: Endpoint, limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """What the endpoint's example requests serve, together."""
        calls = EXAMPLES[endpoint.family](self.fake.dataset)
        return [item for call in calls for item in self.items(endpoint, call.customer_id, limit, call.body, **call.params)]


def unknown_fields(model: Any, path: str = "$") -> List[str]:
    """Fields the SDK's model does not declare (its models accept and keep them as extras)."""
    found: List[str] = []
    if isinstance(model, BaseModel):
        found += [f"{path}.{name}" for name in model.model_extra or {}]
        for name in type(model).model_fields:
            found += unknown_fields(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, list):
        for index, item in enumerate(model):
            found += unknown_fields(item, f"{path}[{index}]")
    elif isinstance(model, dict):
        for name, item in model.items():
            found += unknown_fields(item, f"{path}.{name}")
    return found


TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _strings(value: Any) -> List[str]:
    if isinstance(value, dict):
        return [text for child in value.values() for text in _strings(child)]
    if isinstance(value, list):
        return [text for child in value for text in _strings(child)]
    return [value] if isinstance(value, str) else []


def sdk_model(endpoint: Endpoint) -> Any:
    module, name = endpoint.sdk_model.split(":")
    return getattr(importlib.import_module(f"metronome.types.{module}"), name)


def assert_parse_strictly(model: Any, items: List[Dict[str, Any]]) -> None:
    """Each item parses with the SDK's model in strict mode, from the JSON text (no coercion of strings
    to numbers or of numbers to strings), and carries no field the model does not declare."""
    assert items
    adapter = TypeAdapter(model)
    for item in items:
        assert unknown_fields(adapter.validate_json(json.dumps(item), strict=True)) == []


@pytest.fixture
def fake(start_fake) -> FakeMetronome:
    fake = start_fake(OPTIONS)
    fake.revision = 1
    return fake


@pytest.fixture
def client(fake) -> Client:
    return Client(fake)


ROWS = pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.family)
PAGED_ROWS = pytest.mark.parametrize("endpoint", [endpoint for endpoint in ENDPOINTS if endpoint.paging.limit_in], ids=lambda endpoint: endpoint.family)


class TestEveryEndpoint:
    @ROWS
    def test_every_item_served_parses_with_the_sdks_model_in_strict_mode_and_declares_no_unknown_field(self, client, endpoint):
        assert endpoint.family in EXAMPLES, f"{endpoint.family}: add example requests that serve its items"

        assert_parse_strictly(sdk_model(endpoint), client.every_item(endpoint))

    @PAGED_ROWS
    def test_given_a_small_limit_when_paging_then_the_pages_add_up_to_the_largest_pages_without_repeats(self, client, endpoint):
        whole = client.every_item(endpoint, limit=endpoint.paging.max_limit)
        calls = EXAMPLES[endpoint.family](client.fake.dataset)
        call = max(calls, key=lambda call: len(client.items(endpoint, call.customer_id, endpoint.paging.max_limit, call.body, **call.params)))
        limit = max(1, len(client.items(endpoint, call.customer_id, endpoint.paging.max_limit, call.body, **call.params)) // 3)

        pages = client.pages(endpoint, call.customer_id, limit, call.body, **call.params)
        small = client.every_item(endpoint, limit=limit)

        assert len(pages) > 1
        assert all(len(page) == limit for page in pages[:-1]) and 0 < len(pages[-1]) <= limit
        assert small == whole
        served = [json.dumps(item, sort_keys=True) for page in pages for item in page]
        assert len(set(served)) == len(served)

    @PAGED_ROWS
    def test_given_a_limit_out_of_range_then_400_with_a_message(self, client, endpoint):
        call = EXAMPLES[endpoint.family](client.fake.dataset)[0]

        for limit in (0, endpoint.paging.max_limit + 1, "ten"):
            response = client.page(endpoint, call.customer_id, limit=limit, body=call.body, **call.params)
            assert response.status_code == 400
            assert "limit" in response.json()["message"]

    @ROWS
    @pytest.mark.parametrize("status", [403, 404])
    def test_given_its_family_disabled_then_it_answers_that_status_with_a_message(self, start_fake, endpoint, status):
        fake = start_fake(OPTIONS, disabled_endpoints={endpoint.family: status})
        call = EXAMPLES[endpoint.family](fake.dataset)[0]

        response = Client(fake).page(endpoint, call.customer_id, body=call.body, **call.params)

        assert response.status_code == status and response.json()["message"]

    @ROWS
    @pytest.mark.parametrize("style, form", [("offset", r"\+00:00$"), ("z_millis", r"\.\d{3}Z$")])
    def test_given_a_timestamp_style_then_every_timestamp_served_takes_that_form(self, start_fake, endpoint, style, form):
        fake = start_fake(OPTIONS, timestamp_style=style)
        call = EXAMPLES[endpoint.family](fake.dataset)[0]

        stamps = [text for item in Client(fake).items(endpoint, call.customer_id, None, call.body, **call.params) for text in _strings(item) if TIMESTAMP.match(text)]

        assert all(re.search(form, stamp) for stamp in stamps), stamps

    def test_every_route_is_logged_with_its_body_and_status(self, fake, client):
        fake.reset_requests()
        calls = {endpoint.family: EXAMPLES[endpoint.family](fake.dataset)[0] for endpoint in ENDPOINTS}

        for endpoint in ENDPOINTS:
            call = calls[endpoint.family]
            client.page(endpoint, call.customer_id, body=call.body, **call.params)

        logged = fake.requests
        assert [(request.method, request.path) for request in logged] == [
            (endpoint.method, endpoint.path.format(customer_id=calls[endpoint.family].customer_id)) for endpoint in ENDPOINTS
        ]
        assert all(request.status == 200 for request in logged)
        assert logged[list(BY_NAME).index("contracts")].body["customer_id"] == calls["contracts"].customer_id
