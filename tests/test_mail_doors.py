"""The three doors against real servers on loopback: the MTA pipe (CLI), LMTP (aiosmtpd)
and IMAP (Dovecot started here), plus real Redis for the processing queue."""
from __future__ import annotations

import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from helpdesk.mail import imap, lmtp, process, store
from helpdesk.mail.models import InboundMessage
from helpdesk.tickets.models import Ticket
from tests import factories as f

ROOT = Path(__file__).resolve().parents[1]


def message(n: int, sender: str, subject: str = "Βλάβη υπολογιστή") -> bytes:
    return (f"From: <{sender}>\r\nTo: helpdesk@sch.gr\r\nSubject: {subject} {n}\r\n"
            f"Message-ID: <door-{n}-{time.time_ns()}@client.example.gr>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Ο υπολογιστής {n} δεν ανάβει.\r\n").encode()


def count(db) -> int:
    return db.session.scalar(select(func.count(InboundMessage.id)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def school(db):
    return f.make_school()


@pytest.fixture
def no_queue(monkeypatch):
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)


# --- the MTA pipe -----------------------------------------------------------------------------

def test_ingest_stores_then_exits_0_and_a_duplicate_is_acknowledged(app, db, school, no_queue):
    raw = message(1, school.email)
    runner = app.test_cli_runner()
    before = count(db)
    first = runner.invoke(args=["mail", "ingest"], input=raw)
    again = runner.invoke(args=["mail", "ingest"], input=raw)
    assert (first.exit_code, again.exit_code) == (0, 0), first.output
    assert "duplicate" in again.output
    assert count(db) == before + 1


def test_ingest_exits_75_when_it_cannot_store(app, db, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is down"))

    monkeypatch.setattr(store, "store_raw", down)
    result = app.test_cli_runner().invoke(args=["mail", "ingest"], input=b"Subject: x\r\n\r\ny")
    assert result.exit_code == 75


def test_ingest_process_exits_75_with_the_database_unreachable(tmp_path):
    env = dict(os.environ, HELPDESK_INSTANCE_PATH=str(tmp_path),
               HELPDESK_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
               HELPDESK_REDIS_URL="redis://127.0.0.1:1/0")
    proc = subprocess.run([sys.executable, "-m", "workers", "mail", "ingest"], input=b"Subject: x\r\n\r\ny",
                          env=env, capture_output=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 75, proc.stderr.decode()[-2000:]


def test_stored_message_is_processed_by_a_real_rq_worker(app, db, school, redis_server, monkeypatch):
    from rq import SimpleWorker

    from helpdesk.core import redisconn

    monkeypatch.setitem(app.config, "REDIS_URL", redis_server)
    app.extensions.pop("redis", None)
    try:
        inbound_id, created = store.accept(message(2, school.email), source="test", now=f.at(0))
        assert created
        queue = redisconn.get_queue("mail")
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    finally:
        app.extensions.pop("redis", None)
    db.session.expire_all()
    row = db.session.get(InboundMessage, inbound_id)
    assert row.status == "processed"
    assert db.session.get(Ticket, row.ticket_id).school_id == school.id


# --- LMTP -------------------------------------------------------------------------------------

@pytest.fixture
def lmtp_server(app, db):
    controller = lmtp.make_controller(app, host="127.0.0.1", port=free_port(), protocol="lmtp")
    controller.start()
    yield controller
    controller.stop()


def test_lmtp_answers_250_after_storing(db, lmtp_server, school, no_queue):
    before = count(db)
    with smtplib.LMTP("127.0.0.1", lmtp_server.port) as client:
        refused = client.sendmail(school.email, ["helpdesk@sch.gr"], message(3, school.email))
    assert refused == {}
    db.session.expire_all()
    assert count(db) == before + 1


def test_lmtp_answers_once_per_recipient(db, lmtp_server, school, no_queue):
    """RFC 2033: after DATA, one reply per accepted recipient (smtplib reads only one)."""
    with socket.create_connection(("127.0.0.1", lmtp_server.port), timeout=10) as sock:
        stream = sock.makefile("rwb")

        def say(line: bytes) -> None:
            stream.write(line + b"\r\n")
            stream.flush()

        def reply() -> bytes:
            lines = [stream.readline()]
            while lines[-1][3:4] == b"-":
                lines.append(stream.readline())
            return lines[-1]

        reply()
        say(b"LHLO test")
        reply()
        for command in (f"MAIL FROM:<{school.email}>".encode(), b"RCPT TO:<a@sch.gr>",
                        b"RCPT TO:<b@sch.gr>", b"DATA"):
            say(command)
            reply()
        stream.write(message(5, school.email) + b"\r\n.\r\n")
        stream.flush()
        assert [reply()[:3], reply()[:3]] == [b"250", b"250"]
        say(b"QUIT")


def test_lmtp_answers_451_when_it_cannot_store(db, lmtp_server, school, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is down"))

    monkeypatch.setattr(store, "accept", down)
    with smtplib.LMTP("127.0.0.1", lmtp_server.port) as client:
        with pytest.raises(smtplib.SMTPDataError) as info:
            client.sendmail(school.email, ["helpdesk@sch.gr"], message(4, school.email))
    assert info.value.smtp_code == 451


# --- IMAP (Dovecot) ---------------------------------------------------------------------------

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def _dovecot_user() -> tuple[int, int, str]:
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_uid, me.pw_gid, me.pw_name
    for name in ("dovecot", "nobody"):
        try:
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid, name
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user for Dovecot")


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory):
    if not os.path.exists(DOVECOT):
        print("SKIP: Dovecot is not installed (apt-get install dovecot-imapd)")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    # Not under pytest's 0700 tree: Dovecot's unprivileged processes must reach it.
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="arogi-dovecot-"))
    uid, gid, user = _dovecot_user()
    port = free_port()
    for sub in ("run", "mail", "home"):
        (root / sub).mkdir()
    (root / "passwd").write_text("helpdesk:{PLAIN}secret::::::\n")
    internal = "" if os.geteuid() == 0 else f"default_login_user = {user}\ndefault_internal_user = {user}\n"
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/run
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
{internal}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
    if os.geteuid() == 0:
        for path in (root, root / "mail", root / "home"):
            os.chown(path, uid, gid)
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    else:
        proc.kill()
    if proc.poll() is not None:
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        reason = f"Dovecot could not start: {proc.stdout.read().decode()[-500:]} {log[-500:]}"
        print("SKIP:", reason)
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(reason)
    yield {"host": "127.0.0.1", "port": port, "user": "helpdesk", "password": "secret",
           "folder": "INBOX", "ssl": False, "root": root, "uid": uid, "gid": gid}
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(root, ignore_errors=True)


def deliver(box, raw: bytes) -> None:
    """Put a message in the mailbox the way a local delivery agent would."""
    import imaplib

    conn = imaplib.IMAP4(box["host"], box["port"])
    conn.login(box["user"], box["password"])
    conn.append("INBOX", None, None, raw)
    conn.logout()


def unseen(box) -> int:
    import imaplib

    conn = imaplib.IMAP4(box["host"], box["port"])
    conn.login(box["user"], box["password"])
    conn.select("INBOX")
    _, data = conn.search(None, "UNSEEN")
    conn.logout()
    return len(data[0].split())


def test_imap_poller_stores_then_flags(app, db, dovecot, school, no_queue):
    for n in range(3):
        deliver(dovecot, message(10 + n, school.email))
    before = count(db)
    counts = imap.poll_mailbox(dovecot, now=f.at(0))
    assert counts == {"stored": 3, "duplicates": 0}
    assert count(db) == before + 3 and unseen(dovecot) == 0
    assert imap.poll_mailbox(dovecot, now=f.at(1)) == {"stored": 0, "duplicates": 0}


def test_imap_crash_between_store_and_flag_refetches_a_duplicate(app, db, dovecot, school,
                                                                 no_queue, monkeypatch):
    deliver(dovecot, message(20, school.email))

    def crash(*args):
        raise ConnectionError("killed after the commit, before the flag")

    monkeypatch.setattr(imap, "_done", crash)
    before = count(db)
    with pytest.raises(ConnectionError):
        imap.poll_mailbox(dovecot, now=f.at(0))
    assert count(db) == before + 1 and unseen(dovecot) == 1
    monkeypatch.undo()
    monkeypatch.setattr(store, "enqueue_processing", lambda inbound_id: False)
    assert imap.poll_mailbox(dovecot, now=f.at(1)) == {"stored": 0, "duplicates": 1}
    assert count(db) == before + 1 and unseen(dovecot) == 0


def test_poll_all_survives_a_broken_mailbox(app, db, dovecot, school, no_queue, monkeypatch):
    broken = {**dovecot, "password": "wrong"}
    monkeypatch.setitem(app.config, "MAIL_IMAP_MAILBOXES", [broken, dovecot])
    deliver(dovecot, message(30, school.email))
    results = imap.poll_all(now=f.at(0))
    assert list(results.values())[0].get("error")
    assert list(results.values())[1] == {"stored": 1, "duplicates": 0}


def test_process_is_exactly_once(app, db, school, no_queue):
    inbound_id, _ = store.accept(message(40, school.email), source="test", now=f.at(0))
    assert process.run(inbound_id, now=f.at(1)) == "processed"
    assert process.run(inbound_id, now=f.at(2)) == "processed"
    assert db.session.scalar(select(func.count(Ticket.id)).where(Ticket.school_id == school.id)) == 1
