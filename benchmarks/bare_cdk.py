"""The CDK's own cost per record, as a yardstick for benchmarks.speed's `cpu` scenario: a source
whose one stream yields ready-made records of usage_with_groups' shape, with no HTTP at all.

    .venv/bin/python -m benchmarks.bare_cdk [--records 182000]

Prints records per CPU-second of a `read` in a child process (startup included, as in speed.py).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, List, Mapping, Optional, Tuple

from airbyte_cdk.entrypoint import launch
from airbyte_cdk.models import ConnectorSpecification, SyncMode
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream

from integration_tests.connector_cli import configured_catalog, write_json

RECORD = {
    "starting_on": "2024-03-01T00:00:00+00:00",
    "ending_before": "2024-03-02T00:00:00+00:00",
    "group_key": "region",
    "group_value": "region-a",
    "value": 42.0,
    "customer_id": "04ca7e72-4229-4a6e-ab11-9f7376fccbcb",
    "billable_metric_id": "222796fd-d29c-429e-89b2-549fabda4ed6",
    "billable_metric_name": "API calls",
    "window_size": "DAY",
    "group_id": '{"region":"region-a"}',
}


class ReadyMadeRecords(Stream):
    name = "usage_with_groups"
    primary_key = None

    def __init__(self, count: int):
        self._count = count

    def read_records(self, sync_mode: SyncMode, cursor_field: Optional[List[str]] = None, stream_slice: Optional[Mapping[str, Any]] = None, stream_state: Optional[Mapping[str, Any]] = None) -> Iterable[Mapping[str, Any]]:
        for _ in range(self._count):
            yield dict(RECORD)

    def get_json_schema(self) -> Mapping[str, Any]:
        return {"type": "object"}


class BareSource(AbstractSource):
    def __init__(self, count: int):
        self._count = count

    def spec(self, logger: Any) -> ConnectorSpecification:
        return ConnectorSpecification(connectionSpecification={"type": "object"})

    def check_connection(self, logger: Any, config: Mapping[str, Any]) -> Tuple[bool, Optional[Any]]:
        return True, None

    def streams(self, config: Mapping[str, Any]) -> List[Stream]:
        return [ReadyMadeRecords(self._count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=182_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("airbyte_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        launch(BareSource(args.records), args.airbyte_args)
        return
    with tempfile.TemporaryDirectory() as folder:
        config = write_json(Path(folder) / "config.json", {})
        catalog = write_json(Path(folder) / "catalog.json", configured_catalog({"usage_with_groups": "full_refresh"}))
        with open(os.devnull, "wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.bare_cdk", "--records", str(args.records), "--child", "read", "--config", str(config), "--catalog", str(catalog)],
                stdout=sink,
            )
            _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the bare source failed; run it with --child to see why")
    cpu = usage.ru_utime + usage.ru_stime
    print(f"bare CDK stream: {args.records} records in {cpu:.2f} CPU-s: {args.records / cpu:,.0f} records per CPU-second")


if __name__ == "__main__":
    main()
