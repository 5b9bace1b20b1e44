"""The connector's real command line (`source-metronome check|discover|read`), run as Airbyte runs
it: a subprocess given files, answering with one Airbyte message per line."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

# Installed beside the interpreter running the tests, by `pip install -e .`.
CONSOLE_SCRIPT = Path(sys.executable).parent / "source-metronome"
# The connector's clock, frozen so every run asks for the same days.
NOW = "2024-01-10T12:00:00+00:00"
CURSOR_FIELDS = {"usage_with_groups": ["ending_before"], "customer_costs": ["end_timestamp"], "customer_cost_line_items": ["end_timestamp"]}
RUN_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class ConnectorRun:
    command: str
    exit_code: int
    messages: List[Mapping[str, Any]]
    stderr: str

    def records(self, stream: str) -> List[Mapping[str, Any]]:
        return [message["record"]["data"] for message in self.messages if message["type"] == "RECORD" and message["record"]["stream"] == stream]

    def of_type(self, message_type: str) -> List[Mapping[str, Any]]:
        return [message for message in self.messages if message["type"] == message_type]

    def errors(self) -> List[str]:
        return [message["trace"]["error"]["message"] for message in self.of_type("TRACE") if message["trace"].get("type") == "ERROR"]

    def describe(self) -> str:
        """What to show when a run went wrong: its errors, last log lines and stderr."""
        logs = [message["log"]["message"] for message in self.of_type("LOG")][-10:]
        return f"`{self.command}` exited {self.exit_code}\nerrors: {self.errors()}\nlast logs: {logs}\nstderr: {self.stderr[-2000:]}"


def run_connector(
    command: str,
    config: Mapping[str, Any],
    workdir: Path,
    catalog: Optional[Mapping[str, Any]] = None,
    state: Optional[Sequence[Mapping[str, Any]]] = None,
) -> ConnectorRun:
    arguments = [str(CONSOLE_SCRIPT), command, "--config", _write(workdir / "config.json", config)]
    if catalog is not None:
        arguments += ["--catalog", _write(workdir / "catalog.json", catalog)]
    if state is not None:
        arguments += ["--state", _write(workdir / "state.json", state)]
    environment = {**os.environ, "SOURCE_METRONOME_NOW": NOW}
    completed = subprocess.run(arguments, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, env=environment)
    messages = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return ConnectorRun(command, completed.returncode, messages, completed.stderr)


def configured_catalog(*streams: str, sync_mode: str = "full_refresh") -> Dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": sync_mode,
                "cursor_field": CURSOR_FIELDS[stream] if sync_mode == "incremental" else [],
                "destination_sync_mode": "append" if sync_mode == "incremental" else "overwrite",
            }
            for stream in streams
        ]
    }


def _write(path: Path, content: Any) -> str:
    path.write_text(json.dumps(content))
    return str(path)
