"""scripts/import_graph.py: the package stack of the project, read with ast."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "import_graph.py"


@pytest.fixture
def graph():
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for top in ("helpdesk", "workers"):
        (root / top).mkdir(exist_ok=True)
    return root


def test_the_project_passes():
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_cycle_between_packages_fails(graph, tmp_path, capsys):
    root = write(tmp_path, {
        "helpdesk/__init__.py": "",
        "helpdesk/tickets/__init__.py": "",
        "helpdesk/tickets/services.py": "from helpdesk.sla import sweep\n",
        "helpdesk/sla/__init__.py": "",
        "helpdesk/sla/sweep.py": "from helpdesk.tickets.services import x\n",
    })
    assert graph.main(["--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "cycle between helpdesk.sla ↔ helpdesk.tickets" in out
    assert "upward import: helpdesk.tickets (tickets) imports helpdesk.sla" in out


def test_relative_imports_and_type_checking(graph, tmp_path, capsys):
    root = write(tmp_path, {
        "helpdesk/__init__.py": "",
        "helpdesk/core/__init__.py": "",
        "helpdesk/core/errors.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from helpdesk.tickets import models\n"),
        "helpdesk/tickets/__init__.py": "",
        "helpdesk/tickets/models.py": "from ..core import errors\nfrom . import states\n",
        "helpdesk/tickets/states.py": "",
    })
    assert graph.main(["--root", str(root), "--graph"]) == 0
    out = capsys.readouterr().out
    assert "helpdesk.tickets[model] -> helpdesk.core" in out
    assert "helpdesk.core -> (nothing)" in out


def test_a_function_level_import_needs_a_comment(graph, tmp_path, capsys):
    root = write(tmp_path, {
        "helpdesk/__init__.py": "",
        "helpdesk/core/__init__.py": "",
        "helpdesk/core/a.py": (
            "def explained():\n"
            "    # openpyxl is heavy and only the export needs it\n"
            "    import openpyxl\n"
            "\n"
            "def also_explained():\n"
            "    import fpdf  # only the PDF needs it\n"
            "\n"
            "def silent():\n"
            "    import json\n"),
    })
    assert graph.main(["--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "1 function-level imports without a comment" in out
    assert "helpdesk/core/a.py:9" in out


def test_a_function_level_import_may_not_go_up(graph, tmp_path, capsys):
    root = write(tmp_path, {
        "helpdesk/__init__.py": "",
        "helpdesk/core/__init__.py": "",
        "helpdesk/core/errors.py": (
            "def handler():\n"
            "    # the API's problem document\n"
            "    from helpdesk.api.core import problem\n"),
        "helpdesk/api/__init__.py": "",
        "helpdesk/api/core.py": "from helpdesk.core import errors\n",
    })
    assert graph.main(["--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "cycle" not in out
    assert "upward import: helpdesk.core (core) imports helpdesk.api" in out


def test_models_and_pure_rules_sit_below_the_permission_check(graph, tmp_path, capsys):
    root = write(tmp_path, {
        "helpdesk/__init__.py": "",
        "helpdesk/permissions.py": "from helpdesk.tickets.models import Ticket\n"
                                   "from helpdesk.tickets.states import Status\n",
        "helpdesk/tickets/__init__.py": "",
        "helpdesk/tickets/models.py": "from helpdesk.tickets import states\n",
        "helpdesk/tickets/states.py": "import enum\n",
        "helpdesk/tickets/queries.py": "from helpdesk.permissions import scope\n",
        "helpdesk/tickets/views.py": "from helpdesk.inventory import filing\n",
        "helpdesk/inventory/__init__.py": "",
        "helpdesk/inventory/filing.py": "from helpdesk.tickets import queries\n",
    })
    assert graph.main(["--root", str(root), "--graph"]) == 0
    out = capsys.readouterr().out
    assert "helpdesk.permissions -> helpdesk.tickets[model]" in out
    assert "helpdesk.tickets[web] -> helpdesk.inventory" in out


def test_a_pure_module_imports_neither_flask_nor_the_database(graph, tmp_path, capsys):
    root = write(tmp_path, {
        "helpdesk/__init__.py": "",
        "helpdesk/tickets/__init__.py": "",
        "helpdesk/tickets/states.py": "from flask import current_app\n",
    })
    assert graph.main(["--root", str(root)]) == 1
    assert "helpdesk.tickets.states is a pure module but imports flask" in capsys.readouterr().out


def test_the_architecture_document_lists_the_handler_table():
    """docs/ARCHITECTURE.md's event → handler table is HANDLERS, row for row."""
    from helpdesk.handlers import HANDLERS

    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Events and their handlers", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0].startswith(("event", "---")):
            continue
        handlers = {h.strip(" `") for h in cells[1].split(",")}
        for event in cells[0].split(","):
            documented[event.strip()] = handlers
    actual = {cls.__name__: {f"{h.__module__.removeprefix('helpdesk.')}.{h.__name__}"
                             for h in handlers} for cls, handlers in HANDLERS.items()}
    assert documented == actual
    assert len(text.splitlines()) <= 150
