# Two commands from a fresh clone:
#   make demo  a venv with the connector, then the connector end to end against the fake Metronome
#              (integration_tests/demo.py); raw Airbyte messages land in demo_output/.
#   make test  all that CI runs (.ci/run calls it): the installs (the connector's venv with its test
#              extras, Prism for the contract tests, PyAirbyte's venv for the warehouse test), made in
#              parallel beside the packaging check, then every test but the Docker image tests, on every core.
# Each install is redone only when what it installs from changes (stamp files below); the connector
# is installed editable, so code changes need no reinstall. Every pip install of the connector takes
# its versions from constraints.txt, the set the tests ran with (`make constraints` upgrades it).
PYTHON ?= python3
VENV := .venv
PYAIRBYTE_VENV := .venv-pyairbyte
CONSTRAINTS := constraints.txt
PIP_FLAGS := --quiet --disable-pip-version-check
PIP := $(VENV)/bin/pip install $(PIP_FLAGS) -c $(CONSTRAINTS)

# More pytest arguments, e.g. `make test PYTEST_ARGS=unit_tests` or `PYTEST_ARGS="-k usage -x"`.
PYTEST_ARGS ?=
# pytest-xdist workers (one per core by default), each given whole test files: a file's fixtures
# (fake servers, Prism) start once, and the standard tests' fixed port is served by one worker.
PYTEST_WORKERS ?= auto
PYTEST := $(VENV)/bin/python -m pytest -m "not image_tests" -n $(PYTEST_WORKERS) --dist loadfile
# Set by .ci/run: a file that receives pytest's exit status (make itself exits 2 on any failure).
PYTEST_STATUS_FILE ?=

.PHONY: demo test test-install packaging-check constraints
demo: $(VENV)/.installed
	$(VENV)/bin/python -m integration_tests.demo

# The packaging check runs in the background while the installs run (in parallel, -j3), then
# pytest; the check's output is shown after the tests. make fails when pytest or the check fails.
test:
	@logs=$$(mktemp -d); \
	bash packaging_check/check_packaging.sh >"$$logs/packaging.log" 2>&1 & packaging=$$!; \
	$(MAKE) --no-print-directory -j3 test-install || { wait $$packaging; cat "$$logs/packaging.log"; rm -rf "$$logs"; exit 2; }; \
	echo '$(PYTEST) $(PYTEST_ARGS)'; \
	status=0; $(PYTEST) $(PYTEST_ARGS) || status=$$?; \
	if [ -n "$(PYTEST_STATUS_FILE)" ]; then echo $$status > "$(PYTEST_STATUS_FILE)"; fi; \
	checked=0; wait $$packaging || checked=$$?; cat "$$logs/packaging.log"; rm -rf "$$logs"; \
	if [ $$checked -ne 0 ]; then echo "make test: the packaging check failed (its check_packaging: FAIL lines are above)." >&2; fi; \
	[ $$status -eq 0 ] && [ $$checked -eq 0 ]

# The installs alone.
test-install: $(VENV)/.installed-tests contract_tests/node_modules/.installed $(PYAIRBYTE_VENV)/.installed

# Dockerfile lint, metadata.yaml, versions agreeing (packaging_check/check_packaging.sh).
packaging-check:
	bash packaging_check/check_packaging.sh

$(VENV)/.installed: setup.py $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

# With the test extras: also satisfies the demo's stamp.
$(VENV)/.installed-tests: setup.py $(CONSTRAINTS)
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

# PyAirbyte (pinned in its requirements file) for the warehouse test, in its own venv: it must
# never share the connector's. A failed install does not stop the tests: the warehouse test then
# fails, naming the command that makes this venv.
$(PYAIRBYTE_VENV)/.installed: integration_tests/warehouse/requirements.txt
	$(PYTHON) -m venv $(PYAIRBYTE_VENV)
	if $(PYAIRBYTE_VENV)/bin/pip install $(PIP_FLAGS) -r integration_tests/warehouse/requirements.txt; then touch $@; \
	else echo "Installing PyAirbyte into $(PYAIRBYTE_VENV) failed: the warehouse test will fail without it." >&2; fi

# The deliberate upgrade: the newest versions setup.py allows, installed into a clean venv, frozen
# into constraints.txt. Review its diff, run `make test`, and commit both.
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/pip install $(PIP_FLAGS) -e '.[tests]'
	{ echo "# The exact dependency set the tests ran with: every install of the connector (Makefile, Dockerfile)"; \
	  echo "# takes its versions from here. Made by \`make constraints\` (pip freeze of a clean venv of .[tests])."; \
	  .venv-constraints/bin/pip freeze --exclude-editable --disable-pip-version-check; } > $(CONSTRAINTS)
	rm -rf .venv-constraints
