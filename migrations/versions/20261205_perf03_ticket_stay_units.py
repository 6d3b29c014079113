"""tickets.stay_units: the units a ticket ever stayed at, for unit staff's scope (PostgreSQL)

Revision ID: perf03stayunits
Revises: perf02updidx
Create Date: 2026-12-05 10:00:00

Unit staff see the tickets that are or were at their units (helpdesk.permissions
.ticket_scope): until now ``unit_id IN (…) OR EXISTS (a stay at one of them)``, which no
index answers together with a text search. At 1M tickets a technician's search for a
common word ranked 80,000 matches of the country to keep 1,300 of their unit's (≈650 ms).

PostgreSQL: ``tickets.stay_units integer[]`` holds the ids of the units of the ticket's
stays (the current unit's included: a ticket at a unit has a stay there), kept by a
trigger on every INSERT into ``ticket_stays`` (whatever writes the stay: a service, a bulk
statement, a COPY), with a GIN index; the scope becomes ``stay_units && ARRAY[…]`` and a
search ANDs the two GIN indexes (the unit's tickets, the word's tickets) before reading a
row. Stays are never deleted, so the array only grows. Existing rows are filled here.
SQLite keeps the EXISTS scope: it has no arrays, and its data sets are small.
"""
from alembic import op

revision = "perf03stayunits"
down_revision = "perf02updidx"
branch_labels = None
depends_on = None

#: A ticket's own unit goes into its row as it is written (filed, escalated, returned,
#: moved): no second write of the row when the stay at that unit follows.
_OWN_UNIT = """
CREATE OR REPLACE FUNCTION tickets_keep_own_unit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (NEW.unit_id = ANY (NEW.stay_units)) THEN
        NEW.stay_units := array_append(NEW.stay_units, NEW.unit_id);
    END IF;
    RETURN NEW;
END
$$
"""
#: Any stay, whoever writes it: its unit is added if it is not there yet.
_FUNCTION = """
CREATE OR REPLACE FUNCTION tickets_add_stay_unit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets SET stay_units = array_append(stay_units, NEW.unit_id)
     WHERE id = NEW.ticket_id AND NOT (NEW.unit_id = ANY (stay_units));
    RETURN NULL;
END
$$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE tickets ADD COLUMN stay_units integer[] NOT NULL DEFAULT '{}'")
    op.execute("""
        UPDATE tickets t SET stay_units = s.units
          FROM (SELECT ticket_id, array_agg(DISTINCT unit_id ORDER BY unit_id) AS units
                  FROM ticket_stays GROUP BY ticket_id) s
         WHERE s.ticket_id = t.id""")
    op.execute(_OWN_UNIT)
    op.execute("CREATE TRIGGER tickets_own_unit BEFORE INSERT OR UPDATE OF unit_id ON tickets "
               "FOR EACH ROW EXECUTE FUNCTION tickets_keep_own_unit()")
    op.execute(_FUNCTION)
    op.execute("CREATE TRIGGER ticket_stays_add_unit AFTER INSERT ON ticket_stays "
               "FOR EACH ROW EXECUTE FUNCTION tickets_add_stay_unit()")
    op.execute("CREATE INDEX ix_tickets_stay_units_tsv ON tickets "
               "USING gin (stay_units, search_tsv)")
    op.execute("DROP INDEX IF EXISTS ix_tickets_search_tsv")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS ticket_stays_add_unit ON ticket_stays")
    op.execute("DROP FUNCTION IF EXISTS tickets_add_stay_unit()")
    op.execute("DROP TRIGGER IF EXISTS tickets_own_unit ON tickets")
    op.execute("DROP FUNCTION IF EXISTS tickets_keep_own_unit()")
    op.execute("CREATE INDEX IF NOT EXISTS ix_tickets_search_tsv ON tickets "
               "USING gin (search_tsv)")
    op.execute("DROP INDEX IF EXISTS ix_tickets_stay_units_tsv")
    op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS stay_units")
