"""Responses thinned to what the spec guarantees. Prism's generator fills in every optional field
(json-schema-faker's alwaysFakeOptionals), yet the real API may leave any of them out."""

import random
from typing import Any, Mapping

from contract_tests.vendor_spec import VendorSpec


class OptionalFieldOmitter:
    """Drops each optional property, at every depth, with even odds, from a seeded generator so a
    failing run can be replayed."""

    def __init__(self, spec: VendorSpec, seed: int):
        self._spec = spec
        self._random = random.Random(seed)

    def thin(self, value: Any, schema: Mapping[str, Any]) -> Any:
        schema = self._spec.resolve(schema)
        if isinstance(value, list) and "items" in schema:
            return [self.thin(item, schema["items"]) for item in value]
        if not isinstance(value, dict):
            return value
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        extra_schema = schema.get("additionalProperties")
        thinned = {}
        for key, item in value.items():
            if key in properties:
                if key not in required and self._random.random() < 0.5:
                    continue
                thinned[key] = self.thin(item, properties[key])
            elif isinstance(extra_schema, Mapping):
                thinned[key] = self.thin(item, extra_schema)
            else:
                thinned[key] = item
        return thinned
