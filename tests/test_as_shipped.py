"""The product as processes: ``helpdesk serve`` on the embedded defaults, used by people.

Nothing here runs in-process: the test prepares a database with the CLI (as ``make run``
does), starts ``helpdesk serve`` as a subprocess with the embedded Redis, waits past
two scheduler ticks, then logs in over HTTP as the demo school, a level-1 technician
and an administrator; files and replies; runs a spreadsheet import while the school
writes; stops the embedded Redis for 20 s (SHUTDOWN, as a crash would) and starts it
again on the same socket; checks the notifications went out exactly once to a real
SMTP server (aiosmtpd on loopback); then sends SIGINT and checks no process is left.

On the SQLite run it uses SQLite in a temporary instance directory; on the PostgreSQL
run a database of its own (``<test database>_shipped``). About a minute and a half each.
Nothing is mocked.
"""
from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import psutil
import redis
import requests
from aiosmtpd.controller import Controller
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import make_url

from helpdesk import ROOT
from tests.test_outbox_delivery import Sink, free_port

TICK = 5  # CRON_TICK_SECONDS: every periodic job at least this often
HELPDESK = [sys.executable, "-m", "workers"]  # what serve runs its children with


def _database(tmp: Path) -> str:
    """The URL serve will use: SQLite in the instance, or a fresh PostgreSQL database."""
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp / 'instance' / 'helpdesk.db'}"
    url = make_url(pg)
    name = f"{url.database}_shipped"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _cli(env: dict, *args: str, timeout: int = 300) -> str:
    done = subprocess.run([*HELPDESK, *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"helpdesk {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class Person:
    """A browser-less person: a requests session that logs in with the CSRF token."""

    def __init__(self, base: str, email: str, password: str):
        self.base, self.http = base, requests.Session()
        page = self.get("/login").text
        response = self.http.post(f"{base}/login", data={
            "email": email, "password": password, "csrf_token": _token(page)},
            allow_redirects=False, timeout=60)
        assert response.status_code in (302, 303), (email, response.status_code)

    def get(self, path: str, **kwargs):
        response = self.http.get(self.base + path, timeout=60, **kwargs)
        assert response.status_code < 500, (path, response.status_code)
        return response

    def post(self, path: str, data: dict, page: str | None = None, prefix: str = "",
             **kwargs):
        data = {f"{prefix}csrf_token": _token(self.get(page or path).text), **data}
        response = self.http.post(self.base + path, data=data, allow_redirects=False,
                                  timeout=60, **kwargs)
        assert response.status_code < 500, (path, response.status_code, response.text[:500])
        return response


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _logins(banner: str) -> dict[str, tuple[str, str]]:
    """role keyword -> (email, password) from the banner serve printed."""
    found = {}
    for line in banner.splitlines():
        parts = line.split()
        if len(parts) >= 3 and "@" in parts[-2]:
            label = " ".join(parts[:-2])
            key = ("school" if label.startswith("Σχολική") else
                   "l1" if "1ου" in label else "l2" if "2ου" in label else
                   "l3" if "3ου" in label else "manager" if "Υπεύθυνος" in label else
                   "admin" if "Διαχειριστής" in label else label)
            found[key] = (parts[-2], parts[-1])
    return found


def _file_ticket(school: Person, subject: str) -> str:
    page = school.get("/tickets/new").text
    category = re.search(r'<select[^>]*name="category"[^>]*>.*?<option[^>]*value="(\d+)"',
                         page, re.S).group(1)
    response = school.post("/tickets/new", {
        "category": category, "subject": subject, "priority": "2",
        "description": f"{subject}: ο εκτυπωτής του εργαστηρίου δεν τυπώνει από το πρωί."})
    assert response.status_code in (302, 303), response.text[:2000]
    return unquote(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def _descendants(pid: int) -> set[tuple[int, float]]:
    try:
        return {(p.pid, p.create_time()) for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def _alive(processes: set[tuple[int, float]]) -> list[str]:
    left = []
    for pid, created in processes:
        try:
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{pid} {' '.join(process.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return left


def _import_csv(admin: Person, school_code: str, rows: int) -> bytes:
    """The school's own export, grown to ``rows`` new devices with fresh serials."""
    exported = admin.get(f"/equipment/school/{school_code}/export.csv").content
    reader = csv.DictReader(io.StringIO(exported.decode("utf-8-sig")))
    template = next(reader)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
    writer.writeheader()
    for n in range(rows):
        writer.writerow({**template, "id": "", "external_id": "",
                         "serial_number": f"SHIP{n:06d}", "registry_number": f"IMP/{n}"})
    return out.getvalue().encode("utf-8")


def test_serve_as_shipped(tmp_path):
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    database = _database(tmp_path)
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("HELPDESK_") and key not in (
               "DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL")}
    env.update(HELPDESK_INSTANCE_PATH=str(tmp_path / "instance"), DATABASE_URL=database,
               HELPDESK_CRON_TICK_SECONDS=str(TICK), HELPDESK_MAIL_SUPPRESS_SEND="false",
               HELPDESK_MAIL_SERVER="127.0.0.1", HELPDESK_MAIL_PORT=str(smtp.port),
               HELPDESK_MAIL_BASE_URL=f"http://127.0.0.1:{port}", PYTHONUNBUFFERED="1")
    # What `make run` does before serving.
    _cli(env, "db", "upgrade")
    _cli(env, "org", "load")
    _cli(env, "inventory", "load-categories")
    _cli(env, "demo", "load", "--schools", "12", "--tickets", "30")

    log_path = tmp_path / "serve.log"
    log = open(log_path, "w")
    serve = subprocess.Popen([*HELPDESK, "serve", "--port", str(port)], env=env, cwd=ROOT,
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    seen: set[tuple[int, float]] = set()
    restarted: subprocess.Popen | None = None
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while "Demo logins:" not in log_path.read_text() or "arogi-admin" not in log_path.read_text():
            assert serve.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "serve did not print its banner in 120 s"
            time.sleep(0.5)
        seen |= _descendants(serve.pid)
        time.sleep(2 * TICK + 3)  # past two scheduler ticks, as a person a while later
        seen |= _descendants(serve.pid)
        logins = _logins(log_path.read_text())
        assert {"school", "l1", "admin"} <= set(logins), logins

        school = Person(base, *logins["school"])
        tech = Person(base, *logins["l1"])
        admin = Person(base, *logins["admin"])
        assert school.get("/tickets").status_code == 200
        assert "SEPEHY" in school.get("/tickets/new").text or "ΣΕΠΕΗΥ" in school.get(
            "/tickets/new").text, "the demo school has equipment to pick"

        ref = _file_ticket(school, "Πρώτη αίτηση")
        reply = tech.post(f"/tickets/{ref}/reply", {"reply-body": "Θα έρθουμε αύριο."},
                          page=f"/tickets/{ref}", prefix="reply-")
        assert reply.status_code in (302, 303)
        assert "Θα έρθουμε αύριο." in school.get(f"/tickets/{ref}").text

        # An import of a few thousand rows while the school keeps writing.
        school_code = re.search(r"/equipment/school/(\d{7})", admin.get(
            f"/tickets/{ref}").text + school.get("/equipment").text)
        code = school_code.group(1) if school_code else None
        assert code, "no link to the school's equipment"
        data = _import_csv(admin, code, 3000)
        started = admin.post("/equipment/import", {"school": code},
                             files={"file": ("big.csv", data, "text/csv")})
        assert started.status_code in (302, 303), started.text[:1000]
        progress = started.headers["Location"] + ".json"
        writes = [_file_ticket(school, f"Αίτηση κατά την εισαγωγή {n}") for n in range(3)]
        for n, written in enumerate(writes):
            assert school.post(f"/tickets/{written}/reply", {"reply-body": f"Συμπλήρωση {n}"},
                               page=f"/tickets/{written}", prefix="reply-").status_code in (302, 303)
        deadline = time.monotonic() + 120
        while not (state := admin.get(progress.replace(base, "")).json())["done"]:
            assert time.monotonic() < deadline, state
            time.sleep(1)
        assert state["status"] == "done" and state["created"] == 3000, state

        # Redis goes away for 20 s; the service keeps answering and loses nothing.
        instance = tmp_path / "instance"
        socket_path = instance / "redis.sock"
        server_pid = redis.Redis(unix_socket_path=str(socket_path)).info("server")["process_id"]
        binary = psutil.Process(server_pid).exe()
        try:
            redis.Redis(unix_socket_path=str(socket_path)).shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        outage_started = time.monotonic()
        during = _file_ticket(school, "Αίτηση χωρίς Redis")
        assert tech.post(f"/tickets/{during}/reply", {"reply-body": "Το είδαμε."},
                         page=f"/tickets/{during}", prefix="reply-").status_code in (302, 303)
        assert Person(base, *logins["school"]).get("/tickets").status_code == 200
        time.sleep(max(0.0, 20 - (time.monotonic() - outage_started)))
        assert serve.poll() is None, "serve stopped during the Redis outage"
        restarted = subprocess.Popen(
            [binary, "--unixsocket", str(socket_path), "--port", "0", "--dir", str(instance),
             "--dbfilename", "redis.rdb", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        # Every notification of the tickets filed goes out, once, after Redis is back.
        engine = create_engine(database)
        refs = [ref, *writes, during]
        deadline = time.monotonic() + 150
        while True:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT n.status, n.message_id, t.ref FROM notifications n "
                    "JOIN tickets t ON t.id = n.ticket_id WHERE t.ref IN :refs").bindparams(
                    bindparam("refs", expanding=True)), {"refs": refs}).all()
            if rows and all(status == "sent" for status, _, _ in rows):
                break
            assert time.monotonic() < deadline, f"notifications not all sent: {rows}"
            time.sleep(2)
        engine.dispose()
        assert {r for _, _, r in rows} >= {during}, "the outage's ticket notified nobody"
        time.sleep(2 * TICK)  # a further sweep must not send them again
        sent_ids = [m["Message-ID"] for _, m in sink.received]
        ours = {message_id for _, message_id, _ in rows}
        assert len([i for i in sent_ids if i in ours]) == len(ours), "a notification went twice"
        assert serve.poll() is None
        # /metrics on a web process reads every process of serve (multi-process mode): the
        # gunicorn workers' requests and the RQ workers' jobs and mails.
        scraped = requests.get(f"{base}/metrics", timeout=10)
        assert scraped.status_code == 200
        series = {f.name: f for f in text_string_to_metric_families(scraped.text)}
        samples = [(s.name, s.labels, s.value) for f in series.values() for s in f.samples]
        assert sum(v for n, labels, v in samples if n == "arogi_http_request_duration_seconds_count"
                   and labels.get("route") == "/login") >= 3
        assert sum(v for n, labels, v in samples if n == "arogi_job_duration_seconds_count"
                   and labels.get("queue") == "mail") >= 1
        assert sum(v for n, _, v in samples if n == "arogi_mails_sent_total") >= len(ours)
        seen |= _descendants(serve.pid)
        output = log_path.read_text()
        assert "database is locked" not in output
        assert not re.search(r'HTTP/1\.[01]" 5\d\d ', output), "a server error was served"
    finally:
        seen |= _descendants(serve.pid)
        serve.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            raise
        finally:
            log.close()
            smtp.stop()
        if restarted is not None:
            try:
                restarted.wait(timeout=15)  # serve's exit shut it down through the socket
            except subprocess.TimeoutExpired as err:
                restarted.kill()
                raise AssertionError("the restarted Redis was not stopped by serve") from err
    assert serve.returncode == 0, log_path.read_text()[-3000:]
    assert "helpdesk serve: stopped" in log_path.read_text()
    time.sleep(1)
    assert not _alive(seen), _alive(seen)
    assert not (tmp_path / "instance" / "redis.sock").exists() or not _answers(
        tmp_path / "instance" / "redis.sock")


def _answers(socket_path: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2).ping())
    except (redis.RedisError, OSError):
        return False
