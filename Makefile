# Two commands from a fresh clone:
#   make demo  a venv with the connector, then the connector end to end against the fake Metronome
#              (integration_tests/demo.py); raw Airbyte messages land in demo_output/.
#   make test  a venv with the connector and its test extras, Prism for the contract tests, then
#              every test but the Docker image tests; .ci/run calls it.
# Each install is redone only when what it installs from changes (stamp files below); the connector
# is installed editable, so code changes need no reinstall.
PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip install --quiet --disable-pip-version-check

# More pytest arguments, e.g. `make test PYTEST_ARGS=unit_tests` or `PYTEST_ARGS="-k usage -x"`.
PYTEST_ARGS ?=
# Set by .ci/run: a file that receives pytest's exit status (make itself exits 2 on any failure).
PYTEST_STATUS_FILE ?=

.PHONY: demo test test-install
demo: $(VENV)/.installed
	$(VENV)/bin/python -m integration_tests.demo

test: test-install
	@echo '$(VENV)/bin/python -m pytest -m "not image_tests" $(PYTEST_ARGS)'
	@status=0; $(VENV)/bin/python -m pytest -m "not image_tests" $(PYTEST_ARGS) || status=$$?; \
	if [ -n "$(PYTEST_STATUS_FILE)" ]; then echo $$status > "$(PYTEST_STATUS_FILE)"; fi; \
	exit $$status

# The installs alone (.ci/run makes them while its background jobs run, then calls `make test`).
test-install: $(VENV)/.installed-tests contract_tests/node_modules/.installed

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

# With the test extras: also satisfies the demo's stamp.
$(VENV)/.installed-tests: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[tests]'
	touch $(VENV)/.installed $@

# Stoplight Prism, pinned in contract_tests/package-lock.json, for the contract tests against
# Metronome's OpenAPI spec. A failed install does not stop the tests: the contract tests then fail,
# saying Prism is missing, and every other test still reports (the stamp is left unmade, so the
# next run tries again).
contract_tests/node_modules/.installed: contract_tests/package-lock.json
	if npm ci --prefix contract_tests --no-audit --no-fund; then touch $@; \
	else echo "npm ci --prefix contract_tests failed: the contract tests will fail without Prism." >&2; fi
