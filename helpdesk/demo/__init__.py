"""Demo data: realistic schools, accounts and tickets for trying Αρωγή out."""
from helpdesk.demo.accounts import DEMO_PASSWORD, demo_loaded, logins

__all__ = ["DEMO_PASSWORD", "demo_loaded", "logins"]
