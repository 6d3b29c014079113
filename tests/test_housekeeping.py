"""Issue 13's smaller things: dead code gone, settings obeyed, dependencies declared."""
from __future__ import annotations

import ast
import importlib
import io
import sys
import tomllib
from datetime import UTC, date, datetime
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook

from helpdesk import cli
from helpdesk.core import localtime, spreadsheet

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module, name", [
    ("helpdesk.tickets.states", "is_allowed"),
    ("helpdesk.mail.parse", "parse_key"),
    ("helpdesk.mail.store", "message_key"),
    ("helpdesk.org.queries", "unit_by_code"),
    ("helpdesk.reports.views", "export_url"),
    ("helpdesk.inventory.importer", "import_path"),
])
def test_dead_code_is_gone(module, name):
    assert not hasattr(importlib.import_module(module), name)


def test_a_missing_command_module_is_an_error_not_skipped(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("helpdesk.nothing_here.cli",))
    with pytest.raises(ModuleNotFoundError):
        cli.register_commands(Flask("x"))


def test_every_command_module_exists():
    for name in cli.COMMAND_MODULES:
        importlib.import_module(name)


def test_time_zone_and_languages_follow_the_settings(app, monkeypatch):
    from helpdesk.app_setup import select_locale
    from helpdesk.census import rules
    from helpdesk.reports.filters import athens_midnight

    # app setup took them from the settings
    assert localtime.zone().key == app.config["BABEL_DEFAULT_TIMEZONE"]
    assert localtime.languages() == tuple(app.config["LANGUAGES"])
    # other settings: configure() updates this dict; a copy keeps the app's intact
    monkeypatch.setattr(localtime, "_settings", dict(localtime._settings))
    localtime.configure("UTC", ["el"], "el")
    late_evening = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)  # 01:30 next day in Athens
    assert rules.athens_day(late_evening) == date(2026, 6, 1)
    assert athens_midnight(date(2026, 6, 1)) == datetime(2026, 6, 1, tzinfo=UTC)
    with app.test_request_context("/?lang=en"):
        assert select_locale() == "el"  # English is not among LANGUAGES here


def test_one_xlsx_writer_keeps_text_as_text():
    body = spreadsheet.to_xlsx([["Στήλη", "n"], ["'=1+1", 3]], "Φύλλο: 1/2")
    ws = load_workbook(io.BytesIO(body)).active
    assert ws.title == "Φύλλο  1 2"
    assert ws["A1"].font.bold and ws["A2"].data_type == "s" and ws["B2"].value == 3
    assert spreadsheet.to_csv([["α", None]]) == "\ufeffα,\r\n".encode()


def _imported_top_names(folders) -> set[str]:
    names = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"helpdesk", "workers", "tests", "bench",
                                                         "__future__"}


def _declared(requirements) -> set[str]:
    out = set()
    for req in requirements:
        name = req.split(";")[0].split("[")[0]
        for sep in "<>=!~ ":
            name = name.split(sep)[0]
        out.add(name.strip().lower().replace("_", "-").replace(".", "-"))
    return out


def test_every_import_is_declared_and_every_dependency_used():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _declared(project["dependencies"])
    testing = runtime | _declared(project["optional-dependencies"]["test"])
    dists = packages_distributions()

    def dist_names(module):
        return {d.lower().replace("_", "-").replace(".", "-") for d in dists.get(module, [])}

    app_imports = _imported_top_names(["helpdesk", "workers", "migrations"])
    test_imports = _imported_top_names(["tests"])
    assert [m for m in app_imports if not dist_names(m) & runtime] == []
    assert [m for m in test_imports if not dist_names(m) & testing] == []
    used = set().union(*(dist_names(m) for m in app_imports | test_imports))
    run_as_commands = {"gunicorn", "ruff", "pytest"}  # started, not imported (or plugins)
    used_by_others = {"defusedxml"}  # openpyxl parses uploads with it when it is installed
    assert sorted(testing - used - run_as_commands - used_by_others) == []


def test_commit_or_flash_commits_or_undoes_and_says_why(db):
    from flask import current_app, get_flashed_messages
    from werkzeug.exceptions import Forbidden

    from helpdesk.core.commit import commit_or_flash
    from helpdesk.core.errors import Conflict, PermissionDenied
    from helpdesk.core.filestore import StorageFailed
    from tests.factories import make_school

    def add(name):
        def write():
            school = make_school(name=name)
            db.session.flush()
            return school.id
        return write

    def refuse(exc):
        def write():
            add("Αναιρείται")()
            raise exc
        return write

    from helpdesk.org.models import School

    def names():
        return set(db.session.scalars(db.select(School.name)))

    with current_app.test_request_context("/"):
        outcome = commit_or_flash(add("Κρατιέται"), done=lambda school_id: f"ok {school_id}")
        assert outcome and "Κρατιέται" in names()
        assert get_flashed_messages(with_categories=True) == [("success", f"ok {outcome.value}")]
    with current_app.test_request_context("/"):
        outcome = commit_or_flash(refuse(Conflict("όχι")), done="never")
        assert not outcome and outcome.error.status == 409 and "Αναιρείται" not in names()
        assert get_flashed_messages(with_categories=True) == [("error", "όχι")]
    with current_app.test_request_context("/"):
        with pytest.raises(Forbidden):
            commit_or_flash(refuse(PermissionDenied()), abort_on=(PermissionDenied,))
        with pytest.raises(StorageFailed):
            commit_or_flash(refuse(StorageFailed(OSError(28, "full"))), raise_5xx=True)
        assert "Αναιρείται" not in names() and get_flashed_messages() == []


def test_templates_get_their_data_from_the_view_not_from_queries(app):
    """A template reads what its view passed; no global runs a query while it renders."""
    helpers = {name: value for name, value in app.jinja_env.globals.items() if callable(value)}
    querying = {"failed_notifications", "sla_time_left"}
    assert querying.isdisjoint(helpers)
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not any(f"{name}(" in text for name in querying), path
