# The developer's verbs. `make run` and `make test` work on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/pingyi
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: fonts run test test-sqlite test-postgres setup demo lint format bench bench-pg bench-http bench-scale bench-analysis bench-integrity stack faults load fuzz browser-deps screenshots clean access

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

# The CJK fonts the server draws PDFs and images with (Debian's fonts-noto-cjk).
fonts:
	@fc-list :lang=zh 2>/dev/null | grep -q 'Noto S.*CJK' || { \
		echo "Installing Debian's fonts-noto-cjk (PDF bulletins and charts draw Chinese with it)…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; }

run: fonts demo
	@$(PY) manage.py demo_logins --url http://$(HOST):$(PORT)/
	$(PY) manage.py runserver $(HOST):$(PORT)

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

test: setup fonts browser-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: setup
	@echo "== tests on SQLite =="
	$(BIN)/pytest

test-postgres: setup
	@if $(PY) scripts/pg_ready.py "$(PG_URL)"; then \
		echo "== tests on PostgreSQL =="; \
		DATABASE_URL="$(PG_URL)" $(BIN)/pytest -m "not browser"; \
	else \
		echo "== PostgreSQL does not answer at $(PG_URL): PostgreSQL pass skipped =="; \
	fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup
	$(PY) benchmarks/org_tree.py
	$(PY) benchmarks/roster_import.py

# The same on PostgreSQL, in a database pingyi_bench created and dropped on PG_URL's server;
# plus the roster at province scale (10 million members, ~6 min; PostgreSQL only, it loads by COPY)
# and evaluations submitted over HTTP to gunicorn (PostgreSQL only).
bench-pg: setup
	DATABASE_URL="$(PG_URL)" $(PY) benchmarks/org_tree.py --postgres
	DATABASE_URL="$(PG_URL)" $(PY) benchmarks/roster_import.py --postgres
	DATABASE_URL="$(PG_URL)" $(PY) benchmarks/members_scale.py
	DATABASE_URL="$(PG_URL)" $(PY) benchmarks/evaluation_http.py
	DATABASE_URL="$(PG_URL)" $(PY) benchmarks/counter_contention.py

# A province on PostgreSQL (150,000 orgs, 10 million members, 5 million evaluations, loaded by
# COPY in a database pingyi_bench_progress, ~9 min, ~14 GB) and the progress page and a weekly
# bulletin timed on it beside a naive GROUP BY. SCALE=0.01 runs it in half a minute.
SCALE ?= 1.0
bench-scale: setup
	DATABASE_URL="$(PG_URL)" $(PY) benchmarks/progress_scale.py --scale $(SCALE)

# The members' needs pass (jieba keywords and need categories) over a million suggestions.
bench-analysis: setup
	$(PY) benchmarks/analysis_needs.py

# The integrity scan over a province (progress_scale's 5 million evaluations, with traces and 50
# planted unions) on PostgreSQL, in a database pingyi_bench_integrity: time, memory, recall.
bench-integrity: setup
	DATABASE_URL="$(PG_URL)" $(PY) benchmarks/integrity_scale.py --scale $(SCALE)

# Evaluations submitted over HTTP to gunicorn, beside a trivial logged-in endpoint
# (PostgreSQL, in a database pingyi_bench_http on PG_URL's server, dropped after).
bench-http: setup
	DATABASE_URL="$(PG_URL)" $(PY) benchmarks/evaluation_http.py

# The production stack on this machine (PostgreSQL and Redis as they run here): gunicorn, a
# Celery worker and beat on a scratch database pingyi_stack and Redis database 7, smoke-tested
# over HTTP (admin and member log in, a submission, the progress page, a bulletin built by the
# worker). `make faults`: PostgreSQL restarted under load, a worker killed mid-job, Redis down
# (restarts PostgreSQL: not while others use it).
stack: setup fonts
	DATABASE_URL="$(PG_URL)" $(PY) scripts/stack.py

faults: setup fonts
	DATABASE_URL="$(PG_URL)" $(PY) scripts/faults.py

# A deadline rush (locust, 120 users, 60 s): members log in by SMS code and submit (some twice)
# while admins read the progress pages and .xlsx, against gunicorn on PostgreSQL (a database
# pingyi_bench_rush on PG_URL's server, dropped after); then every accepted submission is checked
# to be stored once and every counter to equal a recount. Exits non-zero when a check fails.
# Every role against every admin page, export, member page and API route (also part of make test).
access: setup
	$(BIN)/pytest tests/test_access_matrix.py -q -p no:cacheprovider
	@if $(PY) scripts/pg_ready.py "$(PG_URL)"; then \
		DATABASE_URL="$(PG_URL)" $(BIN)/pytest tests/test_access_matrix.py -q -p no:cacheprovider; \
	fi

load: setup
	DATABASE_URL="$(PG_URL)" $(PY) benchmarks/deadline_rush.py

# The JSON API fuzzed from its own OpenAPI schema (schemathesis) with FUZZ_EXAMPLES cases per
# operation and caller (the suite runs 10), on SQLite, then on PostgreSQL when it answers (in a
# database test_pingyi_fuzz of its own).
FUZZ_EXAMPLES ?= 100
fuzz: setup
	PINGYI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/test_api_fuzz.py -q -p no:cacheprovider
	@if $(PY) scripts/pg_ready.py "$(PG_URL)"; then \
		DATABASE_URL="$(PG_URL)_fuzz" PINGYI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/test_api_fuzz.py -q -p no:cacheprovider; \
	else \
		echo "== PostgreSQL does not answer at $(PG_URL): PostgreSQL pass skipped =="; \
	fi

screenshots: setup browser-deps
	PINGYI_SCREENSHOTS=docs/screenshots $(BIN)/pytest -m browser tests/test_browser_tour.py tests/test_browser_member_journey.py tests/test_browser_evaluation.py tests/test_browser_analysis.py tests/test_browser_progress_tour.py tests/test_browser_integrity.py reports/tests/test_assessment_browser.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
