"""Production beyond one machine, as processes: two web nodes, two workers and two
schedulers on one PostgreSQL and one Redis, files in the database (issue 16's "done").

Two gunicorn web nodes on two ports, each with an instance directory of its own (they
share no filesystem), two ``helpdesk worker`` and two ``helpdesk cron`` processes, a
private redis-server started here and a real SMTP server (aiosmtpd on loopback);
STORAGE_BACKEND = database. A school files a request with an attachment through node A;
a technician downloads it and replies through node B; an administrator changes an SLA
policy through node A and node B files the next request by it (its cached copy of the
reference data follows without a restart); every notification goes out once.
Then a batch of many notifications is sent while one worker is killed with SIGKILL in
the middle: none is lost, none goes twice. The schedulers queue each periodic job once
per interval. Runs in the PostgreSQL pass only; nothing is mocked.
"""
from __future__ import annotations

import asyncio
import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from helpdesk import ROOT
from tests.test_as_shipped import Person
from tests.test_outbox_delivery import Sink, free_port
from tests.test_processes import stop_group

TICK = 3  # CRON_TICK_SECONDS
HELPDESK = [sys.executable, "-m", "workers"]
BATCH = 40
DELAY = 0.3  # seconds the SMTP server takes to answer a mail's DATA


def _pg_database() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL runs only (TEST_DATABASE_URL): several nodes share one "
                    "database, which SQLite cannot be")
    url = make_url(url)
    name = f"{url.database}_multinode"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {url.host}:{url.port}: {type(exc).__name__}")
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _start(tmp_path: Path, env: dict, name: str, args: list[str]) -> subprocess.Popen:
    instance = tmp_path / name
    instance.mkdir(exist_ok=True)
    return subprocess.Popen(args, env={**env, "HELPDESK_INSTANCE_PATH": str(instance)},
                            cwd=ROOT, stdout=open(tmp_path / f"{name}.log", "w"),
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := predicate():
                return value
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def _prepare(tmp_path: Path, database: str, redis_url: str) -> dict[str, tuple[str, str]]:
    """The schema (the migrations, run once, in this process), the reference data, one
    school with its account, a first-level technician of its unit and an administrator,
    built through the product's services; their (e-mail, password)."""
    from helpdesk.extensions import db
    from tests import factories
    from tests.conftest import _normalise_db_url, build_schema, make_app

    app = make_app(tmp_path / "setup", _normalise_db_url(database), REDIS_URL=redis_url,
                   STORAGE_BACKEND="database")
    build_schema(app)
    with app.app_context():
        school = factories.make_school()
        people = {"school": factories.make_school_user(school),
                  "l1": factories.make_staff(factories.unit_at(school, 1)),
                  "admin": factories.make_admin()}
        logins = {role: (user.email, factories.PASSWORD) for role, user in people.items()}
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return logins


class HoldingSink(Sink):
    """The SMTP sink, able to hold one mail's DATA (``hold_at``: the attempt number) until
    the test says go, then refuse it (451): a mail the server never accepted, as when the
    sender dies before its end of DATA. The test kills the sender while it is held, so
    the kill always lands before an acceptance (an acceptance the sender never commits
    would send that one mail twice: SMTP has no two-phase commit, and the mail keeps its
    Message-ID for the reader's client; that instant is not what this test is about)."""

    def __init__(self):
        super().__init__()
        self.hold_at: int | None = None
        self.held_peer: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            held = self.hold_at is not None and self.attempts + 1 == self.hold_at
            if held:
                self.attempts += 1
        if not held:
            return await super().handle_DATA(server, session, envelope)
        self.held_peer = session.peer[1]
        self.holding.set()
        while not self.release.is_set():
            await asyncio.sleep(0.02)
        return "451 4.3.0 Sender went away"


def _holds_connection(pid: int, local_port: int) -> bool:
    return any(c.laddr.port == local_port
               for c in psutil.Process(pid).net_connections(kind="tcp") if c.laddr)


def _notifications(engine, where: str, **params) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT status, message_id FROM notifications WHERE {where}"),
                            params).all()


