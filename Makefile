# Teambudget — `make run` to try it, `make test` to check it. Both set up everything they need.
VENV      := .venv
BIN       := $(VENV)/bin
PYTHON    ?= python3
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CATALOGS  := web/translations
PORT      ?= 5000
# Installing again only when pyproject.toml changed.
INSTALLED := $(VENV)/.installed
DEV       := $(VENV)/.installed-dev

.PHONY: run test bench install dev translations extract-messages migrate demo-links chromium clean lighthouse pdf-libraries

# The passkeys' origin and the printed links follow PORT (an exported WEBAUTHN_ORIGIN wins).
run demo-links: export WEBAUTHN_ORIGIN ?= http://localhost:$(PORT)

run: install translations migrate
	@$(BIN)/flask --app web seed-demo
	@$(BIN)/flask --app web demo-links
	@echo "Teambudget runs on http://localhost:$(PORT) (Ctrl+C stops it)."
	@$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --log-level warning 'web:create_app()'

# One pytest worker per core (pytest-xdist); each worker has its own databases (tests/conftest.py).
# TEST_WORKERS=0 runs in one process, e.g. to read a failure's output in order.
TEST_WORKERS ?= auto
test: dev translations chromium
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

# Requests per second, p50/p95 latency and server CPU per request of the inbox, the vote, the live poll and the
# coordinator's report page,
# at ~1,000 and ~100,000 ledger entries (tests/bench/). Prints the figures; never fails on them.
# More options: make bench BENCH_ARGS="--seconds 10" (or --help).
bench: dev translations chromium lighthouse
	$(BIN)/python -m tests.bench.bench $(BENCH_ARGS)

# Lighthouse for `make bench`, pinned, from npm, into build/ (gitignored). 12.2.3: 13 wants Node 22.
# Without npm the benchmark says so and measures the rest.
LIGHTHOUSE_VERSION := 12.2.3
lighthouse:
	@[ -x build/lighthouse/node_modules/.bin/lighthouse ] || ! command -v npm >/dev/null 2>&1 || \
		(mkdir -p build/lighthouse && echo '{"private": true}' > build/lighthouse/package.json && \
		 npm install --prefix build/lighthouse --no-audit --no-fund -E lighthouse@$(LIGHTHOUSE_VERSION) >/dev/null) || \
		echo "Lighthouse could not be installed; make bench runs without it."

install: pdf-libraries $(INSTALLED)
dev: $(DEV)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(DEV): pyproject.toml $(INSTALLED)
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

# Compiled catalogs are build output (.mo files are not committed).
translations: $(INSTALLED)
	@$(BIN)/pybabel compile --use-fuzzy -q -d $(CATALOGS) 2>/dev/null || $(BIN)/pybabel compile -d $(CATALOGS)

# After changing user-facing text: extract, update the English catalog, then translate the new entries.
extract-messages: $(INSTALLED)
	$(BIN)/pybabel extract -F $(CATALOGS)/babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o $(CATALOGS)/messages.pot .
	$(BIN)/pybabel update -N --no-wrap --ignore-obsolete -i $(CATALOGS)/messages.pot -d $(CATALOGS)

migrate: install
	@$(BIN)/flask --app web migrate

demo-links: install
	@$(BIN)/flask --app web demo-links --force

# The system libraries WeasyPrint (the PDF year report) loads: Pango with HarfBuzz, and fonts. Installed only
# when missing, like Chromium below.
PDF_LIBRARIES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fontconfig fonts-dejavu-core
pdf-libraries:
	@dpkg-query -W -f='$${Status}\n' $(PDF_LIBRARIES) 2>/dev/null | grep -c '^install ok installed' | \
		grep -qx "$(words $(PDF_LIBRARIES))" || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq -o DPkg::Lock::Timeout=300 $(PDF_LIBRARIES))

# Debian's Chromium for the browser tests (Playwright's own download cannot reach its servers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || [ -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ] || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
