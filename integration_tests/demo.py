"""The connector end to end against the fake Metronome, for a human to watch (`make demo`).

Starts the fake on 127.0.0.1, runs the connector's command line: spec, check, discover, a first
incremental read, then (a day later, with late events delivered) a second read from the saved
state. Prints a short summary and leaves each command's raw Airbyte messages in demo_output/.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional

from airbyte_cdk.models import Type

from integration_tests.connector_cli import ConnectorRun, configured_catalog, run_connector, write_json
from integration_tests.fake_metronome import COSTS, USAGE, DatasetOptions, FakeMetronome, expected_records
from integration_tests.record_checks import assert_records_match, changed_keys

OUTPUT = Path("demo_output")
DATASET = DatasetOptions(seed=7, customers=4, metrics_per_customer=3, days_of_history=14, archived_share=0.25, null_share=0.05)
SETTINGS = {"start_date": "2024-03-08", "window_size": "DAY", "group_by": {"key": "region"}, "lookback_days": 3, "page_size": 25}


def main() -> int:
    OUTPUT.mkdir(exist_ok=True)
    with FakeMetronome(DATASET, token="demo-token") as fake:
        print(f"Fake Metronome at {fake.url}, its clock at {fake.now.isoformat()}")
        config = write_json(OUTPUT / "config.json", {"api_token": fake.token, "base_url": fake.url, **SETTINGS})
        catalog = write_json(OUTPUT / "catalog.json", configured_catalog({USAGE: "incremental", COSTS: "incremental"}))

        spec = _run(fake, "1-spec", ["spec"])
        print(f"spec: {len(spec.of_type(Type.SPEC))} SPEC message")
        check = _run(fake, "2-check", ["check", "--config", str(config)])
        print(f"check: {check.of_type(Type.CONNECTION_STATUS)[0].connectionStatus.status.value}")
        discover = _run(fake, "3-discover", ["discover", "--config", str(config)])
        print(f"discover: streams {', '.join(stream.name for stream in discover.of_type(Type.CATALOG)[0].catalog.streams)}")

        first = _read(fake, "4-read", config, catalog, state=None)
        state_messages = list(first.last_states().values())
        state = write_json(OUTPUT / "state.json", state_messages)

        fake.advance(days=1)
        fake.revision = 1
        print(f"\nA day later ({fake.now.isoformat()}), with late events backdated up to {DATASET.late_days} days:")
        second = _read(fake, "5-read-incremental", config, catalog, state=state)
        changed = changed_keys(USAGE, first.records(USAGE), second.records(USAGE))
        print(f"  {len(changed)} usage records read again carry new values (late events, and the day that was in progress)")
    print(f"\nRaw Airbyte messages: {OUTPUT}/*.jsonl; the saved state: {state}")
    return 0


def _run(fake: FakeMetronome, name: str, arguments: List[str]) -> ConnectorRun:
    run = run_connector(arguments, now=fake.now)
    (OUTPUT / f"{name}.jsonl").write_text(run.stdout)
    if run.returncode != 0:
        raise SystemExit(f"{name} failed: {run.error_messages() or run.stderr[-2000:]}")
    return run


def _read(fake: FakeMetronome, name: str, config: Path, catalog: Path, state: Optional[Path]) -> ConnectorRun:
    saved = {message["stream"]["stream_descriptor"]["name"]: message["stream"]["stream_state"] for message in json.loads(state.read_text())} if state else None
    fake.reset_requests()
    run = _run(fake, name, ["read", "--config", str(config), "--catalog", str(catalog), *(["--state", str(state)] if state else [])])
    expected = expected_records(fake.dataset, SETTINGS, state=saved)
    requests = Counter(_endpoint(request.path) for request in fake.requests)
    print(f"read{' from the saved state' if state else ''}:")
    for stream in (USAGE, COSTS):
        records = run.records(stream)
        assert_records_match(stream, records, expected[stream])
        days = sorted({record.get("starting_on") or record.get("start_timestamp") for record in records})
        print(f"  {stream}: {len(records)} records over {days[0][:10]} .. {days[-1][:10]}, as the ground truth expects")
    print(f"  requests: {sum(requests.values())} ({', '.join(f'{count} {endpoint}' for endpoint, count in requests.items())})")
    for stream, stream_state in run.stream_states().items():
        print(f"  state of {stream}: {len(stream_state['states'])} partitions, cursors at {_cursors(stream_state)}")
    return run


def _endpoint(path: str) -> str:
    # Counted per endpoint, not per customer.
    return re.sub(r"^/v1/customers/[^/]+/", "/v1/customers/{id}/", path)


def _cursors(stream_state: Dict[str, Any]) -> str:
    return ", ".join(sorted({value for entry in stream_state["states"] for value in entry["cursor"].values()}))


if __name__ == "__main__":
    sys.exit(main())
