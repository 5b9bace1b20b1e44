"""Exact comparison of emitted records with the ground truth, and with their schemas, with failures
that say what differs."""

import json
from collections import Counter
from datetime import datetime
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from jsonschema import Draft7Validator, FormatChecker

from integration_tests.fake_metronome import cursors_of, primary_key, without_nulls
from integration_tests.fake_metronome.timestamps import format_timestamp

SHOWN = 5

# jsonschema leaves `date-time` unchecked unless an optional package is installed; a destination
# would still choke on a timestamp it cannot parse, so the check is made here (and in the contract
# tests' stream_schemas.py).
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time_with_offset(value: Any) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def assert_records_fit_schema(stream: str, schema: Mapping[str, Any], records: List[Mapping[str, Any]]) -> None:
    validator = Draft7Validator(schema, format_checker=FORMATS)
    problems = [f"{json.dumps(record)[:200]}: {error.message}" for record in records for error in validator.iter_errors(record)]
    assert not problems, f"{stream}: {len(problems)} schema problems, e.g. {problems[:3]}"


def assert_records_match(stream: str, actual: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]) -> None:
    """No duplicate primary keys, none missing, none extra, and every record equal to its expected
    twin (both without top-level nulls, as the CDK's serializer drops them)."""
    assert_records_within(stream, actual, expected)
    missing = sorted(_by_key(stream, expected).keys() - _by_key(stream, actual).keys(), key=str)
    assert not missing, f"{stream}: {len(missing)} records missing, e.g. {missing[:SHOWN]}"


def assert_records_within(stream: str, actual: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]) -> None:
    """No duplicate primary keys, none unexpected, and every emitted record equal to its expected
    twin; records may be missing (for syncs that may legitimately stop early)."""
    duplicates = [key for key, count in Counter(primary_key(stream, record) for record in actual).items() if count > 1]
    assert not duplicates, f"{stream}: {len(duplicates)} primary keys emitted more than once, e.g. {duplicates[:SHOWN]}"
    actual_by_key = _by_key(stream, actual)
    expected_by_key = _by_key(stream, expected)
    extra = sorted(actual_by_key.keys() - expected_by_key.keys(), key=str)
    assert not extra, f"{stream}: {len(extra)} unexpected records, e.g. {extra[:SHOWN]}"
    different = [(expected_by_key[key], actual_by_key[key]) for key in actual_by_key if expected_by_key[key] != actual_by_key[key]]
    assert not different, f"{stream}: {len(different)} records differ; (expected, emitted): {different[:SHOWN]}"


def _by_key(stream: str, records: Sequence[Mapping[str, Any]]) -> Dict[Tuple[Any, ...], Dict[str, Any]]:
    return {primary_key(stream, record): without_nulls(record) for record in records}


def changed_keys(stream: str, before: List[Mapping[str, Any]], after: List[Mapping[str, Any]]) -> List[Tuple[Any, ...]]:
    """Primary keys present in both record lists whose records differ."""
    earlier = _by_key(stream, before)
    later = _by_key(stream, after)
    return [key for key in later if key in earlier and earlier[key] != later[key]]


def assert_cursors_match(stream_states: Mapping[str, Mapping[str, Any]], expected: Mapping[str, Mapping[Tuple[str, ...], str]]) -> None:
    """Each stream's final per-partition state names exactly the expected partitions and cursors."""
    actual = {
        stream: {key: format_timestamp(cursor) for key, cursor in cursors_of(stream_states.get(stream)).items()} for stream in expected
    }
    assert actual == dict(expected)
