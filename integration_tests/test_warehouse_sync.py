"""The connector as a warehouse user runs it: PyAirbyte syncs it into DuckDB, a full sync and then an
incremental one after late events, and the tables are queried and compared with the ground truth.

PyAirbyte lives in its own venv (.venv-pyairbyte, made by .ci/run), never in the connector's:
integration_tests/warehouse/sync_to_duckdb.py runs there, drives this venv's source-metronome
console script against the fake Metronome started here, and prints what the tables hold.
"""

import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence

import pytest

from integration_tests.conftest import connector_config
from integration_tests.connector_cli import NOW_OVERRIDE_ENV, connector_command, write_json
from integration_tests.fake_metronome import (
    AUDIT_LOGS,
    CONTRACTS,
    COSTS,
    INVOICE_LINE_ITEMS,
    INVOICES,
    USAGE,
    DatasetOptions,
    FakeMetronome,
    expected_records,
    primary_key,
    without_nulls,
)
from integration_tests.fake_metronome.ground_truth import PRIMARY_KEYS
from integration_tests.record_checks import assert_records_match, changed_keys

ROOT = Path(__file__).resolve().parent.parent
SYNC_SCRIPT = Path(__file__).parent / "warehouse" / "sync_to_duckdb.py"
REQUIREMENTS = SYNC_SCRIPT.parent / "requirements.txt"
PYAIRBYTE_PYTHON = Path(os.environ.get("PYAIRBYTE_PYTHON", ROOT / ".venv-pyairbyte" / "bin" / "python"))
CREATE_VENV = f"python3 -m venv .venv-pyairbyte && .venv-pyairbyte/bin/pip install -r {REQUIREMENTS.relative_to(ROOT)}"
TIMESTAMP_FIELDS = {USAGE: ("starting_on", "ending_before"), COSTS: ("start_timestamp", "end_timestamp")}
SYNC_TIMEOUT_SECONDS = 300

DATASET = DatasetOptions(customers=3, metrics_per_customer=3, days_of_history=10, late_days=3)
SETTINGS = {"start_date": "2024-03-05", "lookback_days": 2, "group_by": {"key": "region"}}


@pytest.fixture(scope="module")
def pyairbyte_python() -> Path:
    """The PyAirbyte venv's python, which `make test` makes. A skip only when no venv was made and
    pytest runs outside CI; a venv without PyAirbyte (a failed install) is a failure."""
    message = f"PyAirbyte is not installed at {PYAIRBYTE_PYTHON}; create it from the repository root with: {CREATE_VENV}"
    if not PYAIRBYTE_PYTHON.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    if subprocess.run([str(PYAIRBYTE_PYTHON), "-c", "import airbyte.caches"], capture_output=True).returncode:
        pytest.fail(message)
    return PYAIRBYTE_PYTHON


def sync_to_duckdb(pyairbyte_python: Path, fake: FakeMetronome, db: Path, streams: Sequence[str] = (USAGE, COSTS)) -> Dict[str, Any]:
    """One PyAirbyte sync into `db` at the fake's "now"; what the script reports of the tables."""
    config = write_json(db.parent / "config.json", connector_config(fake, SETTINGS))
    command = [str(pyairbyte_python), str(SYNC_SCRIPT), "--executable", str(connector_command()), "--config", str(config), "--db", str(db)]
    completed = subprocess.run(
        [*command, "--streams", *streams],
        capture_output=True,
        text=True,
        timeout=SYNC_TIMEOUT_SECONDS,
        env={**os.environ, NOW_OVERRIDE_ENV: fake.now.isoformat(), "AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1"},
    )
    assert completed.returncode == 0, f"the PyAirbyte sync failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    assert fake.token not in completed.stdout + completed.stderr, "the API token appeared in PyAirbyte's output"
    return json.loads(completed.stdout.splitlines()[-1])


def warehouse_records(report: Mapping[str, Any], stream: str) -> List[Dict[str, Any]]:
    """The table's rows as the connector's records: PyAirbyte's columns left out, timestamps (naive
    UTC in DuckDB) in the connector's +00:00 form, null columns absent as the CDK leaves them out."""
    records = []
    for row in report["tables"][stream]["rows"]:
        record = {column: value for column, value in row.items() if not column.startswith("_airbyte_") and value is not None}
        for field in TIMESTAMP_FIELDS[stream]:
            moment = datetime.fromisoformat(record[field])
            record[field] = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()
        records.append(record)
    return records


