#!/usr/bin/env bash
# The packaging check: .venv-packaging (made if missing) with packaging_check/requirements-packaging.txt, then
# packaging_check/check_packaging.py (hadolint on the Dockerfile, metadata.yaml against Airbyte's model, and
# the versions, base image and names agreeing across Dockerfile, metadata.yaml and setup.py).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-packaging
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r packaging_check/requirements-packaging.txt \
    || { echo "check_packaging: FAIL: could not install packaging_check/requirements-packaging.txt into $venv" >&2; exit 1; }
exec "$venv/bin/python" -m packaging_check.check_packaging
