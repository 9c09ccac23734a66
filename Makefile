# The two commands of README, `make run` and `make test`, and `make bench`.
# Each installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench clean

run: $(VENV)/.installed
	$(BIN)/python -m devtools.local_stack

test: $(VENV)/.installed .venv-checkov/.installed
	$(BIN)/python -m pytest

# Writes bench/results.md; exits non-zero if a target is not met.
bench: $(VENV)/.installed
	$(BIN)/python -m bench

# Reinstalled whenever a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# checkov's own pins conflict with the app's (see requirements-checkov.txt).
.venv-checkov/.installed: requirements-checkov.txt
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

clean:
	rm -rf $(VENV) .venv-checkov .pytest_cache