def test_given_a_full_then_a_late_data_incremental_sync_into_duckdb_then_tables_match_the_ground_truth_and_rereads_replace_rows(
    pyairbyte_python, start_fake, tmp_path
):
    fake = start_fake(DATASET)
    db = tmp_path / "metronome.duckdb"

    first = sync_to_duckdb(pyairbyte_python, fake, db)
    first_expected = expected_records(fake.dataset, SETTINGS)

    # PyAirbyte's 'auto' write strategy merges on the connector's primary keys.
    assert first["write_methods"] == {USAGE: "merge", COSTS: "merge"}
    assert first["primary_keys"] == {stream: list(PRIMARY_KEYS[stream]) for stream in (USAGE, COSTS)}
    for stream in (USAGE, COSTS):
        table = first["tables"][stream]
        assert table["row_count"] == table["distinct_keys"] == len(first_expected[stream]) > 0
        assert_records_match(stream, warehouse_records(first, stream), first_expected[stream])

    fake.advance(days=2)
    fake.revision = 1
    second = sync_to_duckdb(pyairbyte_python, fake, db)
    reread = expected_records(fake.dataset, SETTINGS, state=first["state"])

    assert second["processed_records"] == len(reread[USAGE]) + len(reread[COSTS])
    for stream in (USAGE, COSTS):
        merged = {primary_key(stream, record): record for record in first_expected[stream] + reread[stream]}
        table = second["tables"][stream]
        assert table["row_count"] == table["distinct_keys"] == len(merged), f"{stream}: rows duplicated or lost by the merge"
        assert_records_match(stream, warehouse_records(second, stream), list(merged.values()))
        # The lookback re-read rows the first sync wrote: those rows now carry the second sync's
        # extraction time, and only those (with the new days) do.
        replaced = {primary_key(stream, record) for record in reread[stream]} & {
            primary_key(stream, record) for record in first_expected[stream]
        }
        assert replaced, f"{stream}: the second sync re-read no row of the first"
        first_extracted = max(extracted_at(row) for row in first["tables"][stream]["rows"])
        touched = [row for row in table["rows"] if extracted_at(row) > first_extracted]
        assert len(touched) == len(reread[stream])
    late = changed_keys(USAGE, first_expected[USAGE], reread[USAGE])
    assert late, "late events should change usage rows the first sync had written"
    in_warehouse = {primary_key(USAGE, record): record for record in warehouse_records(second, USAGE)}
    in_reread = {primary_key(USAGE, record): without_nulls(record) for record in reread[USAGE]}
    assert all(in_warehouse[key] == in_reread[key] for key in late), "a late-changed row kept its old values"


def extracted_at(row: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(row["_airbyte_extracted_at"])


MONEY_TABLES = (INVOICES, INVOICE_LINE_ITEMS, CONTRACTS, AUDIT_LOGS)


def test_given_money_tables_synced_twice_into_duckdb_then_fields_are_typed_columns_and_finalized_drafts_replace_their_rows(
    pyairbyte_python, start_fake, tmp_path
):
    fake = start_fake(DATASET)
    db = tmp_path / "money.duckdb"

    first = sync_to_duckdb(pyairbyte_python, fake, db, MONEY_TABLES)
    fake.revision = 1
    second = sync_to_duckdb(pyairbyte_python, fake, db, MONEY_TABLES)

    expected = expected_records(fake.dataset, SETTINGS)
    for stream in (INVOICES, INVOICE_LINE_ITEMS, CONTRACTS):
        table = second["tables"][stream]
        assert table["row_count"] == table["distinct_keys"] == len(expected[stream]) > 0, f"{stream}: rows duplicated or lost"
    statuses = {row["id"]: row["status"] for row in second["tables"][INVOICES]["rows"]}
    # Every row holds the invoice's status at the second sync, and drafts the fake finalized since
    # replaced their rows (an archived customer's open draft stays a draft).
    assert statuses == {invoice["id"]: invoice["status"] for invoice in expected[INVOICES]}
    drafts_before = [row["id"] for row in first["tables"][INVOICES]["rows"] if row["status"] == "DRAFT"]
    assert any(statuses[invoice_id] != "DRAFT" for invoice_id in drafts_before)
    # Top-level fields are typed columns; nested objects stay JSON.
    invoice_types = second["tables"][INVOICES]["column_types"]
    assert invoice_types["total"].startswith(("DECIMAL", "DOUBLE")) and invoice_types["status"] == "VARCHAR"
    assert invoice_types["line_items"] == "JSON" and invoice_types["start_timestamp"].startswith("TIMESTAMP")
    assert second["tables"][INVOICE_LINE_ITEMS]["column_types"]["credit_type"] == "JSON"
    assert second["tables"][AUDIT_LOGS]["row_count"] == second["tables"][AUDIT_LOGS]["distinct_keys"] > 0
