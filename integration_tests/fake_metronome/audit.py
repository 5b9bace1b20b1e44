"""The account's audit log: GET /v1/auditLogs (metronome-sdk 4.12, `types/v1/audit_log_list_params.py`
and `audit_log_list_response.py`).

Entries are recorded `audit_entries_per_day` times a day from the start of history (7 minutes past
each slot), every fifth one at the same moment as the one before it, and the log holds those
recorded before "now": moving the clock on (`fake.advance`) adds entries, with later timestamps.
Each late-data revision also records one entry, a second before it arrived.

Query: `limit`, `next_page`, `starting_on` (inclusive) and `ending_before` (exclusive) on the
timestamp, `sort` (date_asc by default, date_desc; ties in the order recorded), `resource_type`
with `resource_id` (the SDK: each needs the other; 400 otherwise). The page token carries the
window, as the SDK says neither date "can be used with next_page"; two knobs on FakeMetronome:
- `audit_rejects_window_with_next_page` (True by default, as integrators report): a request with
  `next_page` and `starting_on` or `ending_before` is 400; when False, they are accepted if they
  equal the first request's;
- `audit_empty_last_page_with_token` (False by default): the last page's `next_page` leads to an
  empty page that still carries a `next_page`, which leads to an empty page with null.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from integration_tests.fake_metronome.dataset import Dataset
from integration_tests.fake_metronome.request import ApiError, Request, moment
from integration_tests.fake_metronome.seeding import seeded_uuid
from integration_tests.fake_metronome.timestamps import ONE_DAY, OFFSET_STYLE, format_timestamp

ACTORS = (
    {"id": "3d6b6a9c-4e0b-4f61-9a55-0c7f3f1e2a10", "name": "Ada Admin", "email": "admin@example.com"},
    {"id": "8f2b1c44-7d7e-4c0e-b1c2-5e6f7a8b9c0d", "name": "Billing API key"},
)
SLOT_OFFSET = timedelta(minutes=7)


@dataclass(frozen=True)
class AuditEntry:
    id: str
    timestamp: datetime
    action: str
    resource_type: str
    resource_id: str
    description: str
    actor: Dict[str, str]
    request_id: str

    def as_api(self, style: str = OFFSET_STYLE) -> Dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": format_timestamp(self.timestamp, style),
            "action": self.action,
            "actor": dict(self.actor),
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "description": self.description,
            "request": {"id": self.request_id, "ip": "203.0.113.7", "user_agent": "metronome-python/4.12.0"},
            "status": "success",
        }


def audit_entries(dataset: Dataset) -> List[AuditEntry]:
    """Every entry recorded before the dataset's "now", oldest first (ties in the order recorded)."""
    per_day = dataset.options.audit_entries_per_day
    seed = dataset.options.seed
    entries = []
    if per_day:
        spacing = ONE_DAY / per_day
        number = 0
        while True:
            # Every fifth entry shares the previous one's moment (two changes in one request).
            slot = number - 1 if number % 5 == 4 else number
            timestamp = dataset.history_start + slot * spacing + SLOT_OFFSET
            if timestamp >= dataset.now:
                break
            entries.append(_entry(dataset, seed, number, timestamp))
            number += 1
    for revision in dataset.revisions:
        timestamp = revision.arrived_at - timedelta(seconds=1)
        entries.append(
            AuditEntry(
                id=seeded_uuid(seed, "audit-revision", revision.number),
                timestamp=timestamp,
                action="ingest_backdated_events",
                resource_type="usage",
                resource_id=seeded_uuid(seed, "audit-revision-batch", revision.number),
                description=f"Backdated usage events arrived (revision {revision.number})",
                actor=ACTORS[1],
                request_id=seeded_uuid(seed, "audit-revision-request", revision.number),
            )
        )
    return sorted(entries, key=lambda entry: entry.timestamp)


def audit_log_items(
    dataset: Dataset,
    style: str = OFFSET_STYLE,
    starting_on: Optional[datetime] = None,
    ending_before: Optional[datetime] = None,
    sort: str = "date_asc",
    resource_type: Optional[str] = None,
    resource_id: Optional[str] = None,
) -> List[Dict[str, Any]]:
    """GET /v1/auditLogs's full list for these parameters."""
    kept = [
        entry
        for entry in audit_entries(dataset)
        if (starting_on is None or entry.timestamp >= starting_on)
        and (ending_before is None or entry.timestamp < ending_before)
        and (resource_type is None or (entry.resource_type == resource_type and entry.resource_id == resource_id))
    ]
    if sort == "date_desc":
        kept.reverse()
    return [entry.as_api(style) for entry in kept]


def _entry(dataset: Dataset, seed: int, number: int, timestamp: datetime) -> AuditEntry:
    customers = dataset.customers
    customer = customers[number % len(customers)] if customers else None
    metrics = list(dataset.metrics.values())
    kind = number % 3
    if kind == 0 and customer is not None:
        action, resource_type, resource_id, description = "update_customer", "customer", customer.id, f"Updated customer {customer.name}"
    elif kind == 1 and metrics:
        metric = metrics[number % len(metrics)]
        action, resource_type, resource_id, description = "update_billable_metric", "billable_metric", metric.id, f"Updated billable metric {metric.name}"
    else:
        resource_id = seeded_uuid(seed, "audit-api-token", number)
        action, resource_type, description = "create_api_token", "api_token", "Created an API token"
    return AuditEntry(
        id=seeded_uuid(seed, "audit", number),
        timestamp=timestamp,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        description=description,
        actor=ACTORS[number % 2],
        request_id=seeded_uuid(seed, "audit-request", number),
    )


def serve_audit_logs(dataset: Dataset, style: str, request: Request) -> List[Dict[str, Any]]:
    """The handler endpoints.py routes to."""
    resource_type, resource_id = request.param("resource_type"), request.param("resource_id")
    if (resource_type is None) != (resource_id is None):
        raise ApiError(400, "resource_type and resource_id must be given together")
    window = (moment(name, request.param(name)) for name in ("starting_on", "ending_before"))
    return audit_log_items(dataset, style, *window, request.sort(), resource_type, resource_id)
