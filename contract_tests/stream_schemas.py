"""The connector's own stream schemas (source_metronome/schemas/*.json), as a destination would
apply them to every record."""

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, List, Mapping

from jsonschema import Draft7Validator, FormatChecker

import source_metronome

SCHEMAS_DIR = Path(source_metronome.__file__).resolve().parent / "schemas"

# jsonschema leaves `date-time` unchecked unless an optional package is installed; a destination
# would still choke on a timestamp it cannot parse, so the check is made here.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time_with_offset(value: Any) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@lru_cache(maxsize=None)
def _validator(stream: str) -> Draft7Validator:
    return Draft7Validator(json.loads((SCHEMAS_DIR / f"{stream}.json").read_text()), format_checker=FORMATS)


def schema_problems(stream: str, record: Mapping[str, Any]) -> List[str]:
    return [f"{stream} record {json.dumps(record)[:300]}: {error.message} (at {'/'.join(map(str, error.absolute_path))})" for error in _validator(stream).iter_errors(record)]
