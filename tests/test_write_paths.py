"""Writes go through each feature's public service with an actor; the system is an actor
too (issue 13). The SLA sweep escalates through tickets.services.escalate as SYSTEM, and no
private name crosses modules."""
from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk.accounts.system import SYSTEM, system_actor
from helpdesk.core.errors import NotFound
from helpdesk.extensions import db
from helpdesk.permissions import (
    Perm,
    acts_for_school,
    can,
    can_manage_sla,
    is_administrator,
    is_system,
)
from helpdesk.tickets import services
from helpdesk.tickets.attachments import Upload
from helpdesk.tickets.models import Attachment, TicketEvent
from helpdesk.tickets.reasons import SLA_LEVEL_TIME_OUT
from tests.factories import World, at, make_ticket, resolution

PACKAGE = Path(__file__).resolve().parent.parent / "helpdesk"


@pytest.fixture
def w(db):
    return World()


def test_the_system_is_an_actor_that_passes_no_persons_check(w):
    t = make_ticket(w.user_a)
    assert system_actor() is SYSTEM and is_system(SYSTEM) and not is_system(w.admin)
    assert not can(SYSTEM, Perm.VIEW, t) and not can_manage_sla(SYSTEM)
    assert not is_administrator(SYSTEM) and not acts_for_school(SYSTEM)
    with pytest.raises(NotFound):  # a service that does not say it allows the system refuses it
        services.claim(SYSTEM, t, now=at(1))


def test_the_sweep_escalates_through_escalate_as_the_system(w, monkeypatch):
    from helpdesk.sla.sweep import sweep

    t = make_ticket(w.user_a)
    calls = []
    real = services.escalate

    def recording(actor, ticket, reason, **kwargs):
        calls.append((actor, ticket.id, kwargs.get("code"), kwargs.get("params")))
        return real(actor, ticket, reason, **kwargs)

    monkeypatch.setattr(services, "escalate", recording)
    now = datetime(2026, 3, 4, 8, 30, tzinfo=UTC)  # level 1's two working days ran out
    assert sweep(now=now).escalated == [t.id]
    assert calls == [(SYSTEM, t.id, SLA_LEVEL_TIME_OUT, {"level": 1, "minutes": 840})]
    events = db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == t.id, TicketEvent.kind == "escalate")
        .order_by(TicketEvent.id)).all()
    assert [(e.field, e.actor_id, e.actor_email) for e in events] == [
        ("level", None, None), ("unit", None, None)]  # by the system; a new ticket stays new
    assert events[0].reason_code == SLA_LEVEL_TIME_OUT and events[0].reason_params == {
        "level": 1, "minutes": 840} and events[0].reason
    assert not any(e.is_shared_with_school for e in events)
    assert t.level == 2


def test_reopen_keeps_the_files_that_came_with_the_reason(w):
    """What the mail gateway needs from reopen() instead of tickets.services' private writer."""
    t = make_ticket(w.user_a)
    services.resolve(w.l1, t, resolution(), "Λύθηκε εξ αποστάσεως.", now=at(1))
    message = services.reopen(w.user_a, t, "Πάλι δεν τυπώνει.", now=at(2), channel="email",
                              attachments=[Upload("error.txt", b"paper jam")])
    assert message.body == "Πάλι δεν τυπώνει." and message.channel == "email"
    files = db.session.scalars(select(Attachment).where(Attachment.ticket_id == t.id)).all()
    assert [(a.filename, a.message_id, a.uploaded_by_id) for a in files] == [
        ("error.txt", message.id, w.user_a.id)]


def _private_crossings() -> list[str]:
    """``from helpdesk.x import _name`` or ``module._name`` of another helpdesk module."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        tree = ast.parse(path.read_text("utf-8"))
        imported = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpdesk"):
                for alias in node.names:
                    name = alias.name
                    if name.startswith("_") and not name.startswith("__") and node.module != module:
                        found.append(f"{module}:{node.lineno}: from {node.module} import {name}")
                    imported[alias.asname or name] = f"{node.module}.{name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
                    and node.value.id in imported):
                found.append(f"{module}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_private_name_crosses_modules():
    assert _private_crossings() == []
