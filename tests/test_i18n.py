"""Translations: the Greek catalogue is complete and current, sources keep msgids
extractable, and the compiled catalogues are what Flask-Babel serves."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from click.testing import CliRunner
from jinja2 import Environment, nodes

from helpdesk import i18n

ROOT = i18n.ROOT

#: Calls whose leading arguments are msgids (and a context): how many must be literals.
LITERAL_ARGS = {"_": 1, "_l": 1, "gettext": 1, "lazy_gettext": 1, "ngettext": 2,
                "lazy_ngettext": 2, "pgettext": 2, "lazy_pgettext": 2, "npgettext": 3,
                "lazy_npgettext": 3}
GETTEXT_NAMES = set(LITERAL_ARGS)
#: (file, function) where a gettext call deliberately takes a variable: ValidationFailed
#: translates the message it is given; those messages are extracted through the
#: ``ValidationFailed:2`` keyword and checked by test_validation_messages_are_literals.
PASS_THROUGH = {("helpdesk/core/errors.py", "__init__")}


def _python_sources() -> list[Path]:
    return sorted(p for pattern in ("helpdesk/**/*.py", "workers/**/*.py")
                  for p in ROOT.glob(pattern) if "__pycache__" not in p.parts)


def _msgid(message) -> str:
    return message.id[0] if isinstance(message.id, tuple | list) else message.id


def _key(message) -> tuple:
    """What identifies a message: its msgid(s) and context."""
    ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
    return (*ids, message.context)


# --- (a) the Greek catalogue is complete ---------------------------------------------------

def test_greek_catalogue_is_complete_and_consistent():
    problems = i18n.check("el")
    assert not problems, "el catalogue:\n" + "\n".join(map(str, problems))


def test_english_catalogue_exists_without_fuzzy_entries():
    path = i18n.po_path("en")
    assert path.exists()
    catalog = i18n._read(path, locale="en")
    assert not [m.id for m in catalog if m.id and m.fuzzy]


def test_check_command_succeeds():
    result = CliRunner().invoke(i18n.cli, ["check"])
    assert result.exit_code == 0, result.output


def test_check_finds_untranslated_fuzzy_and_placeholder_mismatches():
    catalog = Catalog(locale="el")
    catalog.add("Fine %(ref)s.", "Εντάξει %(ref)s.")
    catalog.add("Empty", "")
    catalog.add("Guessed", "Μαντεψιά", flags=["fuzzy"])
    catalog.add("Filed as %(ref)s.", "Υποβλήθηκε ως %(reference)s.")
    catalog.add("Kind %(n)d", "Είδος %(n)s")
    catalog.add("Stray", "100% σωστό")
    catalog.add(("%(num)d request", "%(num)d requests"), ("%(num)d αίτημα", ""))
    catalog.add(("%(num)d file", "%(num)d files"), ("ένα αρχείο", "%(num)d αρχεία"))
    catalog.add(("%(num)d note", "%(num)d notes"), ("μία", "πολλές %(n)d"))
    found = {(p.msgid, p.what.split(" ")[0]) for p in i18n.check_catalog(catalog)}
    assert found == {
        ("Empty", "untranslated"), ("Guessed", "fuzzy"), ("Filed as %(ref)s.", "placeholders"),
        ("Kind %(n)d", "placeholders"), ("Stray", "placeholders"),
        ("%(num)d request", "untranslated"), ("%(num)d note", "plural"),
        ("%(num)d note", "placeholders"),
    }


def test_check_command_fails_and_lists_the_msgids(tmp_path, monkeypatch):
    po = i18n.po_path("el", tmp_path)
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                  'msgid "Missing one"\nmsgstr ""\n\n'
                  '#, python-format\nmsgid "As %(ref)s"\nmsgstr "Ως %(other)s"\n',
                  encoding="utf-8")
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)
    result = CliRunner().invoke(i18n.cli, ["check"])
    assert result.exit_code != 0
    assert "Missing one" in result.output and "As %(ref)s" in result.output


# --- (b) the catalogue is up to date with the code -----------------------------------------

def test_every_extracted_msgid_is_in_the_greek_catalogue(tmp_path):
    fresh = i18n.extract(tmp_path / "messages.pot")
    assert (tmp_path / "messages.pot").exists()
    catalog = i18n._read(i18n.po_path("el"), locale="el")
    known = {_key(m) for m in catalog if m.id}
    wanted = {_key(m) for m in fresh if m.id}
    missing = sorted(map(str, wanted - known))
    assert not missing, ("msgids not in the el catalogue; run `helpdesk i18n extract && "
                         "helpdesk i18n update` and translate them:\n" + "\n".join(missing))


def test_extraction_sees_python_templates_and_validation_messages(tmp_path):
    ids = {_msgid(m) for m in i18n.extract(tmp_path / "messages.pot") if m.id}
    assert {"New request", "%(num)d request", "Unknown category.",
            "Your request was filed as %(ref)s."} <= ids


# --- (c) msgids are literals ---------------------------------------------------------------

def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


class _Scanner(ast.NodeVisitor):
    def __init__(self, relpath: str, exempt: bool = True):
        self.relpath = relpath
        self.function = ""
        self.exempt = exempt
        self.bad: list[str] = []

    def _visit_function(self, node):
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    visit_FunctionDef = visit_AsyncFunctionDef = _visit_function

    def visit_Call(self, node: ast.Call):
        name = _call_name(node.func)
        where = f"{self.relpath}:{node.lineno}"
        exempt = self.exempt and (self.relpath, self.function) in PASS_THROUGH
        if name in GETTEXT_NAMES and not exempt:
            wanted = LITERAL_ARGS[name]
            args = node.args[:wanted]
            if len(args) < wanted or not all(_is_literal(a) for a in args):
                self.bad.append(f"{where}: {name}() needs a literal msgid, got "
                                f"{ast.unparse(node)[:80]}")
        if name == "ValidationFailed" and len(node.args) >= 2:
            message = node.args[1]
            lazy = (isinstance(message, ast.Call) and _call_name(message.func) in GETTEXT_NAMES)
            if not (_is_literal(message) or lazy):
                self.bad.append(f"{where}: ValidationFailed() needs a literal message, got "
                                f"{ast.unparse(message)[:80]}")
        self.generic_visit(node)


def test_python_msgids_are_plain_literals():
    """No f-strings, %, .format() or concatenation inside gettext calls: the msgid must be
    what the extractor sees, and formatting happens after translation."""
    bad = []
    for path in _python_sources():
        relpath = path.relative_to(ROOT).as_posix()
        scanner = _Scanner(relpath)
        scanner.visit(ast.parse(path.read_text(encoding="utf-8"), filename=relpath))
        bad.extend(scanner.bad)
    assert not bad, "\n".join(bad)


def test_pass_through_exemptions_are_still_needed():
    """Each exemption still covers a non-literal gettext call (the list does not rot)."""
    for relpath, function in PASS_THROUGH:
        scanner = _Scanner(relpath, exempt=False)
        scanner.visit(ast.parse((ROOT / relpath).read_text(encoding="utf-8")))
        assert scanner.bad, f"{relpath}:{function}() no longer needs its exemption"


def test_template_msgids_are_plain_literals():
    env = Environment(extensions=["jinja2.ext.i18n"])
    bad = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        relpath = path.relative_to(ROOT).as_posix()
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if not isinstance(call.node, nodes.Name) or call.node.name not in GETTEXT_NAMES:
                continue
            wanted = LITERAL_ARGS[call.node.name]
            args = call.args[:wanted]
            if len(args) < wanted or not all(isinstance(a, nodes.Const)
                                             and isinstance(a.value, str) for a in args):
                bad.append(f"{relpath}:{call.lineno}: {call.node.name}() needs a literal msgid")
            elif any(conv == "stray" for a in args for _n, conv in i18n.placeholders(a.value)):
                # Jinja's gettext always applies %, so a lone % raises ValueError: write %%.
                bad.append(f"{relpath}:{call.lineno}: a lone % in {args[0].value!r}; write %%")
    assert not bad, "\n".join(bad)


# --- (d) compiled catalogues reach Flask-Babel ---------------------------------------------

def test_compile_is_idempotent():
    i18n.compile_catalogs()
    assert i18n.compile_catalogs() == []
    for locale in i18n.LOCALES:
        assert i18n.po_path(locale).with_suffix(".mo").exists()


@pytest.fixture
def i18n_app(tmp_path, monkeypatch):
    i18n.compile_catalogs()
    monkeypatch.setenv("HELPDESK_INSTANCE_PATH", str(tmp_path))
    from helpdesk import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": ""})


def test_flask_babel_serves_the_greek_catalogue(i18n_app):
    import flask_babel

    with i18n_app.test_request_context("/?lang=el"):
        assert flask_babel.gettext("New request") == "Νέο αίτημα"
        assert flask_babel.gettext("Your request was filed as %(ref)s.", ref="ΑΡ-2026-000001") \
            == "Το αίτημά σας υποβλήθηκε με αριθμό ΑΡ-2026-000001."
        assert flask_babel.ngettext("%(num)d request", "%(num)d requests", 1) == "1 αίτημα"
        assert flask_babel.ngettext("%(num)d request", "%(num)d requests", 3) == "3 αιτήματα"

        from helpdesk.core.display import STATUS_LABELS
        from helpdesk.core.errors import ValidationFailed

        assert str(STATUS_LABELS["waiting"]) == "Αναμονή απάντησης σχολείου"
        assert str(ValidationFailed("category", "Unknown category.")) == "Άγνωστη κατηγορία."
        from flask import render_template_string

        assert render_template_string('{{ _("Log in") }} · {{ ngettext("%(num)d request", '
                                      '"%(num)d requests", 2) }}') == "Σύνδεση · 2 αιτήματα"


def test_flask_babel_serves_english(i18n_app):
    import flask_babel

    with i18n_app.test_request_context("/?lang=en"):
        assert flask_babel.gettext("New request") == "New request"
        assert flask_babel.ngettext("%(num)d request", "%(num)d requests", 1) == "1 request"


def test_update_keeps_translations_and_leaves_no_empty_fuzzy_guesses(tmp_path):
    """A new msgid close to an untranslated plural must not arrive as an empty fuzzy entry."""
    pot = tmp_path / "messages.pot"
    template = Catalog(fuzzy=False)
    template.add(("%(num)d request", "%(num)d requests"), flags=["python-format"])
    template.add("New request")
    i18n._write_catalog(pot, template)
    i18n.update(pot, translations=tmp_path, locales=["el", "en"])
    el = i18n._read(i18n.po_path("el", tmp_path), locale="el")
    el.get("New request").string = "Νέο αίτημα"
    i18n._write_catalog(i18n.po_path("el", tmp_path), el)

    template.add("Open requests")
    i18n._write_catalog(pot, template)
    i18n.update(pot, translations=tmp_path, locales=["el", "en"])
    el = i18n._read(i18n.po_path("el", tmp_path), locale="el")
    en = i18n._read(i18n.po_path("en", tmp_path), locale="en")
    assert el.get("New request").string == "Νέο αίτημα"
    assert el.plural_forms == "nplurals=2; plural=(n != 1);"
    assert not [m.id for m in en if m.id and m.fuzzy]
    assert all(isinstance(m.string, str) for m in el if m.id and isinstance(m.id, str))
    assert {p.msgid for p in i18n.check_catalog(el) if p.what == "untranslated"} >= {
        "%(num)d request"}
    assert i18n.compile_catalogs(tmp_path) and i18n.compile_catalogs(tmp_path) == []
