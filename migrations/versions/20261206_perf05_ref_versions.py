"""ref_versions: a version per cached reference table, bumped by triggers on every write

Revision ID: perf05refversions
Revises: perf04openunits
Create Date: 2026-12-06 12:00:00

Each process keeps copies of a few small tables (helpdesk.core.refcache) and checked them
once per transaction against an md5 of the tables' contents: a 1.4-2.3 ms statement on
every page (half of it planning eight aggregate subqueries). A row per table whose version
a trigger moves on every INSERT, UPDATE, DELETE (and TRUNCATE) makes the check a read of
eight rows.

The new version is never one seen before (PostgreSQL: a sequence, which a rollback does not
take back; SQLite: a random 64-bit number), so a copy built inside a transaction that was
then rolled back never matches a later, different change.
"""
from alembic import op

revision = "perf05refversions"
down_revision = "perf04openunits"
branch_labels = None
depends_on = None

#: The tables of helpdesk.core.refcache's copies (tests/test_refcache.py checks that every
#: TableCache's tables are here).
TABLES = ("support_units", "partner_areas", "directorates", "categories", "sla_policies",
          "business_hours", "closures", "webhook_subscriptions")


def upgrade():
    import sqlalchemy as sa

    op.create_table("ref_versions",
                    sa.Column("name", sa.String(64), primary_key=True),
                    sa.Column("version", sa.BigInteger(), nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE ref_versions_seq")
        op.execute("""CREATE FUNCTION ref_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE ref_versions SET version = nextval('ref_versions_seq')
                WHERE name = TG_TABLE_NAME;
                RETURN NULL;
            END $$""")
        for table in TABLES:
            op.execute(f"INSERT INTO ref_versions (name, version) "
                       f"VALUES ('{table}', nextval('ref_versions_seq'))")
            op.execute(f"CREATE TRIGGER ref_version_{table} AFTER INSERT OR UPDATE OR DELETE "
                       f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION ref_versions_bump()")
    else:
        for table in TABLES:
            op.execute(f"INSERT INTO ref_versions (name, version) VALUES ('{table}', random())")
            for kind in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER ref_version_{table}_{kind.lower()} AFTER {kind} "
                           f"ON {table} BEGIN UPDATE ref_versions SET version = random() "
                           f"WHERE name = '{table}'; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS ref_version_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ref_versions_bump()")
        op.execute("DROP SEQUENCE IF EXISTS ref_versions_seq")
    else:
        for table in TABLES:
            for kind in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS ref_version_{table}_{kind}")
    op.drop_table("ref_versions")
