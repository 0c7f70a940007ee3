# kpilib — the front door. `make` (or `make help`) lists the targets.
# Everything runs from the repo root, in the project venv .venv (built from requirements.lock).
# Overrides: make PYTHON=python3.12 ..., make test PYTEST_ARGS="-k contract -x", make lab LAB_ARGS=--no-browser

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp
SPARK_STAMP := $(VENV)/.spark-stamp
PIP := $(BIN)/python -m pip --disable-pip-version-check
PIP_VERSION ?= 26.3

SAMPLE := data/sample
SAMPLE_ARGS ?= --scenario omnichannel --seed 42 --start 2024-01-01 --days 365
REPORTS := reports

LINT_PATHS = $(wildcard src tests benchmarks notebooks tools)
PYTEST_ARGS ?= --durations=25
PYTEST_XDIST ?= -n auto
NOTEBOOKS = $(wildcard notebooks/*.ipynb)
REPORT_NOTEBOOKS = $(wildcard notebooks/0*.ipynb)
NBVAL_SANITIZE = tests/nbval_sanitize.cfg
NBVAL_ARGS ?= --nbval --nbval-current-env
# nbval in parallel needs --dist loadscope (one notebook per worker): NBVAL_XDIST="-n auto --dist loadscope"
NBVAL_XDIST ?=
REPORTS_ARGS ?=

# Fails with a clear message unless $(1) is a Python >= 3.11 interpreter.
check_python = command -v $(1) >/dev/null 2>&1 || { echo "error: '$(1)' not found; kpilib needs Python >= 3.11 (make PYTHON=/path/to/python3.11 ...)." >&2; exit 1; }; $(1) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: kpilib needs Python >= 3.11, but '$(1)' is $$($(1) -V 2>&1) (make PYTHON=/path/to/python3.11 ...)." >&2; exit 1; }

.PHONY: help venv data reports test lint test-python test-notebooks format lab notebooks docs lock bench clean distclean browser spark java

help: ## Show this list of targets
	@echo "kpilib make targets (quickstart: 'make reports', 'make test'):"
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z0-9_.-]+:[^#]*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create/update .venv: pinned deps from requirements.lock, kpilib editable, Jupyter kernel 'kpilib'

$(STAMP): requirements.lock pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  $(call check_python,$(PYTHON)); \
	  echo "Creating $(VENV) with $$($(PYTHON) -V 2>&1) ..."; \
	  $(PYTHON) -m venv $(VENV) || { echo "error: '$(PYTHON) -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)." >&2; exit 1; }; \
	fi
	@$(call check_python,$(BIN)/python) || { echo "Remove the old venv with 'make distclean' and retry." >&2; exit 1; }
	@echo "Installing pinned dependencies (requirements.lock) and kpilib into $(VENV) ..."
	@$(PIP) install --quiet pip==$(PIP_VERSION)
	@$(PIP) install --quiet -r requirements.lock
	@$(PIP) install --quiet --no-deps -e .
	@$(PIP) check >/dev/null || { $(PIP) check; exit 1; }
	@$(BIN)/python -m ipykernel install --sys-prefix --name kpilib --display-name "Python (kpilib)" >/dev/null
	@touch $@
	@echo "$(VENV) is ready ($$($(BIN)/python -V), kpilib $$($(BIN)/python -c 'import kpilib; print(kpilib.__version__)'))."

data: $(SAMPLE) ## Generate the default sample dataset into data/sample/ (if missing)

# Generated and validated in a temporary folder, then moved into place: a half-written or
# invalid sample never counts as present.
$(SAMPLE): | $(STAMP)
	@echo "Generating the default sample into $(SAMPLE)/ (omnichannel, 365 days, seed 42) ..."
	@rm -rf $(SAMPLE).partial
	$(BIN)/kpilib generate $(SAMPLE_ARGS) --out $(SAMPLE).partial
	$(BIN)/kpilib validate $(SAMPLE).partial
	@mv $(SAMPLE).partial $(SAMPLE)
	@echo "Sample dataset ready: $(CURDIR)/$(SAMPLE)"

reports: $(STAMP) $(SAMPLE) ## Build the venv and sample if missing, run the HTML report suite into reports/
	@if [ -z "$(REPORT_NOTEBOOKS)" ]; then \
	  echo "The report notebooks (notebooks/0*.ipynb) are not in this checkout yet: built the venv and $(SAMPLE)/ only."; \
	  exit 0; \
	fi; \
	rc=0; $(BIN)/kpilib reports run --data $(SAMPLE) --out $(REPORTS) $(REPORTS_ARGS) || rc=$$?; \
	if [ -e $(REPORTS)/latest/index.html ]; then \
	  echo "Reports: $(CURDIR)/$(REPORTS)/latest/index.html"; \
	else \
	  echo "No report index was published ($(REPORTS)/latest/index.html is missing)." >&2; \
	fi; \
	exit $$rc

test: browser spark lint ## Build/update the venv (+ the [spark] extra), lint with ruff, run the whole pytest suite (+ nbval on notebooks/)
	@KPILIB_REQUIRE_SPARK=1 $(MAKE) test-python
	@$(MAKE) test-notebooks

# The [spark] extra (pyspark, requirements-spark.lock; about 1 min to download and build) and
# Java, for the test that runs the SQL facts on local PySpark (tests/test_sql_spark.py). Not in
# `make venv`: only the tests and cluster users need it. Under `make test` that test fails
# instead of skipping (KPILIB_REQUIRE_SPARK=1).
spark: $(SPARK_STAMP) java ## Install the [spark] extra (pyspark, requirements-spark.lock) into .venv, and Java

$(SPARK_STAMP): requirements-spark.lock $(STAMP)
	@echo "Installing the [spark] extra (requirements-spark.lock) into $(VENV) ..."
	@$(PIP) install --quiet -r requirements-spark.lock
	@touch $@

java: ## Make sure a Java runtime (for PySpark) is installed; as root with apt-get, install it
	@if command -v java >/dev/null 2>&1; then \
	  exit 0; \
	elif [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Java with apt-get (openjdk-17-jre-headless, for the PySpark test) ..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null; } \
	    || { echo "error: apt-get could not install Java; install it by hand (apt-get install openjdk-17-jre-headless) and run make test again." >&2; exit 1; }; \
	else \
	  echo "error: make test needs Java for the PySpark test; install it (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless) and run make test again." >&2; \
	  exit 1; \
	fi

# The browser test of the HTML reports needs Debian's chromium (the one system prerequisite).
# As root with apt-get it is installed here; otherwise make stops and says what to install.
browser: ## Make sure chromium (for the browser test) is installed; as root with apt-get, install it
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
	  exit 0; \
	elif [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing chromium with apt-get (for the browser test of the HTML reports) ..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; } \
	    || { echo "error: apt-get could not install chromium; install it by hand (apt-get install chromium) and run make test again." >&2; exit 1; }; \
	  chromium --version; \
	else \
	  echo "error: make test needs chromium for the browser test of the HTML reports; install it (Debian/Ubuntu: sudo apt-get install chromium) and run make test again." >&2; \
	  exit 1; \
	fi

lint: $(STAMP) ## ruff check on src, tests, benchmarks, notebooks, tools
	$(BIN)/ruff check $(LINT_PATHS)

test-python: $(STAMP) ## Run the pytest suite in tests/ (PYTEST_ARGS=..., PYTEST_XDIST= to run serially)
	@rc=0; $(BIN)/pytest $(PYTEST_XDIST) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests (exit code 5); that counts as a failure." >&2; fi; \
	exit $$rc

test-notebooks: $(STAMP) ## nbval on the stored notebooks (against data/ci, generated if missing); skipped if none
ifeq ($(strip $(NOTEBOOKS)),)
	@echo "No stored notebooks in notebooks/: nbval step skipped."
else
	@echo "CI dataset for the stored notebooks (generated if missing):"
	@$(BIN)/python -m kpilib.reports.cidata
	$(BIN)/pytest $(NBVAL_ARGS) $(NBVAL_XDIST) $(if $(wildcard $(NBVAL_SANITIZE)),--nbval-sanitize-with $(NBVAL_SANITIZE)) $(NOTEBOOKS)
endif

format: $(STAMP) ## Apply ruff format and ruff's safe autofixes
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

lab: $(STAMP) $(SAMPLE) ## Start JupyterLab with the project's kernel "Python (kpilib)" (LAB_ARGS=--no-browser ...)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

notebooks: $(STAMP) ## Re-execute the stored notebooks in place on the CI dataset and strip volatile metadata
	$(BIN)/kpilib reports refresh

docs: $(STAMP) ## Regenerate docs/kpis.md and docs/data-model.md from the code (a test checks they are current)
	$(BIN)/python tools/gen_reference.py

lock: ## Re-resolve requirements.in into requirements.lock (exact pins) and regenerate environment.yml
	@$(call check_python,$(PYTHON))
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "Resolving requirements.in in a temporary venv ..."; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip --disable-pip-version-check install --quiet pip==$(PIP_VERSION); \
	"$$tmp/venv/bin/python" -m pip --disable-pip-version-check install --quiet -r requirements.in; \
	{ echo "# Exact pins of every package kpilib, its notebooks and its tests use (pip freeze of a venv built from requirements.in)."; \
	  echo "# Regenerate with: make lock"; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable; } > "$$tmp/requirements.lock"; \
	mv "$$tmp/requirements.lock" requirements.lock
	$(PYTHON) tools/environment_yml.py requirements.lock environment.yml
	@echo "Review 'git diff requirements.lock environment.yml', then 'make test' (it rebuilds .venv)."

bench: $(STAMP) ## Run the benchmark scripts in benchmarks/ (they print timings; not part of make test)
	@found=0; for f in benchmarks/[!_]*.py; do \
	  [ -e "$$f" ] || continue; found=1; echo "== $$f"; $(BIN)/python "$$f"; \
	done; [ $$found -eq 1 ] || echo "No benchmark scripts in benchmarks/ yet."

clean: ## Remove generated data (data/sample, data/ci), reports (reports/*) and caches; keeps .venv
	rm -rf $(SAMPLE) $(SAMPLE).partial data/ci data/.ci.partial data/.ci.lock .pytest_cache .ruff_cache .hypothesis build dist
	find $(REPORTS) -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +

distclean: clean ## clean, and also remove .venv
	rm -rf $(VENV)
