# `make run` and `make test` work on a fresh Debian with Python 3.11 (see README.md).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HELPDESK := $(BIN)/helpdesk
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: venv translations migrate run test

venv: $(VENV)/.stamp-installed

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed; $(PYTHON) is $$($(PYTHON) --version 2>&1)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Could not create $(VENV). On Debian: apt-get install python3-venv"; exit 1; }

# Reinstall only when pyproject.toml changed since the last install.
$(VENV)/.stamp-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

translations: venv
	$(HELPDESK) i18n compile

migrate: venv
	$(HELPDESK) db upgrade

run: venv translations migrate
	$(HELPDESK) org load
	$(HELPDESK) inventory load-categories
	@$(BIN)/python scripts/demo_loaded.py; status=$$?; \
	if [ $$status -eq 0 ]; then echo "demo: the demo data is already loaded"; \
	elif [ $$status -eq 3 ]; then $(HELPDESK) demo load; \
	else exit $$status; fi
	$(HELPDESK) serve --host $(HOST) --port $(PORT)

test: venv translations
	scripts/test.sh

# The scale benchmark (bench/run.py): 10k/100k/1M tickets on PostgreSQL, the peer, results.
# BENCH_ARGS="--max 100000" skips the 1M set; "--no-peer" reuses the peer's last figures.
.PHONY: bench bench-smoke
bench: venv
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The same at 10,000 tickets in a couple of minutes (SQLite when PostgreSQL is unreachable).
bench-smoke: venv
	$(BIN)/python bench/run.py --smoke $(BENCH_ARGS)
