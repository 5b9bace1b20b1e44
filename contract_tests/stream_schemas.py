"""The connector's own stream schemas (source_metronome/schemas/*.json), as a destination would
apply them to every record."""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, List, Mapping

from jsonschema import Draft7Validator

import source_metronome
from integration_tests.record_checks import FORMATS

SCHEMAS_DIR = Path(source_metronome.__file__).resolve().parent / "schemas"


# FORMATS checks `date-time` too, as a destination would.
@lru_cache(maxsize=None)
def _validator(stream: str) -> Draft7Validator:
    return Draft7Validator(json.loads((SCHEMAS_DIR / f"{stream}.json").read_text()), format_checker=FORMATS)


def schema_problems(stream: str, record: Mapping[str, Any]) -> List[str]:
    return [f"{stream} record {json.dumps(record)[:300]}: {error.message} (at {'/'.join(map(str, error.absolute_path))})" for error in _validator(stream).iter_errors(record)]
