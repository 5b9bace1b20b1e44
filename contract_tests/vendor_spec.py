"""Metronome's published OpenAPI spec (2023) as the contract tests read it: re-based under /v1,
each request matched to its operation, and each operation's declared parameters and schemas."""

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Pattern, Set, Tuple

# Metronome's published OpenAPI spec of 2023, copied verbatim and kept in the
# repository so the contract holds wherever the repository is checked out.
SPEC_PATH = Path(__file__).resolve().parent / "openapi-2023.json"
# The spec's server is https://api.metronome.com/v1, so its paths lack the prefix every real request has.
API_PREFIX = "/v1"


class SpecMissing(Exception):
    pass


def load_rebased_spec(path: Path = SPEC_PATH) -> Dict[str, Any]:
    """The vendor's document with every path under /v1, the form Prism must serve. The file
    itself is never changed."""
    if not path.is_file():
        raise SpecMissing(f"Metronome's OpenAPI spec is not at {path}: restore contract_tests/openapi-2023.json from the repository (git checkout -- contract_tests/openapi-2023.json).")
    spec = json.loads(path.read_text())
    rebased = copy.deepcopy(spec)
    rebased["paths"] = {API_PREFIX + template: item for template, item in spec["paths"].items()}
    # Prism routes by the paths alone; the server entry is only kept truthful for other readers.
    rebased["servers"] = [{"url": "http://127.0.0.1"}]
    return rebased


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    definition: Mapping[str, Any]
    path_item: Mapping[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


class VendorSpec:
    def __init__(self, document: Mapping[str, Any]):
        self.document = document
        # A literal segment beats a parameter: /v1/customers/archive is not /v1/customers/{customer_id}.
        templates = sorted(document["paths"], key=lambda template: template.count("{"))
        self._routes: List[Tuple[Pattern[str], str]] = [
            (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"), template) for template in templates
        ]

    def operation(self, method: str, path: str) -> Optional[Operation]:
        for pattern, template in self._routes:
            path_item = self.document["paths"][template]
            if pattern.match(path) and method.lower() in path_item:
                return Operation(method.upper(), template, path_item[method.lower()], path_item)
        return None

    def declares(self, method: str, template: str) -> bool:
        """Whether the spec has this very endpoint: the same path template (whatever its parameters
        are named) and method. Unlike `operation`, a concrete path is not matched: the declared
        /v1/customers/{customer_id}/invoices/breakdowns is not the spec's .../invoices/{invoice_id}."""
        shape = _template_shape(template)
        return any(_template_shape(known) == shape and method.lower() in item for known, item in self.document["paths"].items())

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        # OpenAPI 3.0 ignores a $ref's siblings (Costs.credit_types has `type` beside its $ref).
        while "$ref" in schema:
            node: Any = self.document
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def query_parameters(self, operation: Operation) -> Set[str]:
        declared = [*operation.path_item.get("parameters", []), *operation.definition.get("parameters", [])]
        return {parameter["name"] for parameter in map(self.resolve, declared) if parameter["in"] == "query"}

    def body_properties(self, operation: Operation) -> Set[str]:
        content = operation.definition.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            return set()
        return set(self.resolve(content["schema"]).get("properties", {}))

    def success_schema(self, operation: Operation) -> Mapping[str, Any]:
        return self.resolve(operation.definition["responses"]["200"]["content"]["application/json"]["schema"])


def _template_shape(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", template)
