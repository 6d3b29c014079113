"""The production settings check (pure: a mapping of settings in, problems out).

``helpdesk check`` prints them; with ``PRODUCTION = true`` the app refuses to start
while any is left, so a node never serves real schools with a development setting.
"""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

#: The development key shipped in config/default.py.
DEV_SECRET_KEY = "dev-only-change-me"
MIN_SECRET_KEY_LENGTH = 32
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


def production_problems(cfg: Mapping) -> list[str]:
    """Every unsafe or development-only setting in ``cfg``, as one line each."""
    problems = []
    key = cfg.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY: set a random value of at least {MIN_SECRET_KEY_LENGTH}"
                        " characters (python -c 'import secrets; print(secrets.token_hex(32))')")
    if cfg.get("MAIL_SUPPRESS_SEND", True):
        problems.append("MAIL_SUPPRESS_SEND: true keeps every notification on this machine;"
                        " set HELPDESK_MAIL_SUPPRESS_SEND=false")
    database = cfg.get("SQLALCHEMY_DATABASE_URI") or ""
    if not database.startswith("postgresql"):
        problems.append("DATABASE_URL: production runs on PostgreSQL, not SQLite")
    if not cfg.get("REDIS_URL"):
        problems.append("REDIS_URL: set the address of the Redis service (the embedded"
                        " server is for one machine only)")
    if cfg.get("PREFERRED_URL_SCHEME") != "https":
        problems.append("PREFERRED_URL_SCHEME: https (secure cookies, HSTS, links in mail)")
    if cfg.get("SECURE_COOKIES") is False:
        problems.append("SECURE_COOKIES: false sends session cookies over plain HTTP")
    base = urlsplit(cfg.get("MAIL_BASE_URL") or "")
    if base.scheme != "https" or (base.hostname or "") in _LOCAL_HOSTS:
        problems.append("MAIL_BASE_URL: the public https:// address of the site (links in"
                        " mail point there)")
    if cfg.get("CAS_ENABLED"):
        cas = urlsplit(cfg.get("CAS_SERVER_URL") or "")
        if cas.scheme != "https" or not cas.hostname:
            problems.append("CAS_SERVER_URL: the https:// address of the ΠΣΔ CAS server")
        if cfg.get("CAS_ALLOW_HTTP"):
            problems.append("CAS_ALLOW_HTTP: tickets must travel over https only")
    storage = (cfg.get("STORAGE_BACKEND") or "local").strip().lower()
    if storage not in ("local", "database"):
        problems.append("STORAGE_BACKEND: local or database")
    elif storage == "local" and not cfg.get("ATTACHMENT_DIR"):
        problems.append("STORAGE_BACKEND: local keeps the files under instance/ of this one"
                        " machine; set HELPDESK_STORAGE_BACKEND=database (every node sees"
                        " them) or HELPDESK_ATTACHMENT_DIR to a directory every node shares")
    if cfg.get("DEBUG") or cfg.get("TESTING"):
        problems.append("DEBUG/TESTING: must be off")
    return problems
