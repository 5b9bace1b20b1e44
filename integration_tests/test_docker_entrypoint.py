"""The Docker image's entry point, run without Docker: the command the Dockerfile's ENTRYPOINT
names, with the image's WORKDIR standing for the repository root (where its COPY takes the files
from) and the test venv's python for the image's, must answer `spec` as Airbyte expects."""

import subprocess
import sys
from importlib.metadata import distribution
from pathlib import PurePosixPath

import orjson
from airbyte_cdk.models import AirbyteMessageSerializer, Type

from packaging_check.packaging import ROOT, read_dockerfile, setup_arguments
from source_metronome.run import run

DOCKERFILE = read_dockerfile()


def entrypoint_on_this_machine():
    """The ENTRYPOINT as a local command: python is this interpreter, image paths under the
    WORKDIR are the repository's files that the Dockerfile copies there."""
    interpreter, *arguments = DOCKERFILE.entrypoint
    assert interpreter == "python", f"the entry point is not run by the image's python: {DOCKERFILE.entrypoint}"
    copied = {str(PurePosixPath(DOCKERFILE.workdir) / PurePosixPath(source).name) for sources, _ in DOCKERFILE.copies for source in sources}
    local = []
    for argument in arguments:
        if argument.startswith("/"):
            assert argument in copied, f"{argument} is not a file the Dockerfile copies into {DOCKERFILE.workdir}"
            argument = str(ROOT / PurePosixPath(argument).relative_to(DOCKERFILE.workdir))
        local.append(argument)
    return [sys.executable, *local]


def test_the_dockerfile_names_one_entry_point_for_docker_and_for_the_airbyte_platform():
    assert DOCKERFILE.entrypoint == ["python", "/airbyte/integration_code/main.py"]
    assert DOCKERFILE.env["AIRBYTE_ENTRYPOINT"] == " ".join(DOCKERFILE.entrypoint)


def test_the_entry_point_runs_the_installed_packages_console_script_function():
    installed = distribution(setup_arguments()["name"])
    console_scripts = {entry.name: entry for entry in installed.entry_points if entry.group == "console_scripts"}
    assert console_scripts["source-metronome"].load() is run
    assert "from source_metronome.run import run" in (ROOT / "main.py").read_text()


def test_given_the_dockerfiles_entry_point_when_asked_for_spec_then_it_prints_one_valid_spec_message():
    completed = subprocess.run([*entrypoint_on_this_machine(), "spec"], cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert completed.returncode == 0, completed.stderr[-3000:]
    messages = [AirbyteMessageSerializer.load(orjson.loads(line)) for line in completed.stdout.splitlines()]
    specs = [message.spec for message in messages if message.type == Type.SPEC]
    assert len(specs) == 1, f"expected one SPEC message, got {[message.type for message in messages]}"
    connection = specs[0].connectionSpecification
    assert {"api_token", "start_date"} <= set(connection["required"])
    assert connection["properties"]["api_token"]["airbyte_secret"] is True
