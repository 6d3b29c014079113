# `make run` and `make test` work on a fresh Debian with Python 3.11 (see README.md).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HELPDESK := $(BIN)/helpdesk
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: venv lock translations migrate run test

venv: $(VENV)/.stamp-installed

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed; $(PYTHON) is $$($(PYTHON) --version 2>&1)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Could not create $(VENV). On Debian: apt-get install python3-venv"; exit 1; }

# Exactly the versions in requirements.lock (the tested set), then the project itself.
# Reinstall only when the lock or pyproject.toml changed since the last install.
$(VENV)/.stamp-installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

# requirements.lock: every dependency of pyproject.toml (with the test extra) pinned.
# After changing dependencies in pyproject.toml run `make lock`, then commit both files;
# versions already in the lock are kept. `make lock UPGRADE=--upgrade` moves all to the
# newest allowed, `UPGRADE="--upgrade-package X"` one package.
UV_VERSION := 0.13.9
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
	  --custom-compile-command "make lock" $(UPGRADE) -o requirements.lock

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
