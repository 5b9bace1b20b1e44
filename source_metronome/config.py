"""The connector's settings, validated whole before any request is made.

Per-field limits (enum, minimum, maximum, pattern, default) live in spec.yaml, where Airbyte's form
shows them; this module reads them from there and words their errors, one sentence that names the
key and says how to fix it, raised as an Airbyte config_error (the CDK's own schema check names
neither). Rules across fields, and what a schema cannot say (uuids, URLs, dates), are here.
unit_tests/test_config.py walks the spec so that the two cannot drift apart.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, FrozenSet, List, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

import yaml

from source_metronome.errors import config_error
from source_metronome.windows import ceil_to_midnight, floor_to_midnight, parse_moment

# Plain http would send the token in clear text; only a server on this machine may use it.
LOCAL_HOSTS = ("localhost", "127.0.0.1")


@lru_cache(maxsize=1)
def spec_properties() -> Mapping[str, Mapping[str, Any]]:
    """The settings' JSON schema properties, as spec.yaml declares them."""
    spec = yaml.safe_load(resources.files("source_metronome").joinpath("spec.yaml").read_text())
    return spec["connectionSpecification"]["properties"]


def default(key: str) -> Any:
    return spec_properties()[key].get("default")


@dataclass(frozen=True)
class GroupBy:
    """Metronome's older grouping: one key, optionally narrowed to some values."""

    key: str
    values: Optional[Tuple[str, ...]] = None

    def usable_with(self, metric_key_sets: FrozenSet[FrozenSet[str]]) -> bool:
        # Any key the metric groups by, alone or within a compound key, may be used alone.
        return any(self.key in keys for keys in metric_key_sets)

    def as_request(self) -> Mapping[str, Any]:
        request: dict = {"key": self.key}
        if self.values:
            request["values"] = list(self.values)
        return {"group_by": request}

    def describe(self) -> str:
        return repr(self.key)


@dataclass(frozen=True)
class GroupKeys:
    """Metronome's newer grouping: a (possibly compound) key, with filters on its keys' values."""

    keys: Tuple[str, ...]
    filters: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()

    def usable_with(self, metric_key_sets: FrozenSet[FrozenSet[str]]) -> bool:
        # Metronome accepts exactly one of the metric's group key sets, in any order.
        return frozenset(self.keys) in metric_key_sets

    def as_request(self) -> Mapping[str, Any]:
        request: dict = {"group_key": list(self.keys)}
        if self.filters:
            request["group_filters"] = {key: list(values) for key, values in self.filters}
        return request

    def describe(self) -> str:
        return repr(list(self.keys))


@dataclass(frozen=True)
class MetronomeConfig:
    api_token: str
    start_date: datetime
    end_date: Optional[datetime]
    customer_ids: Tuple[str, ...]
    include_archived_customers: bool
    billable_metric_ids: Tuple[str, ...]
    window_size: str
    # The window of invoice breakdowns (DAY or HOUR), apart from usage's, which may also be NONE.
    breakdown_window_size: str
    # group_by or group_keys (with group_filters): never both.
    grouping: Optional[Union[GroupBy, GroupKeys]]
    lookback: timedelta
    page_size: int
    base_url: str
    current_period: bool
    requests_per_second: float
    max_concurrency: int


def parse_config(raw: Mapping[str, Any]) -> MetronomeConfig:
    start_date = floor_to_midnight(_moment(raw, "start_date", required=True))
    end_moment = _moment(raw, "end_date", required=False)
    if end_moment is not None and end_moment <= start_date:
        raise config_error("end_date must be later than start_date; set it to a later date or leave it empty to read up to now.")
    return MetronomeConfig(
        api_token=_api_token(raw),
        start_date=start_date,
        end_date=ceil_to_midnight(end_moment) if end_moment else None,
        customer_ids=_uuids(raw, "customer_ids"),
        include_archived_customers=_boolean(raw, "include_archived_customers"),
        billable_metric_ids=_uuids(raw, "billable_metric_ids"),
        window_size=_choice(raw, "window_size"),
        breakdown_window_size=_choice(raw, "breakdown_window_size"),
        grouping=_grouping(raw),
        lookback=timedelta(days=_number(raw, "lookback_days")),
        page_size=_number(raw, "page_size"),
        base_url=_base_url(raw),
        current_period=_boolean(raw, "current_period"),
        requests_per_second=float(_number(raw, "requests_per_second", hint="; keep it below your Metronome rate limit (about 8 by default)")),
        max_concurrency=_number(raw, "max_concurrency"),
    )


def _present(raw: Mapping[str, Any], key: str) -> bool:
    return raw.get(key) not in (None, "", [])


def _api_token(raw: Mapping[str, Any]) -> str:
    token = raw.get("api_token")
    if not isinstance(token, str) or not token.strip():
        raise config_error("api_token is missing; paste a Metronome API token (Settings → API tokens in Metronome).")
    return token.strip()


