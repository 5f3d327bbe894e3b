# The two commands: `make demo` and `make test`. Both set everything up from nothing.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo's MSSanté operator and DMP: `telesante local-receivers`, on this machine.
SMTP_PORT ?= 2525
MHD_PORT ?= 8089
RECEIVERS := $(CURDIR)/var/local-receivers
DEMO_ENV := TELESANTE_DEMO=1 TELESANTE_DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3 \
  TELESANTE_MSSANTE_BACKEND=telesante.outbox.mssante.SMTPBackend \
  TELESANTE_MSSANTE_HOST=127.0.0.1 TELESANTE_MSSANTE_PORT=$(SMTP_PORT) \
  TELESANTE_MSSANTE_CA_FILE=$(RECEIVERS)/ca.pem \
  TELESANTE_DMP_BACKEND=telesante.outbox.dmp.MHDBackend \
  TELESANTE_DMP_MHD_URL=http://127.0.0.1:$(MHD_PORT)/fhir

.PHONY: install demo test lint bench browser gettext axe oidc mutants deploy-tools

install: $(VENV)/.installed browser gettext axe oidc deploy-tools

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

# The production tests run Debian's nginx in front of two server processes and the restore
# drill copies documents with rsync (tests/deploy/).
deploy-tools:
	$(call need,nginx,nginx-light,tests de déploiement)
	$(call need,rsync,rsync,exercice de restauration)

# axe-core, the accessibility rules the browser tests run over every page (tests/e2e/test_axe.py).
axe: tools/axe/node_modules/.installed

tools/axe/node_modules/.installed: tools/axe/package.json tools/axe/package-lock.json
	$(call need,npm,npm,tests d'accessibilité)
	cd tools/axe && npm ci --silent --no-audit --no-fund
	touch $@
# The tests' stand-in for Pro Santé Connect: npm oidc-provider on Debian's Node (tools/oidc).
oidc: tools/oidc/node_modules/.package-lock.json

tools/oidc/node_modules/.package-lock.json: tools/oidc/package-lock.json
	$(call need,npm,nodejs npm,fournisseur OpenID des tests Pro Santé Connect)
	cd tools/oidc && npm ci --no-audit --no-fund --loglevel=error

# The benchmarks' load generator (bench/, docs/benchmarks.md).
bench: install
	$(call need,wrk,wrk,bancs d'essai)

# The English catalogue is checked against the sources (xgettext) and compiled (msgfmt).
gettext:
	$(call need,xgettext,gettext,catalogue anglais)

# The local receivers run from the start (seeding already sends a report) to the end of
# `serve`, which stops them (Ctrl-C included: a background job of sh ignores SIGINT).
demo: install
	mkdir -p var
	rm -f $(RECEIVERS)/ready
	@$(DEMO_ENV) $(BIN)/telesante local-receivers --folder $(RECEIVERS) \
	  --smtp-port $(SMTP_PORT) --mhd-port $(MHD_PORT) & receivers=$$!; \
	trap 'kill $$receivers 2>/dev/null' EXIT INT TERM; \
	while [ ! -f $(RECEIVERS)/ready ]; do kill -0 $$receivers || exit 1; sleep 0.2; done; \
	$(DEMO_ENV) $(BIN)/telesante migrate --verbosity 0 && \
	$(DEMO_ENV) $(BIN)/telesante collectstatic --noinput --verbosity 0 && \
	$(DEMO_ENV) $(BIN)/telesante seed-demo && \
	$(DEMO_ENV) $(BIN)/telesante demo-accounts && \
	$(DEMO_ENV) $(BIN)/telesante serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check src tests bench
	./scripts/run-tests

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# Mutation testing of the rule checks (docs/rules.md lists the survivors). Not part of `make test`:
# SQLite, the rule functions below only, their tests only ([tool.mutmut] in pyproject.toml).
MUTANT_RULES := \
  'telesante.teleexpertise.billing.x_checks__*' \
  'telesante.teleexpertise.billing.x__combination_start__*' \
  'telesante.teleexpertise.billing.x__billed_in_window__*' \
  'telesante.teleexpertise.billing.x__combined_with__*' \
  'telesante.teleexpertise.billing.x_te2_billed_before__*' \
  'telesante.teleexpertise.escalation.x_run__*' \
  'telesante.teleexpertise.escalation.x__mark__*' \
  'telesante.teleconsultation.billing.x_cap_warnings__*' \
  'telesante.teleconsultation.billing.x_performer_code__*' \
  'telesante.teleconsultation.telesoin.*' \
  'telesante.telesurveillance.rules.x__absolute__*' \
  'telesante.telesurveillance.rules.x__relative__*' \
  'telesante.telesurveillance.rules.x_missing_data__*' \
  'telesante.telesurveillance.adherence.x_adherence__*' \
  'telesante.telesurveillance.adherence.x_check__*' \
  'telesante.telesurveillance.adherence.x_checkpoint__*' \
  'telesante.telesurveillance.adherence.x_checkpoints__*' \
  'telesante.telesurveillance.forfaits.x_bill__*' \
  'telesante.telesurveillance.forfaits.x_active_days__*' \
  'telesante.patients.services.x__check_status_change__*' \
  'telesante.patients.services.x_age__*' \
  'telesante.core.identifiers.*' \
  'telesante.structures.models.xǁStructureǁsave__*' \
  'telesante.indicators.figures.x_zones_table__*' \
  'telesante.indicators.figures.x__share__*'

mutants: install
	rm -rf mutants
	env -u TELESANTE_TEST_SQLITE TELESANTE_DEBUG=1 $(BIN)/mutmut run --max-children 2 $(MUTANT_RULES) \
	  > var/mutants.log 2>&1 || { tail -c 2000 var/mutants.log; exit 1; }
	$(BIN)/mutmut results | grep -v "not checked" || true
	@tail -c 200 var/mutants.log | tr '\r' '\n' | tail -1
