"""/healthz, /readyz and ``helpdesk check``: the node's readiness follows its real
dependencies (a redis-server we stop and start, PostgreSQL behind a TCP relay we cut),
and production refuses to start with a development setting."""
from __future__ import annotations

import logging
import socket
import threading

import pytest
from sqlalchemy.engine import make_url

from helpdesk import _normalise_db_url
from helpdesk.ops.settings import production_problems
from tests.conftest import BASE_CONFIG, make_app
from tests.conftest import test_database_url as pg_url

SAFE = {
    "SECRET_KEY": "k" * 64, "MAIL_SUPPRESS_SEND": False,
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://arogi@db.example.gr/arogi",
    "REDIS_URL": "redis://redis.example.gr:6379/0", "PREFERRED_URL_SCHEME": "https",
    "SECURE_COOKIES": None, "MAIL_BASE_URL": "https://arogi.sch.gr",
    "STORAGE_BACKEND": "database",
}


def test_safe_production_settings_pass():
    assert production_problems(SAFE) == []


@pytest.mark.parametrize("key, value, named", [
    ("SECRET_KEY", "dev-only-change-me", "SECRET_KEY"),
    ("SECRET_KEY", "short", "SECRET_KEY"),
    ("MAIL_SUPPRESS_SEND", True, "MAIL_SUPPRESS_SEND"),
    ("SQLALCHEMY_DATABASE_URI", "sqlite:////srv/arogi/h.db", "DATABASE_URL"),
    ("REDIS_URL", "", "REDIS_URL"),
    ("PREFERRED_URL_SCHEME", "http", "PREFERRED_URL_SCHEME"),
    ("SECURE_COOKIES", False, "SECURE_COOKIES"),
    ("MAIL_BASE_URL", "http://127.0.0.1:5000", "MAIL_BASE_URL"),
    ("DEBUG", True, "DEBUG"),
    ("STORAGE_BACKEND", "s3", "STORAGE_BACKEND"),
    ("STORAGE_BACKEND", "local", "STORAGE_BACKEND"),
])
def test_each_unsafe_setting_is_named(key, value, named):
    problems = production_problems({**SAFE, key: value})
    assert len(problems) == 1 and problems[0].startswith(named)


def test_cas_over_plain_http_is_refused():
    problems = production_problems({**SAFE, "CAS_ENABLED": True, "CAS_ALLOW_HTTP": True,
                                    "CAS_SERVER_URL": "http://sso.sch.gr/"})
    assert [p.split(":")[0] for p in problems] == ["CAS_SERVER_URL", "CAS_ALLOW_HTTP"]


def test_production_app_refuses_to_start_with_development_settings(tmp_path):
    with pytest.raises(SystemExit) as refused:
        make_app(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", PRODUCTION=True, TESTING=False)
    assert "SECRET_KEY" in str(refused.value) and "MAIL_SUPPRESS_SEND" in str(refused.value)


def test_production_app_starts_with_safe_settings(tmp_path):
    app = make_app(tmp_path, SAFE["SQLALCHEMY_DATABASE_URI"], PRODUCTION=True, TESTING=False,
                   **{k: v for k, v in SAFE.items() if k != "SQLALCHEMY_DATABASE_URI"})
    assert app.config["PRODUCTION"]
    # a non-testing app configures the process's logging (as gunicorn's would): undo it
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_arogi", False)]:
        root.removeHandler(handler)


def test_check_command_exits_1_and_names_the_settings(app):
    result = app.test_cli_runner().invoke(args=["check", "--settings-only"])
    assert result.exit_code == 1
    assert "SECRET_KEY" in result.output and "MAIL_SUPPRESS_SEND" in result.output


def test_healthz_answers_without_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "alive"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_on_the_test_app(client, app, private_redis, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json == {"status": "ready", "checks": {
        "database": "ok", "migrations": "ok", "redis": "ok", "storage": "ok"}}


def test_readyz_follows_redis_down_and_back(client, app, private_redis, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    assert client.get("/readyz").status_code == 200
    private_redis.stop()
    down = client.get("/readyz")
    assert down.status_code == 503 and down.json["checks"]["redis"] == "ConnectionError"
    assert down.json["checks"]["database"] == "ok"
    private_redis.restart()
    assert client.get("/readyz").status_code == 200


def test_readyz_unready_when_storage_cannot_be_written(client, app, private_redis,
                                                       monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(blocker / "attachments"))
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["storage"] != "ok"


def test_readyz_unready_before_migrations(tmp_path, private_redis):
    fresh = make_app(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}",
                     REDIS_URL=private_redis.url)
    response = fresh.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["migrations"] == "no alembic_version table"


class Relay:
    """A TCP relay to PostgreSQL that the test can cut (the database "stops": open
    connections drop, new ones are refused) and restore, on the same port."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[socket.socket] = []
        self.up = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.target)
            self.pairs += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        self.up = False
        for s in self.pairs:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.pairs.clear()

    def restore(self):
        self.up = True

    def close(self):
        self.cut()
        self.listener.close()


@pytest.mark.skipif(not pg_url(), reason="PostgreSQL runs only (TEST_DATABASE_URL)")
def test_readyz_follows_postgresql_down_and_back(app, tmp_path, private_redis):
    url = make_url(_normalise_db_url(pg_url()))
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    try:
        node = make_app(tmp_path, url.set(host="127.0.0.1", port=relay.port)
                        .render_as_string(hide_password=False),
                        **{**BASE_CONFIG, "REDIS_URL": private_redis.url})
        web = node.test_client()
        assert web.get("/readyz").status_code == 200
        relay.cut()
        down = web.get("/readyz")
        assert down.status_code == 503 and down.json["checks"]["database"] != "ok"
        assert url.password is None or url.password not in down.get_data(as_text=True)
        relay.restore()
        assert web.get("/readyz").status_code == 200
    finally:
        relay.close()
