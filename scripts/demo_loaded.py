"""For make run: exit 0 when the database already has the demo data, 3 when it has not
(any other status is an error)."""
import sys

from helpdesk import create_app

with create_app().app_context():
    from helpdesk.demo import demo_loaded

    sys.exit(0 if demo_loaded() else 3)
