# The two commands: `make demo` and `make test`. Both set everything up from nothing.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
DEMO_ENV := TELESANTE_DEMO=1 TELESANTE_DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test lint bench browser gettext

install: $(VENV)/.installed browser gettext

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# $(call need,COMMAND,DEBIAN PACKAGE,WHAT FOR): installs the package when the command is missing.
need = @command -v $(1) >/dev/null 2>&1 || { \
  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(2) >/dev/null; \
  else echo "$(2) absent : sudo apt-get install $(2) ($(3))"; fi; }

# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
browser:
	$(call need,chromium,chromium,tests navigateur)

# The English catalogue is checked against the sources (xgettext) and compiled (msgfmt).
gettext:
	$(call need,xgettext,gettext,catalogue anglais)

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
