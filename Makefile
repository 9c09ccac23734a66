# The two commands of README, `make run` and `make test`, and `make bench`
# and `make rehearse`.
# Each installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench rehearse clean

run: $(VENV)/.installed
	$(BIN)/python -m devtools.local_stack

test: $(VENV)/.installed .venv-checkov/.installed .venv-localstack/.installed
	$(BIN)/python -m pytest

# Writes bench/results.md; exits non-zero if a target is not met.
bench: $(VENV)/.installed
	$(BIN)/python -m bench

# `chalice deploy --stage dev` and `chalice delete` against the emulator
# (AWS_ENDPOINT_URL's, else an embedded one), checked; .chalice/ is put back.
rehearse: $(VENV)/.installed
	$(BIN)/python -m devtools.rehearse

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

# LocalStack's S3, for tests/s3policy (see requirements-localstack.txt). Its
# dependencies are resolved as on its release day, which pip cannot do and uv's
# --exclude-newer does; uv itself is pinned so that resolution stays the same.
LOCALSTACK_UV := uv==0.13.9
.venv-localstack/.installed: requirements-localstack.txt
	$(PYTHON) -m venv .venv-localstack
	.venv-localstack/bin/python -m pip install --quiet $(LOCALSTACK_UV)
	VIRTUAL_ENV=.venv-localstack .venv-localstack/bin/uv pip install --quiet \
		--exclude-newer 2025-10-20 -r requirements-localstack.txt
	touch $@

clean:
	rm -rf $(VENV) .venv-checkov .venv-localstack .pytest_cache
