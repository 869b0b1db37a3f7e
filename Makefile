# recount: developer entry points. GNU make; needs only Python 3.11 with pip and venv.
#
#   make run    the whole service on this machine (moto server + chalice local)
#   make test   the whole test suite, then ruff (what CI runs through .ci/run)
#   make package  the CloudFormation stack for STAGE (prod; or dev) in build/STAGE, cfn-linted
#                 for a region of each partition (REGION sets the stack's own: ap-east-1)
#   make lock   regenerate the hashed locks requirements*.txt from requirements*.in

.DEFAULT_GOAL := help

VENV := .venv
VENV_PY := $(VENV)/bin/python
RUFF := $(VENV)/bin/ruff
# Installs the lock requirements-dev.txt with --require-hashes: every file is checked against
# the lock, pip itself included (the lock pins the pip Chalice allows; the venv's own pip
# installs it with the rest). Re-installs only when a requirements input (*.in) or lock
# (*.txt) changed since the last successful install.
STAMP := $(VENV)/.installed
REQUIREMENTS := $(wildcard requirements*.in requirements*.txt)
# python3.11 if present, else python3 (checked to be 3.11 before the venv is made).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)

.PHONY: help venv .venv test lint fmt run bench clean package conformance lock sms-templates load

help: ## List the targets
	@echo "recount — make targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_.-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

venv .venv: $(STAMP) ## Create .venv (Python 3.11) and install the lock requirements-dev.txt

$(STAMP): $(REQUIREMENTS)
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: neither python3.11 nor python3 is on PATH; install Python 3.11" >&2; \
		exit 1; \
	fi
	@"$(PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
		echo "error: $(PYTHON) is Python $$("$(PYTHON)" -c 'import sys; print(sys.version.split()[0])'); recount needs 3.11 (set PYTHON=/path/to/python3.11)" >&2; \
		exit 1; \
	}
	@if [ ! -x "$(VENV_PY)" ]; then \
		echo "creating $(VENV) with $(PYTHON)"; \
		"$(PYTHON)" -m venv "$(VENV)" || { \
			echo "error: could not create $(VENV) (on Debian/Ubuntu: apt install python3.11-venv)" >&2; \
			rm -rf "$(VENV)"; exit 1; \
		}; \
	fi
	"$(VENV_PY)" -m pip install --quiet --require-hashes -r requirements-dev.txt
	@touch "$@"

# The locks: every package of the closure pinned, with the hashes of all its files on PyPI.
# Resolved for Linux x86_64 and CPython 3.11 wherever this runs, each package with a wheel
# for glibc 2.17 (manylinux2014; the Lambda's is 2.26) or an sdist. Existing pins are kept
# unless an input needs another version; LOCK_FLAGS=--upgrade (or --upgrade-package NAME)
# moves them. The runtime lock comes first: requirements-dev.in has -c requirements.txt.
LOCK_FLAGS ?=
UV_COMPILE = "$(VENV)/bin/uv" pip compile --quiet --generate-hashes --python "$(VENV_PY)" \
	--python-version 3.11 --python-platform x86_64-manylinux_2_17 \
	--custom-compile-command "make lock" $(LOCK_FLAGS)
lock: $(STAMP) ## Regenerate the hashed locks requirements*.txt from requirements*.in (uv)
	$(UV_COMPILE) requirements.in -o requirements.txt
	$(UV_COMPILE) requirements-dev.in -o requirements-dev.txt

# The linters: style and format, the walls between the layers (import-linter contracts in
# pyproject.toml; docs/design.md §2), and types (mypy: strict for the domain and the services).
# Each runs, and any failure fails the target.
LINT = \
	echo "ruff check"; "$(RUFF)" check . || status=1; \
	echo "ruff format --check"; "$(RUFF)" format --check . || status=1; \
	echo "lint-imports"; "$(VENV)/bin/lint-imports" --no-cache --no-logo || status=1; \
	echo "mypy"; "$(VENV)/bin/mypy" || status=1;

test: $(STAMP) ## Run the whole test suite, then the linters (make lint)
	@status=0; \
	"$(VENV_PY)" -m pytest tests || status=1; \
	$(LINT) \
	exit $$status

# The tests that touch DynamoDB, on AWS DynamoDB Local instead of moto (KMS, SNS stay on moto).
# Not the package, embedded-engine and AWS-fault tests: they test what ships, moto itself, and
# our answers when AWS fails (their stand-ins for AWS replace every endpoint); nor the API
# fuzzing and the local gateway, which test the document and `chalice local`, not the engine.
CONFORMANCE_TESTS := tests/integration tests/e2e/test_bursts.py \
	--deselect tests/integration/test_fuzz_api.py \
	--deselect tests/integration/test_local_gateway.py \
	--deselect tests/integration/test_package.py \
	--deselect tests/integration/test_package_runs.py \
	--deselect tests/integration/test_embedded_engine.py \
	--deselect tests/integration/test_aws_faults.py
conformance: $(STAMP) ## The DynamoDB tests again on AWS DynamoDB Local (installed on first use)
	"$(VENV_PY)" scripts/dynamodb_local.py run -- "$(VENV_PY)" -m pytest $(CONFORMANCE_TESTS)

lint: $(STAMP) ## ruff check and format, import-linter's layer contracts, mypy
	@status=0; \
	$(LINT) \
	exit $$status

fmt: $(STAMP) ## Apply ruff's fixes and format the code
	"$(RUFF)" check --fix .
	"$(RUFF)" format .

run: $(STAMP) ## Serve the API and pages on 127.0.0.1:8000 (PORT overrides) with demo data
	"$(VENV_PY)" scripts/local_run.py

REQUESTS ?= 1000
CONCURRENCY ?= 32
load: $(STAMP) ## Load-test the running `make run` stack (REQUESTS, CONCURRENCY; loopback only)
	"$(VENV_PY)" scripts/load.py --requests "$(REQUESTS)" --concurrency "$(CONCURRENCY)"

PROVIDER ?= aliyun
sms-templates: $(STAMP) ## Print every SMS template as PROVIDER=aliyun|tencent needs it for approval
	"$(VENV_PY)" scripts/sms_templates.py --provider "$(PROVIDER)"

bench: $(if $(wildcard scripts/bench.py),$(STAMP)) ## Run scripts/bench.py, if there is one
	@if [ -f scripts/bench.py ]; then \
		"$(VENV_PY)" scripts/bench.py; \
	else \
		echo "no benchmarks yet"; \
	fi

STAGE ?= prod
REGION ?= ap-east-1
package: $(STAMP) ## chalice package (+ workflows/, templates/), tables, key, secrets, alarms for STAGE=prod|dev, REGION; cfn-lint
	"$(VENV_PY)" scripts/package.py --stage "$(STAGE)" --region "$(REGION)"

clean: ## Remove .venv and .local
	rm -rf "$(VENV)" .local

.PHONY: browser-deps
browser-deps: ## Debian's chromium and a CJK font for the browser tests, if missing
	@if [ -x /usr/bin/chromium ] && fc-list :lang=zh 2>/dev/null | grep -q .; then \
		echo "chromium and a CJK font are installed"; \
	else \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-wqy-microhei; \
	fi
