#!/usr/bin/env bash
# The packaging check: .venv-packaging (made if missing) with ci/requirements-packaging.txt, then
# ci/check_packaging.py (hadolint on the Dockerfile, metadata.yaml against Airbyte's model, and
# the versions, base image and names agreeing across Dockerfile, metadata.yaml and setup.py).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-packaging
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r ci/requirements-packaging.txt \
    || { echo "check_packaging: FAIL: could not install ci/requirements-packaging.txt into $venv" >&2; exit 1; }
exec "$venv/bin/python" -m ci.check_packaging
