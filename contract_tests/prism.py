"""Stoplight Prism, the mock of Metronome's spec: found where `npm ci --prefix contract_tests`
installs it, started on a free port of 127.0.0.1, and stopped again."""

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, List, Mapping, Optional

import requests

CONTRACT_TESTS_DIR = Path(__file__).resolve().parent
PRISM_BIN = CONTRACT_TESTS_DIR / "node_modules" / ".bin" / "prism"
INSTALL_HINT = "npm ci --prefix contract_tests"
# Prism loads the whole spec before it listens: about 2 s here, far more on a loaded machine.
STARTUP_DEADLINE_SECONDS = 60
STOP_DEADLINE_SECONDS = 10


class PrismUnavailable(Exception):
    pass


def locate_prism(binary: Path = PRISM_BIN) -> Path:
    if not binary.exists():
        raise PrismUnavailable(
            f"Stoplight Prism is not installed at {binary}: run `{INSTALL_HINT}` (it needs the npm registry and Node.js). "
            "The contract tests cannot check the connector against Metronome's spec without it."
        )
    return binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrismServer:
    """One `prism mock` process: with the spec's examples, or with generated data (`seed` given)."""

    def __init__(self, spec: Mapping[str, Any], workdir: Path, seed: Optional[int] = None):
        self.seed = seed
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        label = "examples" if seed is None else f"seed-{seed}"
        self._spec_file = workdir / f"openapi-2023-v1-{label}.json"
        self.log_file = workdir / f"prism-{label}.log"
        self._process: Optional[subprocess.Popen] = None
        self._spec_file.write_text(json.dumps(spec))

    def command(self) -> List[str]:
        # One process (Prism forks when NODE_ENV=production), so stopping it leaves nothing behind.
        command = [str(locate_prism()), "mock", "--host", "127.0.0.1", "--port", str(self.port), "--multiprocess=false"]
        if self.seed is not None:
            command += ["--dynamic", "--seed", str(self.seed)]
        return [*command, str(self._spec_file)]

    def start(self) -> "PrismServer":
        command = self.command()
        with self.log_file.open("wb") as log:
            # The log is a file, not a pipe: Prism logs every request, and an unread pipe would fill and stall it.
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=CONTRACT_TESTS_DIR)
        self._wait_until_answering()
        return self

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise PrismUnavailable(f"Prism exited with code {self._process.returncode} before answering:\n{self.log_tail()}")
            try:
                requests.get(self.url, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise PrismUnavailable(f"Prism did not answer on {self.url} within {STARTUP_DEADLINE_SECONDS} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=STOP_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