def test_two_web_nodes_two_workers_two_schedulers(tmp_path, private_redis):
    from rq import Queue
    from rq.cron import get_cron_job_ids

    database = _pg_database()
    sink = HoldingSink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    ports = free_port(), free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("HELPDESK_") and key not in (
               "DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(DATABASE_URL=database, REDIS_URL=private_redis.url,
               HELPDESK_STORAGE_BACKEND="database", HELPDESK_INSTANCE_PATH=str(tmp_path / "cli"),
               HELPDESK_CRON_TICK_SECONDS=str(TICK), HELPDESK_MAIL_SUPPRESS_SEND="false",
               HELPDESK_MAIL_SERVER="127.0.0.1", HELPDESK_MAIL_PORT=str(smtp.port),
               HELPDESK_MAIL_SEND_LEASE_SECONDS="4",
               HELPDESK_MAIL_BASE_URL=f"http://127.0.0.1:{ports[0]}", PYTHONUNBUFFERED="1")
    engine = create_engine(database)
    processes: dict[str, subprocess.Popen] = {}
    try:
        # The web nodes and workers load while this process builds the database: no request
        # reaches a node, and no job is queued, before it is built (the schedulers start
        # after it).
        for name, port in zip(("web-a", "web-b"), ports, strict=True):
            processes[name] = _start(tmp_path, env, name, [
                sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                "--workers", "1", "--timeout", "60", "helpdesk:create_app()"])
        for name in ("worker-1", "worker-2"):
            processes[name] = _start(tmp_path, env, name, [*HELPDESK, "worker", "-q", "mail"])
        logins = _prepare(tmp_path, database, private_redis.url)
        crons_started = time.monotonic()
        for name in ("cron-1", "cron-2"):
            processes[name] = _start(tmp_path, env, name, [*HELPDESK, "cron"])
        node_a, node_b = (f"http://127.0.0.1:{port}" for port in ports)
        for base in (node_a, node_b):
            _wait(lambda base=base: requests.get(f"{base}/readyz", timeout=5).status_code == 200,
                  60, f"{base} ready")
        assert requests.get(f"{node_b}/readyz", timeout=5).json()["checks"]["storage"] == "ok"

        # A school files through node A, with an attachment of three chunks.
        school = Person(node_a, *logins["school"])
        page = school.get("/tickets/new").text
        category = re.search(r'<select[^>]*name="category"[^>]*>.*?<option[^>]*value="(\d+)"',
                             page, re.S).group(1)
        scan = b"%PDF-1.4\n" + os.urandom(600_000)
        filed = school.post("/tickets/new", {
            "category": category, "subject": "Ο σαρωτής του εργαστηρίου", "priority": "2",
            "description": "Επισυνάπτουμε τη σάρωση του σφάλματος που εμφανίζεται."},
            files={"attachments": ("σάρωση.pdf", scan, "application/pdf")})
        assert filed.status_code in (302, 303), filed.text[:2000]
        ref = filed.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        with engine.connect() as conn:
            ticket_id = conn.scalar(text("SELECT id FROM tickets WHERE ref = :r"),
                                    {"r": requests.utils.unquote(ref)})
            chunks = conn.scalar(text("SELECT count(*) FROM storage_blobs b JOIN attachments a"
                                      " ON a.stored_name = b.name WHERE a.ticket_id = :t"),
                                 {"t": ticket_id})
        assert chunks == 3
        assert not any((tmp_path / "web-a").rglob("attachments/*")), "a file on node A's disk"

        # A technician downloads it and replies through node B.
        tech = Person(node_b, *logins["l1"])
        shown = tech.get(f"/tickets/{ref}").text
        link = re.search(r'href="(/attachments/\d+)"', shown).group(1)
        download = tech.get(link)
        assert download.status_code == 200 and download.content == scan
        assert int(download.headers["Content-Length"]) == len(scan)
        reply = tech.post(f"/tickets/{ref}/reply", {"reply-body": "Θα έρθουμε αύριο το πρωί."},
                          page=f"/tickets/{ref}", prefix="reply-")
        assert reply.status_code in (302, 303)
        assert "Θα έρθουμε αύριο το πρωί." in school.get(f"/tickets/{ref}").text

        def all_sent(where, **params):
            rows = _notifications(engine, where, **params)
            return rows if rows and all(s == "sent" for s, _ in rows) else None
        ticket_mails = _wait(lambda: all_sent("ticket_id = :t", t=ticket_id), 40,
                             "the ticket's notifications sent")
        school_email = logins["school"][0]
        assert sink.to(school_email), "the school was not told of the reply"

        # Reference data across nodes: node B keeps a copy of the SLA policies (built for
        # the reply above, helpdesk.core.refcache); an administrator lengthens the normal
        # priority's first-level time through node A, from 2 to 10 working days, and the
        # next request node B serves files a ticket by the new policy, without a restart.
        school_b = Person(node_b, *logins["school"])

        def file_on_b(subject: str) -> tuple[int, object]:
            filed = school_b.post("/tickets/new", {
                "category": category, "subject": subject, "priority": "2",
                "description": "Δεν ανοίγει κανένας υπολογιστής του εργαστηρίου."})
            assert filed.status_code in (302, 303), filed.text[:2000]
            ref = requests.utils.unquote(filed.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
            with engine.connect() as conn:
                return tuple(conn.execute(text(
                    "SELECT id, level_due_at FROM tickets WHERE ref = :r"), {"r": ref}).one())
        before_id, before_due = file_on_b("Πριν την αλλαγή της πολιτικής")
        admin = Person(node_a, *logins["admin"])
        saved = admin.post("/admin/sla/policies/2", {
            "first_response_minutes": "4", "resolution_minutes": "105", "level1_minutes": "70",
            "level2_minutes": "21", "level3_minutes": "35", "warn_percent": "75",
            "action": "escalate"})
        assert saved.status_code in (302, 303), saved.text[:2000]
        after_id, after_due = file_on_b("Μετά την αλλαγή της πολιτικής")
        # Filed seconds apart: by the old policy both fall due within a minute of each other.
        assert after_due - before_due > timedelta(days=7), (before_due, after_due)
        ticket_mails += _wait(lambda: all_sent("ticket_id IN (:a, :b)", a=before_id, b=after_id),
                              40, "the new tickets' notifications sent")

        # Many notifications in two batches; one worker is killed in the middle.
        sink.delay = DELAY
        with engine.connect() as conn:
            ids = [conn.scalar(text(
                "INSERT INTO notifications (kind, recipient_email, subject, body, dedupe_key,"
                " status, attempts, created_at, locale, is_automatic) VALUES ('ticket_created',"
                " :to, :subject, 'Σώμα', :key, 'pending', 0, now(), 'el', true) RETURNING id"),
                {"to": f"teacher{i}@school{i % 7}.sch.gr", "subject": f"Μαζική {i}",
                 "key": f"multinode-{i}"}) for i in range(BATCH)]
            conn.commit()
        queue = Queue("mail", connection=private_redis.client)
        for half in (ids[::2], ids[1::2]):
            queue.enqueue("workers.outbox_jobs.deliver_notifications", half, job_timeout=600)
        # The eighth mail of the batch is held in DATA; its sender is killed meanwhile.
        sink.hold_at = sink.attempts + 8
        assert sink.holding.wait(60), "the batch did not reach its eighth mail"
        killed = next(name for name in ("worker-1", "worker-2")
                      if _holds_connection(processes[name].pid, sink.held_peer))
        os.kill(processes[killed].pid, signal.SIGKILL)
        processes[killed].wait(10)
        sink.release.set()
        in_batch = "dedupe_key LIKE 'multinode-%'"
        batch = _wait(lambda: all_sent(in_batch), 60, "every notification of the batch sent")
        assert len(batch) == BATCH
        time.sleep(TICK + 1)  # a further sweep sends nothing again
        elapsed = time.monotonic() - crons_started
        received = collections.Counter(m["Message-ID"] for _, m in sink.received)
        ours = [message_id for _, message_id in [*ticket_mails, *batch]]
        assert all(received[i] == 1 for i in ours), [i for i in ours if received[i] != 1]
        survivor = "worker-2" if killed == "worker-1" else "worker-1"
        assert processes[survivor].poll() is None
        # Two schedulers: each interval job queued once per interval, not twice.
        runs = len(get_cron_job_ids("outbox-sweep", private_redis.client))
        assert 2 <= runs <= elapsed / TICK + 2, (runs, elapsed)
        for name in ("web-a", "web-b"):
            log = (tmp_path / f"{name}.log").read_text()
            assert "Traceback" not in log, log[-3000:]
    finally:
        for process in processes.values():
            stop_group(process)
        smtp.stop()
        engine.dispose()
