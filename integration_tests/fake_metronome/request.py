"""How the fake reads a request and refuses one: `ApiError` (a status and Metronome's
`{"message": ...}` body), `Request`, and the parameter checks every endpoint shares, with one
message each."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Collection, Iterable, List, Mapping, Optional, Sequence

from integration_tests.fake_metronome.dataset import Customer, Dataset
from integration_tests.fake_metronome.timestamps import parse_timestamp

SORTS = ("date_asc", "date_desc")


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


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

    def sort(self) -> str:
        """`sort`: date_asc (the SDK's default) or date_desc."""
        value = self.param("sort") or "date_asc"
        if value not in SORTS:
            raise ApiError(400, f"sort must be date_asc or date_desc, got {value!r}")
        return value

    def strict(self, query: Collection[str], body: Collection[str]) -> None:
        """400 for a parameter the endpoint does not take (metronome-sdk's params types)."""
        stray_query, stray_body = sorted(set(self.query) - set(query)), sorted(set(self.body) - set(body))
        if stray_query:
            raise ApiError(400, f"Unknown query parameters {stray_query} for {self.method} {self.path}")
        if stray_body:
            raise ApiError(400, f"Unknown body fields {stray_body} for {self.method} {self.path}")


def known_customer(dataset: Dataset, customer_id: Any) -> Customer:
    if not isinstance(customer_id, str) or not customer_id:
        raise ApiError(400, "customer_id is required")
    customer = dataset.customer(customer_id)
    if customer is None:
        raise ApiError(404, f"Customer {customer_id} not found")
    return customer


def required_string(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"{name} is required")
    return value


def moment(name: str, text: Any, required: bool = False) -> Optional[datetime]:
    """An RFC 3339 timestamp parameter; None when absent and not required."""
    if text is None or (required and text == ""):
        if required:
            raise ApiError(400, f"{name} is required")
        return None
    try:
        return parse_timestamp(text)
    except (TypeError, ValueError, AttributeError):
        raise ApiError(400, f"{name} {text!r} is not an RFC 3339 timestamp") from None


def strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def string_list(body: Mapping[str, Any], name: str) -> Optional[List[str]]:
    value = body.get(name)
    if value is None:
        return None
    if not strings(value):
        raise ApiError(400, f"{name} must be a list of strings")
    return value


def one_of(name: str, value: Any, allowed: Iterable[str]) -> str:
    if value not in allowed:
        raise ApiError(400, f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value
