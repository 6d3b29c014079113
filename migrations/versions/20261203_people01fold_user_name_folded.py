"""users.name_folded: people are found by name without accents or case

Revision ID: people01fold
Revises: audit01log
Create Date: 2026-12-03 09:00:00

The people administration searches names accent- and case-insensitively
(helpdesk.core.text.fold), as schools are searched by ``schools.name_folded``. The column
is filled here for existing accounts and kept by the model whenever a name is set.
"""
import sqlalchemy as sa
from alembic import op

from helpdesk.core.text import fold

revision = "people01fold"
down_revision = "audit01log"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("name_folded", sa.String(200), nullable=False,
                                   server_default=""))
        batch.create_index("ix_users_name_folded", ["name_folded"])
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("name", sa.String),
                     sa.column("name_folded", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.name)).all()
    for user_id, name in rows:
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(name_folded=fold(name)[:200]))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_name_folded")
        batch.drop_column("name_folded")
