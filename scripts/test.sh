#!/usr/bin/env bash
# ruff and the import-graph check, then the whole suite on SQLite, then on PostgreSQL when one is reachable at
# TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/helpdesk_test).
# Arguments are passed to pytest. Exit 0 only if every run that ran passed.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
PG_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/helpdesk_test}"
PG_SHOWN="$("$PY" -c 'import sys; from sqlalchemy.engine import make_url; print(make_url(sys.argv[1]).render_as_string(hide_password=True))' "$PG_URL")"
failed=()

run() {  # run LABEL [pytest args...]
    local label=$1; shift
    echo "=== the suite on $label"
    "$PY" -m pytest "$@"
    local rc=$?
    if [ "$rc" -eq 5 ]; then
        echo "=== pytest collected no tests on $label: that is a failure"
    fi
    [ "$rc" -eq 0 ] || failed+=("$label (pytest exit $rc)")
}

# Seconds, before any database: the lint (ruff, configured in pyproject.toml) and the
# package stack (scripts/import_graph.py: no cycle, no upward import).
echo "=== ruff and the import graph"
"$PY" -m ruff check . || failed+=("ruff")
"$PY" scripts/import_graph.py || failed+=("import graph")

TEST_DATABASE_URL= run "SQLite" "$@"

if reason="$("$PY" scripts/pg_test_db.py "$PG_URL" 2>&1)"; then
    [ -n "$reason" ] && echo "$reason"
    TEST_DATABASE_URL="$PG_URL" run "PostgreSQL ($PG_SHOWN)" "$@"
else
    echo "=== PostgreSQL not reachable at $PG_SHOWN: skipping the PostgreSQL run ($reason)"
fi

if [ "${#failed[@]}" -gt 0 ]; then
    printf '=== FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "=== all runs passed"
