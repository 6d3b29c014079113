"""Exit 0 when the configured database has at least one ticket, 1 otherwise (make run)."""
import sys

from sqlalchemy import select

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket

with create_app().app_context():
    sys.exit(0 if db.session.scalar(select(Ticket.id).limit(1)) is not None else 1)
