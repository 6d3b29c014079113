"""kb: the library of guides (articles, versions, files, equipment) and its search

Revision ID: kb01library
Revises: cas01psd
Create Date: 2026-12-03 12:30:00

PostgreSQL: the text search configuration ``helpdesk_greek`` (unaccent, then the Greek
snowball stemmer; Latin words as in ``greek``), a generated tsvector column
``kb_articles.search_tsv`` (title A, summary B, text C) with a GIN index, and a trigram
GIN index on the folded title for typos. SQLite: an FTS5 table ``kb_fts`` (diacritics
removed) whose rows helpdesk.kb.search writes with the article (stemmed by
helpdesk.kb.rules). Neither is mapped; migrations/env.py leaves them out of autogenerate.
"""
import sqlalchemy as sa
from alembic import op

revision = "kb01library"
down_revision = "cas01psd"
branch_labels = None
depends_on = None

_TSV = ("setweight(to_tsvector('helpdesk_greek', coalesce(title, '')), 'A') || "
        "setweight(to_tsvector('helpdesk_greek', coalesce(summary, '')), 'B') || "
        "setweight(to_tsvector('helpdesk_greek', coalesce(plain_text, '')), 'C')")


def upgrade():
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_key", sa.String(300), nullable=True),
        sa.Column("source_checksum", sa.String(64), nullable=True),
        sa.Column("title_folded", sa.String(200), nullable=False),
        sa.Column("plain_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"],
                                name=op.f("fk_kb_articles_category_id_categories")),
        sa.ForeignKeyConstraint(["owner_unit_id"], ["support_units.id"],
                                name=op.f("fk_kb_articles_owner_unit_id_support_units")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_kb_articles_created_by_id_users")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_kb_articles_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("slug", name=op.f("uq_kb_articles_slug")),
        sa.UniqueConstraint("source_key", name=op.f("uq_kb_articles_source_key")),
    )
    op.create_index("ix_kb_articles_category_id", "kb_articles", ["category_id"])
    op.create_index("ix_kb_articles_owner_unit_id", "kb_articles", ["owner_unit_id"])
    op.create_index("ix_kb_articles_status_audience", "kb_articles", ["status", "audience"])
    op.create_index("ix_kb_articles_updated_at", "kb_articles", ["updated_at"])

    op.create_table(
        "kb_article_equipment",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("equipment_category_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE",
                                name=op.f("fk_kb_article_equipment_article_id_kb_articles")),
        sa.ForeignKeyConstraint(
            ["equipment_category_id"], ["equipment_categories.id"],
            name=op.f("fk_kb_article_equipment_equipment_category_id_equipment_categories")),
        sa.PrimaryKeyConstraint("article_id", "equipment_category_id",
                                name=op.f("pk_kb_article_equipment")),
    )
    op.create_index("ix_kb_article_equipment_equipment_category_id", "kb_article_equipment",
                    ["equipment_category_id"])

    op.create_table(
        "kb_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE",
                                name=op.f("fk_kb_versions_article_id_kb_articles")),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"],
                                name=op.f("fk_kb_versions_category_id_categories")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_kb_versions_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_versions")),
        sa.UniqueConstraint("article_id", "number", name="uq_kb_versions_article_number"),
    )

    op.create_table(
        "kb_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("stored_name", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["kb_articles.id"], ondelete="CASCADE",
                                name=op.f("fk_kb_attachments_article_id_kb_articles")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"],
                                name=op.f("fk_kb_attachments_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_attachments")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_kb_attachments_stored_name")),
    )
    op.create_index("ix_kb_attachments_article_id", "kb_attachments", ["article_id"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'helpdesk_greek') THEN
                CREATE TEXT SEARCH CONFIGURATION helpdesk_greek (COPY = pg_catalog.greek);
                ALTER TEXT SEARCH CONFIGURATION helpdesk_greek
                  ALTER MAPPING FOR hword, hword_part, word WITH unaccent, greek_stem;
              END IF;
            END $$""")
        op.execute(f"ALTER TABLE kb_articles ADD COLUMN search_tsv tsvector "
                   f"GENERATED ALWAYS AS ({_TSV}) STORED")
        op.execute("CREATE INDEX ix_kb_articles_search_tsv ON kb_articles "
                   "USING gin (search_tsv)")
        op.execute("CREATE INDEX ix_kb_articles_title_trgm ON kb_articles "
                   "USING gin (title_folded gin_trgm_ops)")
    else:
        op.execute("CREATE VIRTUAL TABLE kb_fts USING fts5(title, summary, body, "
                   "tokenize=\"unicode61 remove_diacritics 2\")")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_title_trgm")
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_search_tsv")
    else:
        op.execute("DROP TABLE IF EXISTS kb_fts")
    op.drop_index("ix_kb_attachments_article_id", "kb_attachments")
    op.drop_table("kb_attachments")
    op.drop_table("kb_versions")
    op.drop_index("ix_kb_article_equipment_equipment_category_id", "kb_article_equipment")
    op.drop_table("kb_article_equipment")
    op.drop_index("ix_kb_articles_updated_at", "kb_articles")
    op.drop_index("ix_kb_articles_status_audience", "kb_articles")
    op.drop_index("ix_kb_articles_owner_unit_id", "kb_articles")
    op.drop_index("ix_kb_articles_category_id", "kb_articles")
    op.drop_table("kb_articles")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS helpdesk_greek")
