"""One PyAirbyte sync of source-metronome into a DuckDB file, then what the warehouse holds, as JSON.

Run with the PyAirbyte venv's python (`.venv-pyairbyte`, made by .ci/run), never the connector's:
PyAirbyte stays out of the connector's install. The connector runs as the console script given
with --executable, as PyAirbyte runs any locally installed connector. A second run on the same
--db resumes from the state PyAirbyte saved there, so it is an incremental sync.

    .venv-pyairbyte/bin/python integration_tests/warehouse/sync_to_duckdb.py \
        --executable .venv/bin/source-metronome --config secrets/config.json --db metronome.duckdb

The last line of stdout is one JSON object: the write method PyAirbyte chose per stream, the
records it processed, each stream's table (row count, distinct primary keys, rows sorted by
primary key, timestamps in ISO form, and each column's DuckDB type), and the state saved for the
next sync.
"""

import argparse
import json
import os
import sys
from datetime import date, datetime
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any, Dict, List

DEFAULT_STREAMS = ["usage_with_groups", "customer_costs"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executable", required=True, help="the source-metronome console script to run")
    parser.add_argument("--config", required=True, type=Path, help="the connector's config.json")
    parser.add_argument("--db", required=True, type=Path, help="the DuckDB file (created if missing)")
    parser.add_argument("--streams", nargs="+", default=DEFAULT_STREAMS)
    parser.add_argument("--write-strategy", default="auto", choices=["auto", "merge", "append", "replace"])
    arguments = parser.parse_args()

    # PyAirbyte keeps logs, temp files and its default cache under the working directory unless
    # told otherwise, and calls home unless offline: everything goes beside the DuckDB file.
    work_dir = arguments.db.absolute().parent
    os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    for variable in ("AIRBYTE_PROJECT_DIR", "AIRBYTE_LOGGING_ROOT", "AIRBYTE_TEMP_DIR"):
        os.environ.setdefault(variable, str(work_dir / "pyairbyte"))
    (work_dir / "pyairbyte").mkdir(parents=True, exist_ok=True)

    import airbyte as ab
    from airbyte.caches import DuckDBCache
    from airbyte.shared.catalog_providers import CatalogProvider
    from airbyte.strategies import WriteStrategy

    source = ab.get_source(
        "source-metronome",
        local_executable=arguments.executable,
        config=json.loads(arguments.config.read_text()),
        streams=arguments.streams,
    )
    cache = DuckDBCache(db_path=arguments.db, schema_name="main")
    catalog = CatalogProvider(source.get_configured_catalog())
    write_methods = {
        stream: catalog.resolve_write_method(stream, WriteStrategy(arguments.write_strategy)).value for stream in arguments.streams
    }

    result = source.read(cache=cache, write_strategy=arguments.write_strategy)

    state_provider = cache.get_state_provider(source_name=source.name)
    report = {
        "pyairbyte_version": version("airbyte"),
        "write_methods": write_methods,
        "primary_keys": {stream: catalog.get_primary_keys(stream) for stream in arguments.streams},
        "processed_records": result.processed_records,
        "tables": {stream: table_report(cache, stream, catalog.get_primary_keys(stream)) for stream in arguments.streams},
        "state": {
            stream: json.loads(state_provider.get_stream_state(stream).stream.stream_state.model_dump_json())
            for stream in arguments.streams
            if stream in state_provider.known_stream_names
        },
    }
    print(json.dumps(report, default=json_value))


def table_report(cache: Any, stream: str, primary_key: List[str]) -> Dict[str, Any]:
    """What a warehouse user would query: the stream's table, counted and listed by primary key."""
    table = cache.processor.get_sql_table_name(stream)
    key = ", ".join(f'"{column}"' for column in primary_key)
    counts = run_query(cache, f"SELECT COUNT(*) AS row_count, COUNT(DISTINCT ({key})) AS distinct_keys FROM main.{table}")[0]
    rows = run_query(cache, f"SELECT * EXCLUDE (_airbyte_raw_id, _airbyte_meta) FROM main.{table} ORDER BY {key}")
    types = run_query(cache, f"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = '{table}'")
    return {"table": table, **counts, "rows": rows, "column_types": {row["column_name"]: row["data_type"] for row in types}}


def run_query(cache: Any, sql: str) -> List[Dict[str, Any]]:
    return [{column: json_value(value) for column, value in row.items()} for row in cache.run_sql_query(sql)]


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


if __name__ == "__main__":
    sys.exit(main())
