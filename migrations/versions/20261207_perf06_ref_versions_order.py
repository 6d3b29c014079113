"""ref_versions: writers take every version row, in one order, before their statement

Revision ID: perf06refversionsorder
Revises: perf05refversions
Create Date: 2026-12-07 12:00:00

perf05refversions moved a table's version after each statement that wrote it (AFTER ...
FOR EACH STATEMENT), so a transaction held the version rows of the tables it had written
until its commit, taken in the order it wrote them. Two transactions that wrote different
rows of the same two cached tables in opposite orders (an administrator's unit edit and a
reference-data load, say) then waited for each other's version row: PostgreSQL found the
deadlock and aborted one, where without the versions neither would have waited.

Now the trigger runs BEFORE each statement and first locks every version row in the
order of their names, then moves its table's: a transaction holds all of them from its
first write to a cached table, so a second writer waits at its own first such statement,
before it has touched a row, and goes on at the first one's commit. Writes to these
tables are rare (administrators, imports); reads never wait. SQLite lets one writer in at
a time and keeps its row triggers.
"""
from alembic import op

revision = "perf06refversionsorder"
down_revision = "perf05refversions"
branch_labels = None
depends_on = None

_BUMP = """CREATE OR REPLACE FUNCTION ref_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {lock}UPDATE ref_versions SET version = nextval('ref_versions_seq')
        WHERE name = TG_TABLE_NAME;
        RETURN NULL;
    END $$"""
#: Every version row, locked in one order (the Sort runs below the row locks).
_LOCK_ALL = "PERFORM 1 FROM ref_versions ORDER BY name FOR UPDATE;\n        "


def _tables() -> list[str]:
    return [row[0] for row in op.get_bind().exec_driver_sql(
        "SELECT name FROM ref_versions ORDER BY name")]


def _triggers(when: str, lock: str) -> None:
    op.execute(_BUMP.format(lock=lock))
    for table in _tables():
        op.execute(f"DROP TRIGGER IF EXISTS ref_version_{table} ON {table}")
        op.execute(f"CREATE TRIGGER ref_version_{table} {when} INSERT OR UPDATE OR DELETE "
                   f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION ref_versions_bump()")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _triggers("BEFORE", _LOCK_ALL)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _triggers("AFTER", "")
