# `make demo`: from a fresh clone, a venv with the connector, then the connector end to end against
# the fake Metronome (integration_tests/demo.py); raw Airbyte messages land in demo_output/.
PYTHON ?= python3
VENV := .venv

.PHONY: demo
demo: $(VENV)/.installed
	$(VENV)/bin/python -m integration_tests.demo

# Reinstalled only when setup.py changes; the install is editable, so code changes need none.
$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e .
	touch $@
