"""Translation catalogues: extract, update, compile and check them (Babel's Python API).

English is the source language; Greek (``el``) is the default locale and must be
complete. The catalogues live in ``helpdesk/translations/<locale>/LC_MESSAGES/messages.po``
and the template in ``helpdesk/translations/messages.pot``; what is extracted from where
is in ``babel.cfg`` at the repository root.

The usual cycle after changing user-facing strings::

    helpdesk i18n extract && helpdesk i18n update   # new msgids appear in the .po files
    (translate the empty Greek msgstr)
    helpdesk i18n check && helpdesk i18n compile

``ValidationFailed(field, "message", **params)`` translates its message when raised, so
its second argument is extracted as a msgid too (keyword ``ValidationFailed:2``).
"""
from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import click
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
MAPPING_FILE = ROOT / "babel.cfg"
TRANSLATIONS = ROOT / "helpdesk" / "translations"
POT_FILE = TRANSLATIONS / "messages.pot"
DOMAIN = "messages"
#: Every catalogue we ship; the first is the one that must be complete.
LOCALES = ("el", "en")
REQUIRED_LOCALE = "el"

#: gettext's keywords plus Flask-Babel's lazy ones and the domain error that translates
#: its (second) message argument itself. A msgid that means different things in different
#: places takes a context: ``pgettext("projector", "Resolution")``.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
    "lazy_npgettext": ((1, "c"), 2, 3),
    "ValidationFailed": (2,),
}
#: Folders never searched for sources (besides those starting with "." or "_").
_SKIP_DIRS = {"instance", "node_modules", "build", "dist", "migrations", "tests"}
_HEADER = """\
# {title}
# This file is distributed under the same license as the Αρωγή project.
#"""
#: Header lines that change on every run; ignored when deciding whether a file changed.
_VOLATILE = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"\n', re.MULTILINE)


def po_path(locale: str, translations: Path = TRANSLATIONS) -> Path:
    return translations / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


# --- extract -------------------------------------------------------------------------------

def _directory_filter(dirpath: str) -> bool:
    name = os.path.basename(os.path.normpath(dirpath))
    return not (name.startswith((".", "_")) or name in _SKIP_DIRS or name.endswith(".egg-info"))


def extract_catalog(root: Path = ROOT, mapping_file: Path = MAPPING_FILE) -> Catalog:
    """The messages of the sources listed in ``babel.cfg``, as a template catalogue."""
    with open(mapping_file, encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, filename=str(mapping_file))
    catalog = Catalog(project="Αρωγή", version="0.1.0", copyright_holder="Αρωγή",
                      header_comment=_HEADER.format(title="Translation template for Αρωγή."),
                      language_team="Αρωγή", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(root), method_map, options_map, keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True,
            directory_filter=_directory_filter):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments,
                    context=context)
    return catalog


def extract(output: Path | str = POT_FILE, *, root: Path = ROOT,
            mapping_file: Path = MAPPING_FILE) -> Catalog:
    """Extract every msgid into ``output`` (the .pot); returns the template catalogue.

    The file is rewritten only when its messages changed (not for a new date alone).
    """
    catalog = extract_catalog(root, mapping_file)
    _write_catalog(Path(output), catalog)
    return catalog


# --- update --------------------------------------------------------------------------------

def update(pot: Path | str = POT_FILE, *, translations: Path = TRANSLATIONS,
           locales: Iterable[str] = LOCALES, no_fuzzy_matching: bool = False) -> list[Path]:
    """Merge the template into each locale's .po (creating missing ones).

    Existing translations are kept; msgids no longer in the template are dropped; new
    msgids arrive untranslated (or, with fuzzy matching, as a fuzzy guess from a similar
    msgid, which ``check`` reports until someone reviews it). Returns the files written.
    """
    template = _read(Path(pot))
    written = []
    for locale in locales:
        path = po_path(locale, translations)
        if path.exists():
            catalog = _read(path, locale=locale)
        else:
            catalog = Catalog(
                locale=locale, domain=DOMAIN, project=template.project, version=template.version,
                copyright_holder="Αρωγή", language_team="Αρωγή", last_translator="Αρωγή",
                header_comment=_HEADER.format(title=f"{locale} catalogue of Αρωγή."),
                charset="utf-8", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=no_fuzzy_matching)
        catalog.fuzzy = False
        _drop_empty_guesses(catalog)
        if _write_catalog(path, catalog):
            written.append(path)
    return written


def _drop_empty_guesses(catalog: Catalog) -> None:
    """Undo fuzzy guesses that carry nothing: Babel counts an untranslated plural ("", "")
    as a candidate, and may copy a plural's forms onto a singular msgid or back."""
    for message in catalog:
        if not message.id or not message.fuzzy:
            continue
        plural = isinstance(message.id, tuple | list)
        if plural != isinstance(message.string, tuple | list):
            message.string = ("",) * catalog.num_plurals if plural else ""
        strings = message.string if plural else (message.string,)
        if not any(strings):
            message.flags.discard("fuzzy")


# --- compile -------------------------------------------------------------------------------

