"""Metronome's page envelope, {"data": [...], "next_page": token | null}, read once per response."""

import json
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

import orjson
import requests

_CACHE_KEY = "_metronome_page"


def read_page(response: requests.Response) -> Optional[Mapping[str, Any]]:
    """The parsed page, or None when the body is not one (truncated JSON, a proxy's HTML page, an
    object without `data`). Parsed once: the error handler, pagination and parsing all need it."""
    if _CACHE_KEY not in response.__dict__:
        try:
            page = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            page = None
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            page = None
        response.__dict__[_CACHE_KEY] = page
    return response.__dict__[_CACHE_KEY]


# The partition of a request whose partition is in its body (usage, contracts, balances).
BODY_PARTITION_FIELDS = (("customer_id", "customer"), ("billable_metric_id", "billable metric"))


def describe_request(response: requests.Response) -> str:
    """The endpoint and, for a request whose partition is in the body, the partition."""
    request = response.request
    description = f"{request.method} {urlsplit(request.url).path}"
    body = json.loads(request.body) if request.body else {}
    partition = [f"{label} {body[field]}" for field, label in BODY_PARTITION_FIELDS if body.get(field)]
    if partition:
        description += " for " + ", ".join(partition)
    return description
