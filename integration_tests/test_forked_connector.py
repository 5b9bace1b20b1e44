"""The warm start the tests run the command line with (integration_tests/forked_connector.py) answers
as the installed console script does: the same messages, the same exit status."""

import json
import os
import subprocess
from datetime import datetime, timezone

from integration_tests.connector_cli import NOW_OVERRIDE_ENV, configured_catalog, connector_command, run_connector, write_json

NOW = datetime(2024, 3, 15, 12, tzinfo=timezone.utc)
BAD_CONFIG = {"api_token": "not-a-real-token", "start_date": "yesterday"}


def console_script(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(connector_command()), *arguments], capture_output=True, text=True, timeout=120, env={**os.environ, NOW_OVERRIDE_ENV: NOW.isoformat()}
    )


def timeless(stdout: str) -> list:
    """The messages printed, without the moment each trace was emitted."""
    messages = [json.loads(line) for line in stdout.splitlines()]
    for message in messages:
        message.get("trace", {}).pop("emitted_at", None)
    return messages


class TestWarmStartAnswersAsTheConsoleScript:
    def test_given_spec_then_the_same_messages_and_exit_status_0(self):
        warm = run_connector(["spec"], NOW)
        cold = console_script("spec")

        assert warm.returncode == cold.returncode == 0
        assert warm.stdout == cold.stdout
        assert [message["type"] for message in warm.raw_messages][-1] == "SPEC"

    def test_given_a_config_error_in_check_then_the_same_messages_and_exit_status(self, tmp_path):
        config = str(write_json(tmp_path / "config.json", BAD_CONFIG))

        warm = run_connector(["check", "--config", config], NOW)
        cold = console_script("check", "--config", config)

        assert warm.returncode == cold.returncode
        assert timeless(warm.stdout) == timeless(cold.stdout)
        assert "start_date" in warm.stdout

    def test_given_a_config_error_in_read_then_exit_status_1_with_the_same_trace(self, tmp_path):
        arguments = ["read", "--config", str(write_json(tmp_path / "config.json", BAD_CONFIG))]
        arguments += ["--catalog", str(write_json(tmp_path / "catalog.json", configured_catalog({"customers": "full_refresh"})))]

        warm = run_connector(arguments, NOW)
        cold = console_script(*arguments)

        assert warm.returncode == cold.returncode == 1
        assert timeless(warm.stdout) == timeless(cold.stdout)
        assert any("start_date" in message for message in warm.error_messages())