def compile_catalogs(translations: Path = TRANSLATIONS, *, force: bool = False) -> list[Path]:
    """Compile each .po under ``translations`` to its .mo when the .po is newer.

    Quick and idempotent: returns the .mo files written this time (empty when all were up
    to date). Fuzzy entries are left out, as gettext would.
    """
    compiled = []
    for po in sorted(Path(translations).glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime_ns >= po.stat().st_mtime_ns:
            continue
        catalog = _read(po, locale=po.parent.parent.name)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        _atomic_write(mo, buffer.getvalue())
        compiled.append(mo)
    return compiled


# --- check ---------------------------------------------------------------------------------

#: A printf-style conversion as Python's % operator reads it (or a stray %).
_FORMAT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
    r"|(?P<stray>%)"
)


def placeholders(text: str) -> tuple[tuple[str, str], ...]:
    """The %-conversions of ``text`` as sorted (name, conversion) pairs ("" when positional);
    a stray % that is not a conversion comes out as ("", "stray")."""
    found = []
    for m in _FORMAT.finditer(text or ""):
        if m.group("stray"):
            found.append(("", "stray"))
        elif m.group("conv") != "%":
            found.append((m.group("name") or "", m.group("conv")))
    return tuple(sorted(found))


@dataclass(frozen=True)
class Problem:
    msgid: str
    what: str

    def __str__(self) -> str:
        return f"{self.what}: {self.msgid!r}"


def _format_problems(message: Message) -> list[str]:
    """Placeholder mismatches between a message's source and its translation(s)."""
    if isinstance(message.id, tuple | list):
        singular, plural = (placeholders(i) for i in message.id)
        strings = list(message.string) if isinstance(message.string, tuple | list) else [message.string]
        wanted = set(singular) | set(plural)
        problems = []
        for index, text in enumerate(strings):
            got = placeholders(text)
            extra = set(got) - wanted
            if extra:
                problems.append(f"plural form {index} has placeholders the msgid lacks "
                                f"{sorted(extra)}")
        union = set().union(*(placeholders(s) for s in strings)) if strings else set()
        if not set(plural) <= union:
            problems.append(f"placeholders {sorted(set(plural) - union)} are missing from "
                            "every plural form")
        return problems
    want, got = placeholders(message.id), placeholders(message.string)
    if want != got:
        return [f"placeholders differ (msgid {list(want)}, msgstr {list(got)})"]
    return []


def check_catalog(catalog: Catalog) -> list[Problem]:
    """Untranslated and fuzzy messages, and translations whose %-placeholders differ."""
    problems = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if not strings or any(not s for s in strings):
            problems.append(Problem(msgid, "untranslated"))
            continue
        if message.fuzzy:
            problems.append(Problem(msgid, "fuzzy"))
        problems.extend(Problem(msgid, p) for p in _format_problems(message))
    return problems


def check(locale: str = REQUIRED_LOCALE, translations: Path = TRANSLATIONS) -> list[Problem]:
    """The problems of ``locale``'s catalogue (empty when it is complete and consistent)."""
    path = po_path(locale, translations)
    if not path.exists():
        return [Problem(str(path), "missing catalogue")]
    return check_catalog(_read(path, locale=locale))


# --- files ---------------------------------------------------------------------------------

def _read(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as fileobj:
        return read_po(fileobj, locale=locale, domain=DOMAIN, abort_invalid=True)


def _write_catalog(path: Path, catalog: Catalog) -> bool:
    """Write the catalogue sorted, without locations or obsolete entries; False when the file
    already said the same (apart from its dates)."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, no_location=True, sort_output=True,
             ignore_obsolete=True)
    data = buffer.getvalue()
    if path.exists() and _VOLATILE.sub(b"", path.read_bytes()) == _VOLATILE.sub(b"", data):
        return False
    _atomic_write(path, data)
    return True


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fileobj:
            fileobj.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# --- CLI -----------------------------------------------------------------------------------

@click.group("i18n")
def cli() -> None:
    """Translation catalogues: extract, update, compile, check."""


@cli.command("extract")
def extract_command() -> None:
    """Extract the msgids of the code and templates into messages.pot."""
    catalog = extract()
    click.echo(f"{len(catalog)} msgids in {POT_FILE.relative_to(ROOT)}")


@cli.command("update")
@click.option("--extract/--no-extract", "do_extract", default=False,
              help="Extract first (default: use the existing messages.pot).")
@click.option("--no-fuzzy-matching", is_flag=True, help="Do not guess from similar msgids.")
def update_command(do_extract: bool, no_fuzzy_matching: bool) -> None:
    """Merge messages.pot into the el and en catalogues, keeping their translations."""
    if do_extract:
        extract()
    written = update(no_fuzzy_matching=no_fuzzy_matching)
    for path in written:
        click.echo(f"updated {path.relative_to(ROOT)}")
    if not written:
        click.echo("catalogues already up to date")
    problems = check()
    if problems:
        click.echo(f"{REQUIRED_LOCALE}: {len(problems)} messages need translating or review "
                   "(helpdesk i18n check)")


@cli.command("compile")
@click.option("--force", is_flag=True, help="Compile even the .mo files that are up to date.")
def compile_command(force: bool) -> None:
    """Compile the .po catalogues to .mo (only those changed since)."""
    compiled = compile_catalogs(force=force)
    for path in compiled:
        click.echo(f"compiled {path.relative_to(ROOT)}")
    if not compiled:
        click.echo("all .mo files up to date")


@cli.command("check")
@click.option("--locale", default=REQUIRED_LOCALE, show_default=True)
def check_command(locale: str) -> None:
    """Fail when the catalogue has untranslated or fuzzy messages or mismatched placeholders."""
    problems = check(locale, TRANSLATIONS)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problems in the {locale} catalogue")
    click.echo(f"{locale}: complete")
