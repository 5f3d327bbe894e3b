# The two commands: `make demo` and `make test`. Both set everything up from nothing.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
DEMO_ENV := TELESANTE_DEMO=1 TELESANTE_DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test lint bench browser

install: $(VENV)/.installed browser

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium absent : sudo apt-get install chromium (tests navigateur)"; fi; }

demo: install
	mkdir -p var
	$(DEMO_ENV) $(BIN)/telesante migrate --verbosity 0
	$(DEMO_ENV) $(BIN)/telesante collectstatic --noinput --verbosity 0
	$(DEMO_ENV) $(BIN)/telesante seed-demo
	$(DEMO_ENV) $(BIN)/telesante demo-accounts
	$(DEMO_ENV) $(BIN)/telesante serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check src tests bench
	./scripts/run-tests

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
