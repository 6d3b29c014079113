"""Wires extensions, blueprints, template helpers, hooks and CLI into an app.

The top of the stack (docs/ARCHITECTURE.md): it imports every feature, and fills the
registries through which lower layers reach higher ones (the bus's handler table, the
ticket writer's change followers, the API's error documents).
"""
from __future__ import annotations

import os
import sqlite3
import time
from urllib.parse import urlsplit

from flask import Flask, g, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

import helpdesk.accounts.cas_models  # noqa: F401
import helpdesk.accounts.models  # noqa: F401 - every model is mapped before the first query
import helpdesk.api.models  # noqa: F401
import helpdesk.api.webhook_models  # noqa: F401
import helpdesk.audit.models  # noqa: F401
import helpdesk.canned.models  # noqa: F401
import helpdesk.census.models  # noqa: F401
import helpdesk.incidents.models  # noqa: F401
import helpdesk.inventory.models  # noqa: F401
import helpdesk.kb.models  # noqa: F401
import helpdesk.kbuse.models  # noqa: F401
import helpdesk.mail.models  # noqa: F401
import helpdesk.org.models  # noqa: F401
import helpdesk.outbox.models  # noqa: F401
import helpdesk.savedviews.models  # noqa: F401
import helpdesk.sla.models  # noqa: F401
import helpdesk.tickets.models  # noqa: F401
from helpdesk import bus, permissions
from helpdesk.accounts.cas_views import bp as cas_bp
from helpdesk.accounts.people.views import bp as people_bp
from helpdesk.accounts.views import bp as accounts_bp
from helpdesk.accounts.views import load_user  # noqa: F401 - registers the loader
from helpdesk.api import webhooks
from helpdesk.api.core import problem
from helpdesk.api.views import api_bp
from helpdesk.api.views import pages as api_pages
from helpdesk.canned.views import bp as canned_bp
from helpdesk.census.views import bp as census_bp
from helpdesk.cli import register_commands
from helpdesk.core import aftercommit, bounds, display, door, filestore, localtime, logs, redisconn
from helpdesk.core.errors import register_error_handlers
from helpdesk.core.metrics import observe_request
from helpdesk.extensions import babel, csrf, db, limiter, login_manager, mail, migrate
from helpdesk.handlers import HANDLERS
from helpdesk.incidents.views import bp as incidents_bp
from helpdesk.inventory.views import bp as inventory_bp
from helpdesk.kb.views import bp as kb_bp
from helpdesk.kbuse.views import bp as kbuse_bp
from helpdesk.mail.views import bp as mail_bp
from helpdesk.ops import retention
from helpdesk.ops.views import bp as ops_bp
from helpdesk.org.views import bp as organisation_bp
from helpdesk.reports.views import bp as reports_bp
from helpdesk.savedviews.views import bp as savedviews_bp
from helpdesk.sla.services import refresh_ticket_sla
from helpdesk.sla.views import bp as sla_bp
from helpdesk.tickets import services as ticket_services
from helpdesk.tickets.bulk_views import bp as bulk_bp
from helpdesk.tickets.confirm_views import bp as confirm_bp
from helpdesk.tickets.views import bp as tickets_bp


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    mail.init_app(app)
    # Flask-Babel reads BABEL_DEFAULT_TIMEZONE itself; the pure modules ask localtime.
    localtime.configure(app.config["BABEL_DEFAULT_TIMEZONE"], app.config["LANGUAGES"],
                        app.config["BABEL_DEFAULT_LOCALE"])
    babel.init_app(app, locale_selector=select_locale)
    app.config.setdefault("RATELIMIT_STORAGE_URI", redisconn.limiter_storage_uri(app))
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"
    bounds.init_app(app)  # before the blueprints: their <int:…> rules use its converter

    if not app.testing:
        logs.configure(app.config.get("LOG_FORMAT", "text"))
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_notifications(app)
    _register_cli(app)
    _register_security_headers(app)
    door.init_app(app)
    register_error_handlers(app, api_problem=problem)


def select_locale() -> str:
    """?lang=, then the session, then the user's setting; BABEL_DEFAULT_LOCALE by default."""
    languages, default = localtime.languages(), localtime.default_locale()
    if not has_request_context():
        return default
    if "lang" in request.args and request.args["lang"] in languages:
        return request.args["lang"]
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(languages) or default
    if session.get("lang") in languages:
        return session["lang"]
    if current_user and getattr(current_user, "is_authenticated", False):
        return current_user.locale or default
    return default


#: Milliseconds a SQLite writer waits for the write lock before "database is locked".
#: Longer than the longest write transaction we allow (jobs commit in chunks of well
#: under a second, a web request is shorter still) and shorter than gunicorn's timeout.
SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("HELPDESK_SQLITE_BUSY_TIMEOUT_MS", "30000"))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Real transactions, foreign keys and concurrent readers on SQLite."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """On SQLite, work that writes takes the write lock up front (BEGIN IMMEDIATE): a
    deferred transaction that reads and then writes fails at once with "database is
    locked" if another process committed in between, instead of waiting its turn.
    Reading web requests stay deferred, so pages never wait for a writer; CLI commands
    and jobs (which write) take the lock. SQLite is for development and demos; with
    PostgreSQL none of this applies."""
    if conn.dialect.name == "sqlite":
        writes = (not has_request_context()
                  or request.method not in ("GET", "HEAD", "OPTIONS"))
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _register_blueprints(app: Flask) -> None:
    for blueprint in (accounts_bp, cas_bp, people_bp, organisation_bp, tickets_bp, sla_bp,
                      reports_bp, api_bp, api_pages, inventory_bp, census_bp, mail_bp, ops_bp,
                      incidents_bp, kb_bp, kbuse_bp, canned_bp, savedviews_bp, confirm_bp, bulk_bp):
        app.register_blueprint(blueprint)


def _register_template_helpers(app: Flask) -> None:
    display.register(app)
    permissions.register(app)


def _register_notifications(app: Flask) -> None:
    """The bus (with its handler table) and the after-commit hooks on the session; the
    SLA clock follows every ticket change; retention also scrubs the webhook payloads."""
    aftercommit.register()
    bus.register(HANDLERS)
    filestore.register()
    retention.register(webhooks.RETENTION)
    ticket_services.follow_changes(refresh_ticket_sla)


def _register_cli(app: Flask) -> None:
    register_commands(app)


def _cas_origin(app: Flask) -> str:
    """The ΠΣΔ CAS server, where our log-out form's redirect goes on (CSP form-action
    covers redirects after a form is sent)."""
    if not app.config.get("CAS_ENABLED"):
        return ""
    parts = urlsplit(app.config.get("CAS_SERVER_URL") or "")
    return f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"frame-ancestors 'none'; form-action 'self'{_cas_origin(app)}",
        )
        return response

    @app.before_request
    def _query_counter():
        g.sql_queries = 0
        g.started = time.perf_counter()
        g.request_id = logs.new_request_id(request.headers.get("X-Request-ID"))
        g.request_id_token = logs.request_id.set(g.request_id)

    @app.teardown_request
    def _forget_request_id(exc=None):
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.request_id.reset(token)

    @app.after_request
    def _latency(response):
        started = g.get("started")
        if started is not None and request.endpoint != "static":
            route = request.url_rule.rule if request.url_rule else "<unmatched>"
            observe_request(route, request.method, response.status_code,
                                    time.perf_counter() - started)
        if g.get("request_id"):
            response.headers["X-Request-ID"] = g.request_id
        return response
