# Set-up and checks for ncp-kms-toolkit. Needs only Python >= 3.11 and make.
#   make demo   the whole remediation job against the built-in emulator
#   make test   lint, format, types, generated-client freshness and every test

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
VENV := .venv
BIN := $(VENV)/bin
UV := $(TOOLS)/bin/uv

export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint typecheck check-client regen lab browser-deps clean

demo: $(VENV)/.synced
	$(BIN)/kms-toolkit demo

test: $(VENV)/.synced browser-deps lint typecheck check-client
	$(BIN)/pytest

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.synced
	$(BIN)/mypy

check-client: $(VENV)/.synced
	$(BIN)/python scripts/generate_client.py --check

regen: $(VENV)/.synced
	$(BIN)/python scripts/generate_client.py

lab: $(VENV)/.synced
	$(BIN)/jupyter lab notebooks/

# uv installs exactly what uv.lock pins; it lives in its own small venv so that
# syncing the project's venv never removes the tool doing the syncing.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	touch $@

# The browser tests drive Debian's chromium; nothing downloads a browser build.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is missing and cannot be installed without root: browser tests will be skipped"; \
	  fi; }

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
