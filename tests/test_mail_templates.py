"""Every event kind has its handlers and, for each mail it causes, one template per kind
that renders in Greek and in English through the catalogues (no language chains)."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from helpdesk import events
from helpdesk.handlers import HANDLERS
from helpdesk.notify import handlers as mail
from helpdesk.notify.render import render, template_names
from helpdesk.notify.rules import Kind

#: Values in ASCII, so that any Greek in the English mail comes from the template.
CONTEXT = {"ref": "AR-2026-00001", "subject": "Printer", "school_name": "Gymnasio A",
               "unit": SimpleNamespace(name_el="PLINET", name_en="PLINET"),
               "category": SimpleNamespace(name_el="Printers", name_en="Printers"),
               "status": "open", "description": "It does not print.", "body": "Restart it.",
               "reason": "Needs a part.", "actor_name": "Tech One", "level": 2, "remaining": "2 hours",
               "title": "ICT census", "deadline": "21/01/2026", "days_left": 3, "url": "https://x/y"}
#: Names that stay Greek in every language.
PROPER = ("Αρωγή", "ΠΣΔ")
ENGLISH = re.compile(r"\b(the|your|request|Status|School|level|has|was|to)\b")
GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")


def _mail_kinds() -> list[str]:
    kinds = {k for event_type, handlers in HANDLERS.items() for h in handlers
             if h.__module__ == mail.__name__ for k in mail.MAIL_KINDS[event_type]}
    return sorted(kinds)


def test_every_event_type_has_handlers_and_every_mail_handler_its_kinds():
    concrete = [c for c in vars(events).values() if isinstance(c, type)
                and issubclass(c, events.Event)
                and c not in (events.Event, events.TicketEvent, events.SlaEvent)]
    assert {c for c in concrete if not HANDLERS.get(c)} == set()
    for event_type, handlers in HANDLERS.items():
        if any(h.__module__ == mail.__name__ for h in handlers):
            assert mail.MAIL_KINDS[event_type], event_type
    assert set(_mail_kinds()) >= {k.value for k in Kind} | {
        "sla_warning", "sla_breach", "census_reminder", "mail_unknown_sender"}


@pytest.mark.parametrize("kind", _mail_kinds())
def test_each_kind_renders_in_greek_and_in_english(app, db, kind):
    with app.test_request_context():
        assert f"mail/{kind}.txt" in template_names(kind)
        el, en = render(kind, "el", **CONTEXT), render(kind, "en", **CONTEXT)
    for part in ("subject", "text", "html"):
        greek, english = getattr(el, part), getattr(en, part)
        if part != "html" or greek:
            assert greek and english and greek != english, part
        bare = english
        for name in PROPER:
            bare = bare.replace(name, "")
        assert not GREEK.search(bare), (part, english)
        assert not ENGLISH.search(re.sub(r"<[^>]+>|https?://\S+", "", greek)), (part, greek)
    assert GREEK.search(el.text)
