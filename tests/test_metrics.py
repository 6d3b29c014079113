"""/metrics: every series of issue 16 is exposed, with values that follow real work (a
real SMTP server receives the mail, a real RQ worker runs the jobs, the SLA sweep runs),
and only the configured networks may read it."""
from __future__ import annotations

import re

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from helpdesk.extensions import db as _db
from tests.factories import World, make_ticket
from tests.test_outbox_delivery import deliver_all, smtp  # noqa: F401 - the SMTP fixture
from workers import jobs, resilient


def scrape(client) -> dict[str, dict]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    series = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            series.setdefault(sample.name, []).append((sample.labels, sample.value))
    return series


def value(series, name, **labels) -> float:
    return sum(v for found, v in series.get(name, []) if labels.items() <= found.items())


@pytest.fixture
def w(db):
    return World()


def test_every_series_is_exposed_and_follows_the_work(client, app, w, smtp, redis_server,  # noqa: F811
                                                      monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_server)
    connection = redis.Redis.from_url(redis_server)
    connection.flushdb()
    before = scrape(client)

    make_ticket(w.user_a, subject="Δεν ανοίγει ο διακομιστής")
    _db.session.commit()
    backlog = scrape(client)
    assert value(backlog, "arogi_outbox_backlog") >= 1
    assert value(backlog, "arogi_outbox_oldest_undelivered_seconds") >= 0

    deliver_all()
    assert value(scrape(client), "arogi_outbox_backlog") == 0
    queue = Queue("default", connection=connection)
    queue.enqueue(jobs.sla_sweep)
    assert value(scrape(client), "arogi_queue_depth", queue="default") == 1
    resilient.HelpdeskSimpleWorker([queue], connection=connection).work(burst=True)

    client.get("/healthz")
    after = scrape(client)
    assert value(after, "arogi_mails_sent_total", outcome="sent") \
        > value(before, "arogi_mails_sent_total", outcome="sent")
    assert value(after, "arogi_queue_depth", queue="default") == 0
    assert value(after, "arogi_job_duration_seconds_count", queue="default", job="sla_sweep",
                 outcome="ok") >= 1
    assert value(after, "arogi_sla_sweep_duration_seconds_count") >= 1
    assert value(after, "arogi_http_request_duration_seconds_count", route="/healthz",
                 method="GET", status="2xx") >= 1
    for name in ("arogi_mail_quarantine_size", "arogi_mails_received_total"):
        assert name in after, name


def test_a_failed_job_is_counted_as_failed(client, app, redis_server, monkeypatch, db):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_server)
    connection = redis.Redis.from_url(redis_server)
    queue = Queue("default", connection=connection)
    queue.enqueue("workers.jobs.no_such_job")
    resilient.HelpdeskSimpleWorker([queue], connection=connection).work(burst=True)
    assert value(scrape(client), "arogi_job_duration_seconds_count",
                 outcome="failed") >= 1


def test_redis_down_leaves_the_queue_series_out_but_answers(client, app, private_redis,
                                                            monkeypatch, db):
    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    assert "arogi_queue_depth" in scrape(client)
    private_redis.stop()
    app.extensions.get("redis", {}).clear()
    series = scrape(client)
    assert "arogi_queue_depth" not in series and "arogi_outbox_backlog" in series


def test_metrics_are_not_for_everyone(client, db):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 404


def test_no_personal_data_in_the_series(client, w):
    make_ticket(w.user_a, subject="Πρόβλημα του κ. Παπαδόπουλου")
    _db.session.commit()
    text = client.get("/metrics").get_data(as_text=True)
    assert "@" not in text and not re.search("[α-ωΑ-Ω]", text)
