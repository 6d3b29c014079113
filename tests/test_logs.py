"""Logs: JSON lines with the request id, the id carried into the jobs a request queued
(a real RQ worker on a private Redis), and no personal data or secrets in what is
written, whatever the code logged."""
from __future__ import annotations

import io
import json
import logging

import pytest
import redis
from rq import Queue

from helpdesk.core import aftercommit, logs
from helpdesk.extensions import db as _db
from tests.factories import PASSWORD, World, make_ticket
from tests.web import csrf_token
from workers import resilient


@pytest.mark.parametrize("raw, expected", [
    ("from giorgos.papadopoulos@sch.gr", "from g…@sch.gr"),
    ("postgresql://arogi:s3cr3t@db/arogi", "postgresql://arogi:***@db/arogi"),
    ("login failed password=Hunter2&x=1", "login failed password=***&x=1"),
    ('{"token": "abcdef123"}', '{"token": "***"}'),
    ("CAS ticket=ST-12345-abc", "CAS ticket=***"),
    ("ticket ΑΡ-2026-000123 escalated", "ticket ΑΡ-2026-000123 escalated"),
])
def test_scrub(raw, expected):
    assert logs.scrub(raw) == expected


@pytest.mark.parametrize("offered, kept", [("a1b2c3d4e5f6a7b8", True),
                                           ("x" * 65, False), ("<script>", False), (None, False)])
def test_request_id_from_the_proxy_only_when_plain(offered, kept):
    made = logs.new_request_id(offered)
    assert (made == offered) is kept and 8 <= len(made) <= 64


def test_each_response_names_its_request_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second
    given = client.get("/healthz", headers={"X-Request-ID": "nginx-req-0001"})
    assert given.headers["X-Request-ID"] == "nginx-req-0001"


def test_the_request_id_follows_into_the_job(app, redis_server, monkeypatch, db):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_server)
    connection = redis.Redis.from_url(redis_server)
    connection.flushdb()
    with app.test_request_context("/tickets", headers={"X-Request-ID": "req-follow-0001"}):
        app.preprocess_request()
        assert aftercommit.enqueue(aftercommit.Job("default", "helpdesk.core.logs.current"))
    assert logs.current() is None  # nothing leaks out of the request
    queue = Queue("default", connection=connection)
    job = queue.jobs[0]
    assert job.meta["request_id"] == "req-follow-0001"
    resilient.HelpdeskSimpleWorker([queue], connection=connection).work(burst=True)
    assert job.return_value() == "req-follow-0001"


@pytest.fixture
def json_logs():
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    yield stream
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_arogi", False)]:
        root.removeHandler(handler)


def test_no_personal_data_or_secret_in_the_log_lines(client, db, json_logs):
    w = World()
    # A failed log-in, a filed ticket, and code that logs an address and a URL with a password.
    client.post("/login", data={"email": w.user_a.email, "password": "Wr0ng-Pa55!",
                                "csrf_token": csrf_token(client, "/login")})
    make_ticket(w.user_a, subject="Ο κ. Νικολάου δεν μπαίνει στο MySchool")
    _db.session.commit()
    logging.getLogger("helpdesk.test").warning("mail to %s failed via %s", w.user_a.email,
                                               "smtp://relay:Relay-Pa55@smtp.sch.gr")
    client.post("/login", data={"email": w.user_a.email, "password": PASSWORD,
                                "csrf_token": csrf_token(client, "/login")})
    written = json_logs.getvalue()
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    assert any(line["logger"] == "helpdesk.test" for line in lines)
    for secret in (w.user_a.email, "Wr0ng-Pa55!", PASSWORD, "Relay-Pa55"):
        assert secret not in written, secret
    for line in lines:
        assert set(line) >= {"time", "level", "logger", "message", "request_id"}
