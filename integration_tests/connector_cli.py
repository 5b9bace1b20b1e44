"""The connector's real command line (`source-metronome spec|check|discover|read`), run as Airbyte
runs it: a process given files, answering with one Airbyte message per line. Shared by the
integration tests, the contract tests and the benchmarks. A run to its end is a child forked from a
warm process with the connector imported (integration_tests/forked_connector.py says why); a run
killed mid-sync starts the installed console script."""

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import orjson
from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer, Type

from source_metronome.endpoints import STREAMS
# The connector reads its clock from this variable, so a sync runs at the fake server's frozen "now".
from source_metronome.windows import NOW_OVERRIDE_ENV

TIMEOUT_SECONDS = 120
# The cursor field of each incremental stream, as Airbyte's configured catalog names it: the declared one.
CURSOR_FIELDS = {endpoint.name: [endpoint.cursor] for endpoint in STREAMS if endpoint.cursor}


def connector_command() -> Path:
    """The console script installed next to the interpreter running the tests."""
    return Path(sys.executable).parent / "source-metronome"


@dataclass
class ConnectorRun:
    returncode: int
    stdout: str
    stderr: str
    # Each stdout line, parsed twice: the protocol model proves it is a valid Airbyte message, the
    # raw JSON keeps it as emitted (state messages are passed back to the next sync as they are).
    messages: List[AirbyteMessage] = field(default_factory=list)
    raw_messages: List[Dict[str, Any]] = field(default_factory=list)
    # spec, check, discover or read.
    command: str = ""

    def records(self, stream: str) -> List[Dict[str, Any]]:
        return [raw["record"]["data"] for raw in self.raw_messages if raw["type"] == "RECORD" and raw["record"]["stream"] == stream]

    def last_states(self) -> Dict[str, Dict[str, Any]]:
        """The last STATE message per stream, as emitted: what Airbyte would save for the next sync."""
        states = {}
        for raw in self.raw_messages:
            if raw["type"] == "STATE":
                states[raw["state"]["stream"]["stream_descriptor"]["name"]] = raw["state"]
        return states

    def stream_states(self) -> Dict[str, Dict[str, Any]]:
        return {stream: state["stream"]["stream_state"] for stream, state in self.last_states().items()}

    def of_type(self, message_type: Type) -> List[AirbyteMessage]:
        return [message for message in self.messages if message.type == message_type]

    def raw_of_type(self, message_type: str) -> List[Dict[str, Any]]:
        """The messages of a type ("CATALOG", "STATE", ...) as emitted."""
        return [raw for raw in self.raw_messages if raw["type"] == message_type]

    def log_messages(self, level: Optional[str] = None) -> List[str]:
        """The LOG messages' text, of one level ("WARN", "INFO", ...) when given."""
        return [raw["log"]["message"] for raw in self.raw_of_type("LOG") if level in (None, raw["log"]["level"])]

    def error_messages(self) -> List[str]:
        return [message.trace.error.message for message in self.of_type(Type.TRACE) if message.trace.error]

    def describe(self) -> str:
        """What to show when a run went wrong: its errors, last log lines and stderr."""
        logs = self.log_messages()[-10:]
        return f"`{self.command}` exited {self.returncode}\nerrors: {self.error_messages()}\nlast logs: {logs}\nstderr: {self.stderr[-2000:]}"


def run_connector(arguments: Sequence[str], now: datetime, env: Optional[Mapping[str, str]] = None) -> ConnectorRun:
    """Runs the command line to its end in a child of a warm process (integration_tests/forked_connector.py)."""
    with tempfile.TemporaryDirectory(prefix="connector-run-") as outputs:
        stdout_path, stderr_path = Path(outputs) / "stdout", Path(outputs) / "stderr"
        returncode = _WARM_STARTS.run(arguments, {**os.environ, **(env or {}), NOW_OVERRIDE_ENV: now.isoformat()}, stdout_path, stderr_path)
        run = ConnectorRun(returncode, stdout_path.read_text(), stderr_path.read_text(), command=arguments[0])
    for line in run.stdout.splitlines():
        _add_message(run, line)
    return run


