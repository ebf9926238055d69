# OpenIPA: the two commands are `make demo` and `make test`; everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: install demo serve test test-sqlite test-postgres lint bench browser clean

install: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --python $(BIN)/python
	@mkdir -p var
	@touch $(STAMP)

demo: install
	$(BIN)/openipa demo

serve: install
	$(BIN)/openipa serve

# ruff and mypy, then the whole suite on SQLite, then on a throw-away PostgreSQL started from the machine's
# binaries (docs/adr/0002-test-harness.md). Pytest arguments: make test ARGS="-k money -x".
test: install browser
	$(BIN)/python -m openipa.devtools.testrun $(if $(ARGS),-- $(ARGS))

test-sqlite: install browser
	$(BIN)/python -m openipa.devtools.testrun --only sqlite $(if $(ARGS),-- $(ARGS))

test-postgres: install browser
	$(BIN)/python -m openipa.devtools.testrun --only postgresql $(if $(ARGS),-- $(ARGS))

# Debian's Chromium for the browser tests; installed when missing and apt can be used (as on CI).
browser: install
	@$(BIN)/python -m openipa.devtools.browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The platform cases (bench/run.py), then the eligibility bench (a generated 834 full file parsed by read_834
# and pyx12, then imported), then the capitation bench (the engines, then a month's cycle end to end on the
# same members). Sizes: make bench ELIGIBILITY_MEMBERS=N CAPITATION_MEMBERS=N.
ELIGIBILITY_MEMBERS ?= 1000000
CAPITATION_MEMBERS ?= 1000000
CLAIMS_LINES ?= 1000000
QUALITY_MEMBERS ?= 1000000
bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/eligibility/run.py --members $(ELIGIBILITY_MEMBERS)
	$(BIN)/python bench/capitation/run.py --members $(CAPITATION_MEMBERS)
	$(BIN)/python bench/claims/run.py --lines $(CLAIMS_LINES)
	$(BIN)/python bench/quality/measures.py --members $(QUALITY_MEMBERS)
	$(BIN)/python bench/quality/end_to_end.py --members $(QUALITY_MEMBERS)
	$(BIN)/python bench/quality/hcc.py --members $(QUALITY_MEMBERS)
	$(BIN)/python bench/clinical/matching.py --members $(QUALITY_MEMBERS)

clean:
	rm -rf $(VENV) var/*.sqlite3* .mypy_cache .ruff_cache
