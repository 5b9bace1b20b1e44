"""Metronome's page envelope, {"data": [...], "next_page": token | null}, read once per response."""

import json
from typing import Any, Mapping, Optional
from urllib.parse import parse_qs, urlsplit

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


def sent_page_token(response: requests.Response) -> Optional[str]:
    return parse_qs(urlsplit(response.request.url).query).get("next_page", [None])[0]


def describe_request(response: requests.Response) -> str:
    """The endpoint and, for the usage endpoint whose partition is in the body, the partition."""
    request = response.request
    description = f"{request.method} {urlsplit(request.url).path}"
    if request.body:
        body = json.loads(request.body)
        description += f" for customer {body.get('customer_id')}, billable metric {body.get('billable_metric_id')}"
    return description
