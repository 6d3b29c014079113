"""The library at work on requests (issue 15): guides used in tickets, deflections

Revision ID: kbuse01
Revises: perf01escidx
Create Date: 2026-12-04 09:00:00

ticket_kb_articles: which guide a ticket used and how (suggested while filing, sent in a
reply, resolved it). kb_deflections: requests a suggested guide made unnecessary.
resolution_types gets GUIDE ("by a library guide") when the organisation is loaded
already (helpdesk org load adds it otherwise).
"""
import sqlalchemy as sa
from alembic import op

revision = "kbuse01"
down_revision = "perf01escidx"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ticket_kb_articles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("article_id", sa.Integer(),
                  sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("use", sa.String(12), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("ticket_id", "article_id", "use", name="uq_ticket_kb_articles_use"),
    )
    op.create_index("ix_ticket_kb_articles_article_use", "ticket_kb_articles",
                    ["article_id", "use"])
    op.create_table(
        "kb_deflections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.Integer(),
                  sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("category_id", sa.Integer(), sa.ForeignKey("categories.id"), nullable=True),
        sa.Column("school_id", sa.Integer(), sa.ForeignKey("schools.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("support_units.id"), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("article_id", "category_id", "school_id", "created_at"):
        op.create_index(f"ix_kb_deflections_{column}", "kb_deflections", [column])
    bind = op.get_bind()
    loaded = bind.execute(sa.text("SELECT count(*) FROM resolution_types")).scalar()
    guide = bind.execute(sa.text(
        "SELECT count(*) FROM resolution_types WHERE code = 'GUIDE'")).scalar()
    if loaded and not guide:
        bind.execute(sa.text(
            "INSERT INTO resolution_types (code, name_el, name_en) "
            "VALUES ('GUIDE', 'Με οδηγό της Βιβλιοθήκης', 'By a library guide')"))


def downgrade():
    for column in ("article_id", "category_id", "school_id", "created_at"):
        op.drop_index(f"ix_kb_deflections_{column}", "kb_deflections")
    op.drop_table("kb_deflections")
    op.drop_index("ix_ticket_kb_articles_article_use", "ticket_kb_articles")
    op.drop_table("ticket_kb_articles")
