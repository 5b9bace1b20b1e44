"""Whether one request keeps to Metronome's spec: Prism's verdict, read from its answer, and the
checks Prism does not make (undeclared query parameters and body fields)."""

import json
from typing import Any, List, Mapping, Optional

import requests

from contract_tests.vendor_spec import Operation, VendorSpec


def prism_violations(response: requests.Response) -> List[str]:
    """Prism names what is wrong in the `sl-violations` header when the spec has an error response
    to answer with (GET costs declares 400), and in a 422 problem body when it has none."""
    violations = [_describe(violation) for violation in json.loads(response.headers.get("sl-violations") or "[]")]
    if response.status_code == 422:
        violations += [_describe(violation) for violation in _problem(response).get("validation", [])]
    if not response.ok and not violations:
        problem = _problem(response)
        violations.append(f"Prism answered {response.status_code}: {problem.get('title') or response.text[:300]}")
    return violations


# Query parameters the newer API declares (metronome-sdk 4.12, types/v1/) but the 2023 spec lacks,
# which the connector sends on purpose: `include_archived` on a customer's billable metrics, without
# which archived metrics and their usage history are left out (customer_list_billable_metrics_params.py).
DECLARED_BY_THE_SDK = {"GET /v1/customers/{customer_id}/billable-metrics": frozenset({"include_archived"})}


def undeclared_fields(spec: VendorSpec, operation: Operation, query: Mapping[str, Any], body: Optional[Any]) -> List[str]:
    """Prism accepts query parameters and body fields the spec never mentions, yet the real API may
    ignore them silently (or reject them): a request must use only what the spec (or, where newer,
    the SDK: DECLARED_BY_THE_SDK) declares."""
    declared = spec.query_parameters(operation) | DECLARED_BY_THE_SDK.get(operation.name, frozenset())
    violations = [f"query parameter {name!r} is not declared by {operation.name}" for name in sorted(set(query) - declared)]
    if isinstance(body, dict):
        violations += [
            f"body field {name!r} is not declared by {operation.name}"
            for name in sorted(set(body) - spec.body_properties(operation))
        ]
    return violations


def _problem(response: requests.Response) -> Mapping[str, Any]:
    try:
        problem = response.json()
    except ValueError:
        return {}
    return problem if isinstance(problem, dict) else {}


def _describe(violation: Mapping[str, Any]) -> str:
    location = ".".join(str(part) for part in violation.get("location", []))
    return f"{violation.get('severity', 'Error')}: {violation.get('message')} (at {location})"
