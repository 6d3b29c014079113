"""what a school may read of a ticket's events: is_shared_with_school, reason codes

Revision ID: visibility01
Revises: m6schoolupd
Create Date: 2026-12-03 08:10:00

Adds to ticket_events:
- ``is_shared_with_school``: the school reads the event's reason too. Existing rows are
  set by the rules of helpdesk.tickets.visibility as they stand today: the reasons of
  replies, filings, resolutions, reopenings, closings and status changes are the school's
  own texts or texts written to it (shared); escalation reasons, return instructions,
  priority reasons and internal notes are staff-to-staff (not shared).
- ``reason_code`` / ``reason_params``: a machine-written reason as a code rendered in the
  reader's language. The SLA sweep's automatic escalations, stored so far as the bilingual
  text "Αυτόματη κλιμάκωση: … / Automatic escalation: level N time ran out.", get the code
  ``sla.level_time_out`` with their level (and minutes); their text stays as written.
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "visibility01"
down_revision = "m6schoolupd"
branch_labels = None
depends_on = None

#: helpdesk.tickets.visibility.SHARED_REASON_KINDS when this revision was written.
SHARED_KINDS = ("created", "reply", "resolve", "reopen", "close", "claim", "assign",
                "await_school", "school_reply")
_LEVEL = re.compile(r"Automatic escalation: level (\d+) time ran out\.")
_MINUTES = re.compile(r"\((\d+) λεπτά εργασίας\)")

events = sa.table(
    "ticket_events", sa.column("id", sa.Integer), sa.column("kind", sa.String),
    sa.column("reason", sa.Text), sa.column("is_internal", sa.Boolean),
    sa.column("is_shared_with_school", sa.Boolean), sa.column("reason_code", sa.String),
    sa.column("reason_params", sa.JSON))


def upgrade():
    # A constant default ('0', which PostgreSQL reads as false) lets SQLite add the columns
    # in place instead of copying the whole table.
    with op.batch_alter_table("ticket_events") as batch_op:
        batch_op.add_column(sa.Column("is_shared_with_school", sa.Boolean(),
                                      server_default="0", nullable=False))
        batch_op.add_column(sa.Column("reason_code", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("reason_params", sa.JSON(), nullable=True))
    op.execute(events.update()
               .where(events.c.is_internal.is_(False), events.c.kind.in_(SHARED_KINDS))
               .values(is_shared_with_school=True))
    _code_automatic_escalations(op.get_bind())


def _code_automatic_escalations(conn) -> None:
    rows = conn.execute(sa.select(events.c.id, events.c.reason).where(
        events.c.kind == "escalate", events.c.reason.like("%Automatic escalation: level %"))).all()
    updates = []
    for event_id, reason in rows:
        found = _LEVEL.search(reason or "")
        if found is None:
            continue
        params = {"level": int(found.group(1))}
        minutes = _MINUTES.search(reason)
        if minutes is not None:
            params["minutes"] = int(minutes.group(1))
        updates.append({"event_id": event_id, "code": "sla.level_time_out", "params": params})
    if updates:
        conn.execute(events.update().where(events.c.id == sa.bindparam("event_id"))
                     .values(reason_code=sa.bindparam("code"),
                             reason_params=sa.bindparam("params", type_=sa.JSON)), updates)


def downgrade():
    with op.batch_alter_table("ticket_events") as batch_op:
        batch_op.drop_column("reason_params")
        batch_op.drop_column("reason_code")
        batch_op.drop_column("is_shared_with_school")
