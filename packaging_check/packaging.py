"""What the packaging files declare, read with the standard library only: the Dockerfile's
instructions, setup.py's name and version, metadata.yaml's `data`.

Used by packaging_check/check_packaging.py (in .venv-packaging) and by the Docker entry point test (in the
test venv), so both read the Dockerfile the same way.
"""

import ast
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
SETUP_PY = ROOT / "setup.py"
METADATA_YAML = ROOT / "metadata.yaml"
# The pins the tests ran with (`make constraints` makes it), which the image must install too.
CONSTRAINTS = "constraints.txt"


@dataclass
class Dockerfile:
    base_image: str = ""
    workdir: str = ""
    # (sources, destination) of each COPY, relative to the build context and the WORKDIR.
    copies: List[Tuple[List[str], str]] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    labels: Dict[str, str] = field(default_factory=dict)
    entrypoint: List[str] = field(default_factory=list)
    # Each RUN's command line.
    runs: List[str] = field(default_factory=list)


def read_dockerfile(path: Path = DOCKERFILE) -> Dockerfile:
    """The instructions this project's Dockerfile uses (one stage; exec-form ENTRYPOINT)."""
    dockerfile = Dockerfile()
    for instruction, arguments in _instructions(path.read_text()):
        if instruction == "FROM":
            dockerfile.base_image = arguments.split()[0]
        elif instruction == "WORKDIR":
            dockerfile.workdir = arguments
        elif instruction == "COPY":
            *sources, destination = [word for word in shlex.split(arguments) if not word.startswith("--")]
            dockerfile.copies.append((sources, destination))
        elif instruction in ("ENV", "LABEL"):
            pairs = dict(word.split("=", 1) for word in shlex.split(arguments))
            (dockerfile.env if instruction == "ENV" else dockerfile.labels).update(pairs)
        elif instruction == "ENTRYPOINT":
            dockerfile.entrypoint = json.loads(arguments)
        elif instruction == "RUN":
            dockerfile.runs.append(arguments)
    return dockerfile


def _instructions(text: str) -> List[Tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments left out."""
    instructions: List[Tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        instruction, _, arguments = (pending + stripped).partition(" ")
        instructions.append((instruction.upper(), arguments.strip()))
        pending = ""
    return instructions


def setup_arguments(path: Path = SETUP_PY) -> Dict[str, str]:
    """The literal string keywords of setup.py's setup() call (name, version, ...)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setup":
            return {
                keyword.arg: keyword.value.value
                for keyword in node.keywords
                if keyword.arg and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str)
            }
    raise ValueError(f"{path.name} has no setup(...) call")


def constraints_problems(dockerfile: Dockerfile) -> List[str]:
    """The image must install the dependency set the tests ran with: every pip install in the
    Dockerfile takes constraints.txt, copied into the image."""
    problems = []
    installs = [run for run in dockerfile.runs if re.search(r"\bpip3? install\b", run)]
    if not installs:
        problems.append("Dockerfile has no pip install of the connector")
    for run in installs:
        words = shlex.split(run)
        pairs = zip(words, words[1:] + [""])
        if not any(f"{word} {following}" in (f"-c {CONSTRAINTS}", f"--constraint {CONSTRAINTS}") or word == f"--constraint={CONSTRAINTS}" for word, following in pairs):
            problems.append(f"Dockerfile RUN {run!r} does not install with --constraint {CONSTRAINTS} (the versions the tests ran with)")
    if installs and not any(CONSTRAINTS in sources for sources, _ in dockerfile.copies):
        problems.append(f"Dockerfile does not COPY {CONSTRAINTS} into the image before its pip install")
    return problems