def _moment(raw: Mapping[str, Any], key: str, required: bool) -> Optional[datetime]:
    if not _present(raw, key):
        if required:
            raise config_error(f"{key} is missing; set it to a date such as 2024-01-01.")
        return None
    value = raw[key]
    try:
        if not isinstance(value, str):
            raise ValueError
        return parse_moment(value)
    except (ValueError, TypeError, OverflowError):
        raise config_error(f"{key} {value!r} is not a date; use a date such as 2024-01-01 or a date-time such as 2024-01-01T00:00:00Z.") from None


def _uuids(raw: Mapping[str, Any], key: str) -> Tuple[str, ...]:
    if not _present(raw, key):
        return ()
    values = raw[key]
    if not isinstance(values, list):
        raise config_error(f"{key} must be a list of Metronome ids; give each id as a separate item.")
    ids: List[str] = []
    for value in values:
        try:
            canonical = str(uuid.UUID(str(value).strip()))
        except ValueError:
            raise config_error(f"{key} contains {value!r}, which is not a Metronome id; copy the id (a uuid such as 04ca7e72-4229-4a6e-ab11-9f7376fccbcb) from Metronome.") from None
        if canonical not in ids:
            ids.append(canonical)
    return tuple(ids)


def _boolean(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key)
    if value is None:
        return default(key)
    if not isinstance(value, bool):
        raise config_error(f"{key} must be true or false, not {value!r}.")
    return value


def _number(raw: Mapping[str, Any], key: str, hint: str = "") -> Union[int, float]:
    """An integer or number setting, within the spec's minimum and maximum, else the spec's default."""
    schema = spec_properties()[key]
    value = raw.get(key)
    if value is None:
        return schema["default"]
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    kind = int if schema["type"] == "integer" else (int, float)
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
    if isinstance(value, bool) or not isinstance(value, kind) or value < minimum or (maximum is not None and value > maximum):
        what = "a whole number" if schema["type"] == "integer" else "a number"
        raise config_error(f"{key} must be {what} {bounds}, not {value!r}{hint}.")
    return value


def _choice(raw: Mapping[str, Any], key: str) -> str:
    allowed = spec_properties()[key]["enum"]
    value = raw.get(key) or default(key)
    # Upper case only, as the spec's enum: one spelling per window keeps primary keys stable.
    if value not in allowed:
        raise config_error(f"{key} must be {', '.join(allowed[:-1])} or {allowed[-1]} (upper case), not {value!r}.")
    return value


def _grouping(raw: Mapping[str, Any]) -> Optional[Union[GroupBy, GroupKeys]]:
    if _present(raw, "group_by") and raw.get("group_by") != {} and (_present(raw, "group_keys") or _present(raw, "group_filters")):
        raise config_error("group_by and group_keys/group_filters cannot be set together; keep group_keys (Metronome's newer form) or group_by, not both.")
    if _present(raw, "group_keys") or _present(raw, "group_filters"):
        return _group_keys(raw)
    return _group_by(raw)


def _group_keys(raw: Mapping[str, Any]) -> GroupKeys:
    keys = raw.get("group_keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(key, str) and key.strip() for key in keys):
        raise config_error("group_keys must be a list of group key names, such as [\"region\", \"tier\"]; set it, or remove group_filters.")
    keys = list(dict.fromkeys(key.strip() for key in keys))
    filters = raw.get("group_filters") or {}
    if not isinstance(filters, Mapping):
        raise config_error("group_filters must map group keys to lists of values, such as {\"region\": [\"US-East\"]}.")
    for key, values in filters.items():
        if key not in keys:
            raise config_error(f"group_filters names {key!r}, which is not in group_keys; add it to group_keys or remove its filter.")
        if not isinstance(values, list) or not all(isinstance(value, str) and value for value in values):
            raise config_error(f"group_filters.{key} must be a list of non-empty strings; list the values to read, or leave it empty for all.")
    return GroupKeys(keys=tuple(keys), filters=tuple((key, tuple(values)) for key, values in filters.items() if values))


def _group_by(raw: Mapping[str, Any]) -> Optional[GroupBy]:
    value = raw.get("group_by")
    if value in (None, {}):
        return None
    if not isinstance(value, Mapping):
        raise config_error("group_by must be an object with a key (and optional values); set group_by.key to a group key of your billable metrics.")
    key = value.get("key")
    if not isinstance(key, str) or not key.strip():
        raise config_error("group_by.key is missing; set it to a group key of your billable metrics, or remove group_by.")
    values = value.get("values")
    if values in (None, []):
        return GroupBy(key=key.strip())
    # Metronome's spec requires each value to be a non-empty string.
    if not isinstance(values, list) or not all(isinstance(item, str) and item for item in values):
        raise config_error("group_by.values must be a list of non-empty strings; list the group values to read, or leave it empty for all.")
    return GroupBy(key=key.strip(), values=tuple(values))


def _base_url(raw: Mapping[str, Any]) -> str:
    value = raw.get("base_url") or default("base_url")
    parts = urlsplit(value.strip()) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise config_error(f"base_url {value!r} is not a URL; use https://api.metronome.com or your proxy's https URL.")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise config_error(f"base_url {value!r} uses plain http, which would expose the API token; use https (http is allowed only for localhost and 127.0.0.1).")
    return value.strip().rstrip("/")