class _WarmStart:
    """One forked_connector process, which runs one command line at a time."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            # Run by path, not with -m: it then starts from any working directory, as the console script does.
            [sys.executable, str(Path(__file__).with_name("forked_connector.py"))], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run(self, arguments: Sequence[str], env: Mapping[str, str], stdout: Path, stderr: Path) -> int:
        request = {"arguments": list(arguments), "env": dict(env), "stdout": str(stdout), "stderr": str(stderr)}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        pid = self._reply()["pid"]
        # The answer comes when the child ends; a child running past the timeout is killed, as
        # subprocess.run's timeout would.
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            os.kill(pid, signal.SIGKILL)

        timer = threading.Timer(TIMEOUT_SECONDS, kill)
        timer.start()
        try:
            returncode = self._reply()["returncode"]
        finally:
            timer.cancel()
        if expired.is_set():
            raise subprocess.TimeoutExpired(["source-metronome", *arguments], TIMEOUT_SECONDS)
        return returncode

    def _reply(self) -> Dict[str, int]:
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"integration_tests/forked_connector.py exited with {self._process.wait()}")
        return json.loads(line)

    def stop(self) -> None:
        self._process.stdin.close()
        self._process.wait()


class _WarmStarts:
    """A warm process per command line running at the same time (tests may run syncs side by side)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: List[_WarmStart] = []
        self._started: List[_WarmStart] = []

    def run(self, arguments: Sequence[str], env: Mapping[str, str], stdout: Path, stderr: Path) -> int:
        with self._lock:
            warm = self._idle.pop() if self._idle else self._start()
        try:
            return warm.run(arguments, env, stdout, stderr)
        finally:
            with self._lock:
                self._idle.append(warm)

    def _start(self) -> _WarmStart:
        warm = _WarmStart()
        self._started.append(warm)
        return warm

    def stop(self) -> None:
        for warm in self._started:
            warm.stop()


_WARM_STARTS = _WarmStarts()
atexit.register(_WARM_STARTS.stop)


def run_connector_killed_after(
    arguments: Sequence[str], now: datetime, lines: int, stderr_path: Path, at: Optional[Callable[[Dict[str, Any]], bool]] = None
) -> ConnectorRun:
    """Runs the connector and SIGKILLs it once it has printed `lines` lines (and, with `at`, at the
    first message from there on that `at` accepts), as a crashed worker or an evicted pod would stop
    it; the run holds what was printed before the kill (a destination would have received exactly
    that). A run that ends first is returned whole."""
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [str(connector_command()), *arguments],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, NOW_OVERRIDE_ENV: now.isoformat()},
        )
        run = ConnectorRun(0, "", "", command=arguments[0])
        # Joined once at the end: adding each line to a string copies it whole, line after line.
        printed: List[str] = []
        for count, line in enumerate(process.stdout, start=1):
            printed.append(line)
            _add_message(run, line)
            if count >= lines and (at is None or at(run.raw_messages[-1])):
                process.kill()
                break
        process.stdout.close()
        run.stdout = "".join(printed)
        run.returncode = process.wait(timeout=TIMEOUT_SECONDS)
    run.stderr = stderr_path.read_text()
    return run


def _add_message(run: ConnectorRun, line: str) -> None:
    raw = orjson.loads(line)
    run.raw_messages.append(raw)
    run.messages.append(AirbyteMessageSerializer.load(raw))


def run_with_files(
    command: str,
    config: Mapping[str, Any],
    workdir: Path,
    now: datetime,
    catalog: Optional[Mapping[str, Any]] = None,
    state: Optional[Sequence[Mapping[str, Any]]] = None,
    prefix: str = "",
) -> ConnectorRun:
    """Runs `command` with its config (and catalog and state messages, when given) written to files
    in workdir, named after prefix (config.json, catalog.json, state.json without one)."""
    arguments = [command, "--config", str(write_json(workdir / f"{prefix}config.json", config))]
    if catalog is not None:
        arguments += ["--catalog", str(write_json(workdir / f"{prefix}catalog.json", catalog))]
    if state is not None:
        arguments += ["--state", str(write_json(workdir / f"{prefix}state.json", state))]
    return run_connector(arguments, now=now)


def configured_catalog(sync_modes: Mapping[str, str]) -> Dict[str, Any]:
    """A configured catalog reading each named stream in its sync mode ("incremental" or "full_refresh")."""
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": sync_mode,
                "cursor_field": CURSOR_FIELDS.get(name, []) if sync_mode == "incremental" else [],
                "destination_sync_mode": "append_dedup" if sync_mode == "incremental" else "overwrite",
            }
            for name, sync_mode in sync_modes.items()
        ]
    }


def write_json(path: Path, content: Any) -> Path:
    path.write_text(json.dumps(content, indent=2))
    return path
