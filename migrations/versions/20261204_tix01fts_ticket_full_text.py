"""tickets: ranked Greek full-text search (issue 17)

Revision ID: tix01fts
Revises: kbuse01
Create Date: 2026-12-04 12:00:00

PostgreSQL: the generated ``tickets.search_tsv`` in the library's configuration
``helpdesk_greek`` (the subject weighs A; the folded ref, subject, description and school
of ``search_text`` B) with a GIN index; adding it computes it for every existing row.
SQLite: the FTS5 table ``ticket_fts`` (rowid = ticket id, diacritics removed) holding the
stems of ``search_text`` (helpdesk.core.fulltext.stem_text), filled here from the
existing tickets and written with each ticket afterwards (helpdesk.tickets.search).
The trigram index of the old LIKE search (ix_tickets_search_trgm) is dropped: nothing reads
it any more, and every write of a ticket updated it.
"""
import sqlalchemy as sa
from alembic import op

from helpdesk.core.fulltext import stem_text

revision = "tix01fts"
down_revision = "kbuse01"
branch_labels = None
depends_on = None

#: Hyphens become spaces first: the parser reads ΑΡ-2026-000123 as signed numbers
#: ('-2026', '-000123'), which a search for 000123 would not find.
_TSV = ("setweight(to_tsvector('helpdesk_greek', translate(coalesce(subject, ''), '-', ' ')),"
        " 'A') || setweight(to_tsvector('helpdesk_greek', "
        "translate(coalesce(search_text, ''), '-', ' ')), 'B')")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE tickets ADD COLUMN search_tsv tsvector "
                   f"GENERATED ALWAYS AS ({_TSV}) STORED")
        op.execute("CREATE INDEX ix_tickets_search_tsv ON tickets USING gin (search_tsv)")
        # the LIKE search's trigram index has no reader left (every ticket write paid it)
        op.execute("DROP INDEX IF EXISTS ix_tickets_search_trgm")
        return
    op.execute("CREATE VIRTUAL TABLE ticket_fts USING fts5(body, "
               "tokenize=\"unicode61 remove_diacritics 2\")")
    after = 0
    while True:
        rows = bind.execute(sa.text("SELECT id, search_text FROM tickets WHERE id > :after "
                                    "ORDER BY id LIMIT 1000"), {"after": after}).all()
        if not rows:
            break
        bind.execute(sa.text("INSERT INTO ticket_fts (rowid, body) VALUES (:id, :body)"),
                     [{"id": r.id, "body": stem_text(r.search_text)} for r in rows])
        after = rows[-1].id


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tickets_search_tsv")
        op.execute("CREATE INDEX IF NOT EXISTS ix_tickets_search_trgm ON tickets "
                   "USING gin (search_text gin_trgm_ops)")
        op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS search_tsv")
    else:
        op.execute("DROP TABLE IF EXISTS ticket_fts")
