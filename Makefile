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
	@if ls helpdesk/translations/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
	  $(BIN)/pybabel compile -d helpdesk/translations; \
	else echo "translations: no catalogues in helpdesk/translations yet, nothing to compile"; fi

migrate: venv
	$(HELPDESK) db upgrade

run: venv translations migrate
	$(HELPDESK) org load
	@$(BIN)/python scripts/demo_loaded.py; status=$$?; \
	if [ $$status -eq 0 ]; then echo "demo: the demo data is already loaded"; \
	elif [ $$status -eq 3 ]; then $(HELPDESK) demo load; \
	else exit $$status; fi
	$(HELPDESK) serve --host $(HOST) --port $(PORT)

test: venv translations
	scripts/test.sh
