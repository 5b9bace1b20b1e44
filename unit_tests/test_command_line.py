"""The installed `source-metronome` command, as Airbyte and users run it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from unit_tests.builders import TOKEN, config

COMMAND = str(Path(sys.executable).parent / "source-metronome")


def _run(tmp_path: Path, *args: str, cfg=None):
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(cfg if cfg is not None else config()))
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps({"streams": [{"stream": {"name": "customer_costs", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}))
    arguments = [COMMAND, *args]
    if args[0] != "spec":
        arguments += ["--config", str(config_path)]
    if args[0] == "read":
        arguments += ["--catalog", str(catalog_path)]
    completed = subprocess.run(arguments, capture_output=True, text=True, timeout=60)
    messages = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    return completed, messages


class TestConsoleScript:
    def test_when_spec_then_the_token_is_marked_secret(self, tmp_path):
        completed, messages = _run(tmp_path, "spec")

        spec = next(message["spec"] for message in messages if message["type"] == "SPEC")
        assert completed.returncode == 0
        assert spec["connectionSpecification"]["properties"]["api_token"]["airbyte_secret"] is True

    @pytest.mark.parametrize("command", ["read", "discover"])
    def test_given_an_invalid_config_when_run_then_one_config_error_and_no_traceback(self, tmp_path, command):
        completed, messages = _run(tmp_path, command, cfg=config(customer_ids=["nope"]))

        traces = [message["trace"]["error"] for message in messages if message["type"] == "TRACE"]
        assert completed.returncode == 1
        assert [trace["failure_type"] for trace in traces] == ["config_error"]
        assert traces[0]["message"].startswith("customer_ids contains 'nope', which is not a Metronome id")
        assert "Traceback" not in completed.stderr
        assert not any("Traceback" in message.get("log", {}).get("message", "") for message in messages)

    def test_given_an_unreachable_server_when_check_then_failed_and_the_token_never_printed(self, tmp_path):
        completed, messages = _run(tmp_path, "check", cfg=config(base_url="http://127.0.0.1:9"))

        status = next(message["connectionStatus"] for message in messages if message["type"] == "CONNECTION_STATUS")
        assert completed.returncode == 0
        assert status["status"] == "FAILED"
        assert TOKEN not in completed.stdout + completed.stderr


class TestCheckpointsLeaveAtOnce:
    def test_given_a_state_message_when_printed_then_the_print_buffer_is_flushed_right_after_it(self, monkeypatch, capsys):
        from source_metronome import run as run_module

        written = []

        class Buffer:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def flush(self):
                written.append("flush")

        record = '{"type":"RECORD","record":{"stream":"invoices","data":{},"emitted_at":1}}'
        state = '{"type":"STATE","state":{"type":"STREAM"}}'
        monkeypatch.setattr(run_module, "PRINT_BUFFER", Buffer())
        monkeypatch.setattr(run_module.MetronomeEntrypoint, "parse_args", lambda self, args: None)
        monkeypatch.setattr(run_module.MetronomeEntrypoint, "run", lambda self, parsed: iter([record, state, record]))
        monkeypatch.setattr(run_module.sys, "argv", ["source-metronome"])
        real_print = print
        monkeypatch.setattr("builtins.print", lambda text, end="\n": (written.append(text.strip()), real_print(text, end=end)))

        run_module.run()

        # Only a checkpoint is pushed out at once: records wait for the buffer's own interval.
        assert written == [record, state, "flush", record]
