"""The endpoints added after the first five (finance.py, catalog.py, audit.py): a table of routes,
each with its family (what `FakeMetronome.disabled_endpoints` switches off) and its way of paging.

Metronome pages these lists in three ways (metronome-sdk 4.12, `pagination.py` and `resources/`):
- `next_page` and `limit` in the query, answered as `next_page` (most lists; customer-alerts/list
  takes no `limit`);
- `next_page` and `limit` in the JSON body, answered as `next_page` (customerBalances/list);
- `cursor` and `limit` in the JSON body, answered as `cursor` (POST /v2/contracts/list).

A token encodes where the next page starts and a fingerprint of the request it continues (every
parameter and body field but the token itself), so replaying it against another query is 400, as
for the first five. Parameters a request may not resend with a token (the audit log's window) ride
in the token instead.

Some answer every item at once, `{"data": [...]}` with no token (UNPAGED: getEditHistory,
getCustomerBillingProviderConfigurations).

The first five endpoints keep routes.py and pagination.py; they are listed here only for their
family, so they can be switched off too.
"""

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Pattern, Sequence, Tuple

from integration_tests.fake_metronome.errors import ApiError
from integration_tests.fake_metronome.pagination import paginate

QUERY = "query"
BODY = "body"

# Families switched off together, for an account on only one of Metronome's two billing models
# (a plans account may have no contracts or contract pricing, a contracts account may
# refuse the older Plans endpoints).
FAMILY_GROUPS: Dict[str, Tuple[str, ...]] = {
    "contracts_api": ("contracts", "balances", "products", "rate_cards", "packages", "contract_edits", "rate_card_rates"),
    "plans_api": ("plans", "credit_grants", "costs", "customer_plans"),
}


@dataclass(frozen=True)
class Paging:
    # None: the list is answered whole, without a token.
    token_in: Optional[str] = QUERY
    token_name: str = "next_page"
    # None: the endpoint takes no `limit`; pages hold default_limit items.
    limit_in: Optional[str] = QUERY
    default_limit: int = 100
    max_limit: int = 100
    # The name of the token in the answer, beside `data`.
    answer_key: str = "next_page"
    # Query parameters the token carries: the first request sends them, the token remembers them.
    carried: Tuple[str, ...] = ()
    # The FakeMetronome knob (a bool attribute) that makes sending a carried parameter with a token 400.
    rejects_carried_knob: Optional[str] = None
    # The knob that makes the last page lead to an empty page that still carries a token.
    empty_last_page_knob: Optional[str] = None


QUERY_PAGING = Paging()
UNPAGED = Paging(token_in=None, limit_in=None)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, Sequence[str]]
    body: Mapping[str, Any]
    path_params: Mapping[str, str]
    # Parameters the page token carried (they win over the query's).
    carried: Mapping[str, str] = field(default_factory=dict)

    def param(self, name: str) -> Optional[str]:
        if name in self.carried:
            return self.carried[name]
        values = self.query.get(name)
        return values[-1] if values else None

    def flag(self, name: str) -> bool:
        """A boolean from the query ("true") or the JSON body (true)."""
        if name in self.body:
            value = self.body[name]
            if not isinstance(value, bool):
                raise ApiError(400, f"{name} must be a boolean")
            return value
        return (self.param(name) or "false").lower() == "true"


Items = Callable[[Any, str, Request], List[Dict[str, Any]]]


@dataclass(frozen=True)
class Endpoint:
    family: str
    method: str
    pattern: Pattern[str]
    # The full list the request selects; None for the first five (routes.py serves them).
    items: Optional[Items] = None
    paging: Paging = QUERY_PAGING


_ENDPOINTS: List[Endpoint] = []


def register(family: str, method: str, path: str, items: Optional[Items] = None, paging: Paging = QUERY_PAGING) -> None:
    """Adds a route; `path` is a regular expression matched against the whole path."""
    _ENDPOINTS.append(Endpoint(family, method, re.compile(f"^{path}$"), items, paging))


def find_endpoint(method: str, path: str) -> Optional[Endpoint]:
    _load_routes()
    return next((endpoint for endpoint in _ENDPOINTS if endpoint.method == method and endpoint.pattern.match(path)), None)


def families() -> List[str]:
    _load_routes()
    return sorted({endpoint.family for endpoint in _ENDPOINTS})


def check_disabled(disabled: Mapping[str, int]) -> None:
    known = set(families()) | set(FAMILY_GROUPS)
    unknown = sorted(set(disabled) - known)
    if unknown:
        raise ValueError(f"unknown endpoint families {unknown}; known: {sorted(known)}")
    for name, status in disabled.items():
        if status not in (403, 404):
            raise ValueError(f"{name}: a disabled family answers 403 or 404, not {status}")


def disabled_status(disabled: Mapping[str, int], family: str) -> Optional[int]:
    """The status a switched-off family answers (its own setting first, then its group's)."""
    if family in disabled:
        return disabled[family]
    return next((status for group, status in disabled.items() if family in FAMILY_GROUPS.get(group, ())), None)


def disabled_error(family: str, status: int) -> ApiError:
    if status == 403:
        return ApiError(403, f"This feature is not enabled for your account ({family}); contact Metronome to enable it")
    return ApiError(404, "Not found")


def sends_token(endpoint: Endpoint, query: Mapping[str, Sequence[str]], body: Any) -> bool:
    try:
        return _token_of(endpoint.paging, query, body if isinstance(body, dict) else {}) is not None
    except ApiError:
        # A malformed token: serve() answers 400 for it.
        return False


@dataclass(frozen=True)
class Answered:
    data: List[Dict[str, Any]]
    token: Optional[str]


