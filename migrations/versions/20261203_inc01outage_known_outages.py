"""incidents: known outages, their scope, timeline and linked tickets (issue 15)

Revision ID: inc01outage
Revises: cas01psd
Create Date: 2026-12-03 12:30:00

New tables only (nothing existing changes): ``incidents``, ``incident_scopes``,
``incident_updates`` (with the cursor of the job that posts an update to the linked
tickets, and a partial index of the unfinished ones for the sweep) and
``incident_links``.
"""
import sqlalchemy as sa
from alembic import op

from helpdesk.core.types import UTCDateTime

revision = "inc01outage"
down_revision = "cas01psd"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("scope_kind", sa.String(20), nullable=False),
        sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id"), nullable=False),
        sa.Column("created_by_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("origin_ticket_id", sa.Integer, sa.ForeignKey("tickets.id")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("resolved_at", UTCDateTime),
    )
    op.create_index("ix_incidents_status_updated", "incidents", ["status", "updated_at"])
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"])
    op.create_table(
        "incident_scopes",
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("kind", sa.String(12), primary_key=True),
        sa.Column("ref_id", sa.Integer, primary_key=True),
    )
    op.create_index("ix_incident_scopes_kind_ref", "incident_scopes",
                    ["kind", "ref_id", "incident_id"])
    op.create_table(
        "incident_updates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("cursor", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tickets_done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("done_at", UTCDateTime),
    )
    op.create_index("ix_incident_updates_incident_created", "incident_updates",
                    ["incident_id", "created_at"])
    op.create_index("ix_incident_updates_pending", "incident_updates", ["created_at"],
                    postgresql_where=sa.text("done_at IS NULL"),
                    sqlite_where=sa.text("done_at IS NULL"))
    op.create_table(
        "incident_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("school_id", sa.Integer, sa.ForeignKey("schools.id"), nullable=False),
        sa.Column("linked_at", UTCDateTime, nullable=False),
        sa.Column("linked_by_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("unlinked_at", UTCDateTime),
        sa.Column("unlinked_by_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.UniqueConstraint("incident_id", "ticket_id",
                            name="uq_incident_links_incident_ticket"),
    )
    op.create_index("ix_incident_links_incident_active", "incident_links",
                    ["incident_id", "unlinked_at", "ticket_id"])
    op.create_index("ix_incident_links_ticket", "incident_links", ["ticket_id", "unlinked_at"])
    op.create_index("ix_incident_links_school", "incident_links", ["school_id", "incident_id"])


def downgrade():
    op.drop_table("incident_links")
    op.drop_table("incident_updates")
    op.drop_table("incident_scopes")
    op.drop_table("incidents")
