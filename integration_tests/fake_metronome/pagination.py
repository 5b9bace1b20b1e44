"""Metronome's pagination: `limit` 1..100 and an opaque `next_page` token bound to its query.

A token encodes where the next page starts and a fingerprint of the request it continues (every
query parameter but `next_page`, and the JSON body), so replaying it against another query is
refused with 400, as the API requires every other parameter to stay unchanged.
"""

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence

from integration_tests.fake_metronome.errors import ApiError

MAX_LIMIT = 100
# Metronome documents no default; the fake uses the largest page when `limit` is absent.
DEFAULT_LIMIT = MAX_LIMIT


@dataclass(frozen=True)
class Page:
    data: List[Any]
    offset: int
    next_offset: Optional[int]


def page_limit(query: Mapping[str, Sequence[str]]) -> int:
    raw = query.get("limit", [None])[-1]
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, f"limit must be an integer from 1 to {MAX_LIMIT}, got {raw!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
    return limit


def fingerprint(method: str, path: str, query: Mapping[str, Sequence[str]], body: Any) -> str:
    significant = sorted((name, list(values)) for name, values in query.items() if name != "next_page")
    text = json.dumps([method, path, significant, body], sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def encode_token(offset: int, request_fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, request_fingerprint]).encode()).decode().rstrip("=")


def page_offset(query: Mapping[str, Sequence[str]], request_fingerprint: str) -> int:
    """Where the requested page starts: 0, or the offset its `next_page` token carries."""
    token = query.get("next_page", [None])[-1]
    if token is None:
        return 0
    try:
        offset, token_fingerprint = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = int(offset)
    except (ValueError, TypeError):
        raise ApiError(400, "next_page is not a valid page token") from None
    if token_fingerprint != request_fingerprint:
        raise ApiError(400, "next_page belongs to a different query; send every other parameter and the body unchanged")
    return offset


def paginate(items: Sequence[Any], offset: int, limit: int) -> Page:
    end = offset + limit
    return Page(data=list(items[offset:end]), offset=offset, next_offset=end if end < len(items) else None)