def serve(endpoint: Endpoint, dataset: Any, style: str, knobs: Any, method: str, path: str, query: Mapping[str, Sequence[str]], body: Any, fault: Optional[str]) -> Dict[str, Any]:
    """The page a request asks for, as `{"data": [...], <answer_key>: token | null}`; ApiError for a 4xx."""
    from integration_tests.fake_metronome import faults as fault_kinds

    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    paging = endpoint.paging
    if paging.token_in is None:
        return {"data": endpoint.items(dataset, style, Request(method, path, query, body, endpoint.pattern.match(path).groupdict()))}
    limit = _limit_of(paging, query, body)
    request_fingerprint = _fingerprint(paging, method, path, query, body)
    token = _token_of(paging, query, body)
    offset, phase, carried = 0, 0, {name: query[name][-1] for name in paging.carried if name in query}
    if token is not None:
        offset, phase, carried = _decode(token, request_fingerprint, paging.token_name)
        resent = {name: query[name][-1] for name in paging.carried if name in query}
        if resent and paging.rejects_carried_knob and getattr(knobs, paging.rejects_carried_knob):
            raise ApiError(400, f"{', '.join(sorted(resent))} cannot be used with {paging.token_name}")
        if resent and resent != carried:
            raise ApiError(400, f"{paging.token_name} belongs to a different query; send every other parameter unchanged")
    request = Request(method, path, query, body, endpoint.pattern.match(path).groupdict(), carried)
    items = endpoint.items(dataset, style, request)
    page = paginate(items, offset, limit)
    data = page.data
    next_token = None if page.next_offset is None else _encode(page.next_offset, 0, carried, request_fingerprint)
    empty_last_page = paging.empty_last_page_knob and getattr(knobs, paging.empty_last_page_knob)
    if phase == 1:
        # The empty page after the last one: no data, yet a token (which leads to the chain's end).
        data, next_token = [], _encode(offset, 2, carried, request_fingerprint)
    elif phase == 2:
        data, next_token = [], None
    elif next_token is None and empty_last_page:
        next_token = _encode(len(items), 1, carried, request_fingerprint)
    if fault == fault_kinds.REPEATED_TOKEN and token is not None:
        next_token = token
    elif fault == fault_kinds.EMPTY_PAGE_WITH_TOKEN:
        data, next_token = [], _encode(offset, phase, carried, request_fingerprint)
    return {"data": data, paging.answer_key: next_token}


def _token_of(paging: Paging, query: Mapping[str, Sequence[str]], body: Mapping[str, Any]) -> Optional[str]:
    if paging.token_in is None:
        return None
    if paging.token_in == BODY:
        token = body.get(paging.token_name)
        if token is not None and not isinstance(token, str):
            raise ApiError(400, f"{paging.token_name} must be a string")
        return token or None
    values = query.get(paging.token_name)
    return values[-1] if values else None


def _limit_of(paging: Paging, query: Mapping[str, Sequence[str]], body: Mapping[str, Any]) -> int:
    if paging.limit_in is None:
        return paging.default_limit
    raw: Any = body.get("limit") if paging.limit_in == BODY else (query.get("limit") or [None])[-1]
    if raw is None:
        return paging.default_limit
    limit: Optional[int] = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        limit = raw
    elif isinstance(raw, float) and raw.is_integer():
        # The SDK types the contracts' limit as a float.
        limit = int(raw)
    elif isinstance(raw, str) and re.fullmatch(r"-?\d+", raw):
        limit = int(raw)
    if limit is None or not 1 <= limit <= paging.max_limit:
        raise ApiError(400, f"limit must be an integer from 1 to {paging.max_limit}, got {raw!r}")
    return limit


def _fingerprint(paging: Paging, method: str, path: str, query: Mapping[str, Sequence[str]], body: Mapping[str, Any]) -> str:
    left_out = set(paging.carried) | ({paging.token_name} if paging.token_in == QUERY else set())
    significant = sorted((name, list(values)) for name, values in query.items() if name not in left_out)
    body_fields = {name: value for name, value in body.items() if not (paging.token_in == BODY and name == paging.token_name)}
    text = json.dumps([method, path, significant, body_fields], sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def _encode(offset: int, phase: int, carried: Mapping[str, str], request_fingerprint: str) -> str:
    payload = json.dumps({"o": offset, "p": phase, "c": dict(carried), "f": request_fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode(token: str, request_fingerprint: str, token_name: str) -> Tuple[int, int, Dict[str, str]]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, phase, carried, token_fingerprint = int(payload["o"]), int(payload["p"]), dict(payload["c"]), payload["f"]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise ApiError(400, f"{token_name} is not a valid page token") from None
    if token_fingerprint != request_fingerprint:
        raise ApiError(400, "The page token belongs to a different query; send every other parameter and the body unchanged")
    return offset, phase, carried


_loaded = False
_loading = threading.Lock()


def _load_routes() -> None:
    """The route table, filled on first use (the modules that register routes import this one)."""
    global _loaded
    with _loading:
        if _loaded:
            return
        _fill_routes()
        _loaded = True


def _fill_routes() -> None:
    register("customers", "GET", "/v1/customers")
    register("billable_metrics", "GET", "/v1/customers/[^/]+/billable-metrics")
    register("billable_metric_definitions", "GET", "/v1/billable-metrics")
    register("usage", "POST", "/v1/usage/groups")
    register("costs", "GET", "/v1/customers/[^/]+/costs")
    from integration_tests.fake_metronome import audit, breakdowns, catalog, contracts_era, finance

    for module in (finance, catalog, audit, breakdowns, contracts_era):
        module.register_routes(register)
