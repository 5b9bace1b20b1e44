"""Metronome's pagination, one path for every endpoint: `limit` checked against its bounds and an
opaque token bound to its query.

Metronome pages lists in three ways (metronome-sdk 4.12, `pagination.py` and `resources/`):
- QUERY: `next_page` and `limit` in the query, answered as `next_page` (most lists);
  NO_LIMIT alike without `limit` (SyncCursorPageWithoutLimit: customer-alerts/list);
- BODY: `next_page` and `limit` in the JSON body, answered as `next_page` (customerBalances/list);
- CURSOR: `cursor` and `limit` in the JSON body, answered as `cursor` (POST /v2/contracts/list).
UNPAGED lists answer every item at once, `{"data": [...]}` with no token.

A token encodes where the next page starts and a fingerprint of the request it continues (every
parameter and body field but the token itself), so replaying it against another query is 400, as
the API requires every other parameter to stay unchanged. Parameters a request may not resend with
a token (the audit log's window) ride in the token instead.
"""

import base64
import hashlib
import json
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from integration_tests.fake_metronome import faults as fault_kinds
from integration_tests.fake_metronome.request import ApiError

QUERY = "query"
BODY = "body"
# Metronome documents no default for most lists; the fake uses the largest page when `limit` is absent.
MAX_LIMIT = 100


@dataclass(frozen=True)
class Paging:
    # None: the list is answered whole, without a token.
    token_in: Optional[str] = QUERY
    token_name: str = "next_page"
    # None: the endpoint takes no `limit`; pages hold default_limit items.
    limit_in: Optional[str] = QUERY
    default_limit: int = MAX_LIMIT
    max_limit: int = MAX_LIMIT
    # The name of the token in the answer, beside `data`.
    answer_key: str = "next_page"
    # Query parameters the token carries: the first request sends them, the token remembers them.
    carried: Tuple[str, ...] = ()
    # The FakeMetronome knob (a bool attribute) that makes sending a carried parameter with a token 400.
    rejects_carried_knob: Optional[str] = None
    # The knob that makes the last page lead to an empty page that still carries a token.
    empty_last_page_knob: Optional[str] = None

    def with_default_limit(self, default_limit: int) -> "Paging":
        return replace(self, default_limit=default_limit)


QUERY_PAGING = Paging()
NO_LIMIT = Paging(limit_in=None)
BODY_PAGING = Paging(token_in=BODY, limit_in=BODY)
# The SDK: POST /v2/contracts/list takes `limit` up to 20 and defaults to it.
CURSOR_PAGING = Paging(token_in=BODY, token_name="cursor", limit_in=BODY, default_limit=20, max_limit=20, answer_key="cursor")
UNPAGED = Paging(token_in=None, limit_in=None)

# Where a page token sends a request: the next page, or (phases 1 and 2) the empty pages after the last.
NEXT, EMPTY_WITH_TOKEN, END = 0, 1, 2


def token_of(paging: Paging, query: Mapping[str, Sequence[str]], body: Mapping[str, Any]) -> Optional[str]:
    if paging.token_in is None:
        return None
    if paging.token_in == BODY:
        token = body.get(paging.token_name)
        if token is not None and not isinstance(token, str):
            raise ApiError(400, f"{paging.token_name} must be a string")
        return token or None
    values = query.get(paging.token_name)
    return values[-1] if values else None


def serve_page(
    paging: Paging,
    items_of: Callable[[Mapping[str, str]], List[Dict[str, Any]]],
    method: str,
    path: str,
    query: Mapping[str, Sequence[str]],
    body: Mapping[str, Any],
    knobs: Any,
    fault: Optional[str],
) -> Dict[str, Any]:
    """The page a request asks for, as `{"data": [...], <answer_key>: token | null}`; `items_of`
    gives the whole list for the parameters the token carried. ApiError for a 4xx."""
    if paging.token_in is None:
        return {"data": items_of({})}
    limit = _limit_of(paging, query, body)
    fingerprint = _fingerprint(paging, method, path, query, body)
    token = token_of(paging, query, body)
    resent = {name: query[name][-1] for name in paging.carried if name in query}
    offset, phase, carried = 0, NEXT, resent
    if token is not None:
        offset, phase, carried = _decode(token, fingerprint, paging.token_name)
        if resent and paging.rejects_carried_knob and getattr(knobs, paging.rejects_carried_knob):
            raise ApiError(400, f"{', '.join(sorted(resent))} cannot be used with {paging.token_name}")
        if resent and resent != carried:
            raise ApiError(400, f"{paging.token_name} belongs to a different query; send every other parameter unchanged")
    items = items_of(carried)
    end = offset + limit
    data = items[offset:end]
    next_token = _encode(end, NEXT, carried, fingerprint) if end < len(items) else None
    if phase == EMPTY_WITH_TOKEN:
        # The empty page after the last one: no data, yet a token (which leads to the chain's end).
        data, next_token = [], _encode(offset, END, carried, fingerprint)
    elif phase == END:
        data, next_token = [], None
    elif next_token is None and paging.empty_last_page_knob and getattr(knobs, paging.empty_last_page_knob):
        next_token = _encode(len(items), EMPTY_WITH_TOKEN, carried, fingerprint)
    if fault == fault_kinds.REPEATED_TOKEN and token is not None:
        next_token = token
    elif fault == fault_kinds.EMPTY_PAGE_WITH_TOKEN:
        data, next_token = [], _encode(offset, phase, carried, fingerprint)
    return {"data": data, paging.answer_key: next_token}


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


def _encode(offset: int, phase: int, carried: Mapping[str, str], fingerprint: str) -> str:
    payload = json.dumps({"o": offset, "p": phase, "c": dict(carried), "f": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode(token: str, fingerprint: str, token_name: str) -> Tuple[int, int, Dict[str, str]]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, phase, carried, token_fingerprint = int(payload["o"]), int(payload["p"]), dict(payload["c"]), payload["f"]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise ApiError(400, f"{token_name} is not a valid page token") from None
    if token_fingerprint != fingerprint:
        raise ApiError(400, f"{token_name} belongs to a different query; send every other parameter and the body unchanged")
    return offset, phase, carried
