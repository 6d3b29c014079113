"""Benchmark: inbound mail from raw bytes to ticket, messages per second per worker.

    .venv/bin/python bench/mail_ingest.py [--messages 2000] [--database-url URL] [--recreate]
                                          [--batch N] [--profile DIR] [--summary]

Builds a fresh database (migrations + reference organisation + 200 schools; with
``--recreate`` a PostgreSQL database named in the URL is dropped and created first),
generates realistic messages (Greek text in UTF-8 / ISO-8859-7 / windows-1253, HTML,
quoted replies, small attachments, some out-of-office and strangers), then times, in one
process:

- store: what a door does before it answers 250 (``store.accept``: parse the header
  block, insert, commit; one commit per message, as a door must);
- process: what one RQ worker does with the jobs the doors queued in Redis (a door queues
  one when none is waiting to start), run here in order in one process
  (``workers.mail_jobs.process_inbound``: app context, attempts counted and committed,
  then ``--batch`` waiting messages per transaction until none is left). The
  notification deliveries the tickets queue are left in the queue, not timed;
- raw bytes to ticket: both in one process, back to back: messages per second that one
  worker process gets from raw bytes to committed tickets (the issue's figure). Doors are
  separate processes in production, so a worker alone goes at the "process" rate.

It also counts the SQL statements per message (COMMIT included). ``--summary`` profiles
both steps (pyinstrument) and prints each one's time by layer, as bench/profile_page.py
--summary does for a page (bench/run.py puts it in the results); the profiler slows the
run, so its rates are not the benchmark's. Not a test.
"""
from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["Ο εκτυπωτής του εργαστηρίου δεν τυπώνει και βγάζει μήνυμα σφάλματος.",
         "Δεν έχουμε σύνδεση στο διαδίκτυο από το πρωί· ο δρομολογητής αναβοσβήνει κόκκινο.",
         "Ο βιντεοπροβολέας της αίθουσας 3 δεν ανάβει. Δοκιμάσαμε άλλο καλώδιο.",
         "Ξεχάσαμε τον κωδικό του επίσημου λογαριασμού ΠΣΔ του σχολείου.",
         "Ο διακομιστής LTSP δεν εκκινεί μετά τη διακοπή ρεύματος."]


def make_message(n: int, rnd: random.Random, schools: list[str]) -> bytes:
    sender = rnd.choice(schools) if rnd.random() > 0.05 else f"stranger{n}@gmail.example.com"
    text = rnd.choice(TEXTS) + "\n\n" + "\n".join(rnd.choice(TEXTS) for _ in range(rnd.randint(0, 5)))
    charset = rnd.choice(["utf-8", "utf-8", "iso-8859-7", "windows-1253"])
    subject = "=?utf-8?B?" + base64.b64encode(f"Βλάβη {n}".encode()).decode() + "?="
    head = (f"From: <{sender}>\r\nTo: helpdesk@sch.gr\r\nSubject: {subject}\r\n"
            f"Message-ID: <bench-{n}@client.example.gr>\r\nDate: Tue, 10 Mar 2026 10:00:00 +0200\r\n"
            "MIME-Version: 1.0\r\n")
    if rnd.random() < 0.05:
        head += "Auto-Submitted: auto-replied\r\n"
    kind = rnd.random()
    if kind < 0.6:
        if rnd.random() < 0.3:
            text += "\n\nΣτις 9/3/2026 η Αρωγή έγραψε:\n> Παρακαλούμε δοκιμάστε ξανά.\n"
        body = text.encode(charset, "replace")
        return (head + f"Content-Type: text/plain; charset={charset}\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + body.replace(b"\n", b"\r\n")
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in text.split("\n")) + \
        '<img src="http://tracker.example/x.gif"><script>x()</script></body></html>'
    pdf = base64.encodebytes(b"%PDF-1.4\n" + os.urandom(20_000)).decode().replace("\n", "\r\n")
    return (head + 'Content-Type: multipart/mixed; boundary="BB"\r\n\r\n--BB\r\n'
            "Content-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n--BB\r\n"
            'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="scan.pdf"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n" + pdf + "\r\n--BB--\r\n").encode()


class Statements:
    """SQL statements sent (commits too), from engine events."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)
        event.listen(engine, "commit", self._one)

    def _one(self, *args, **kwargs):
        self.count += 1


def run_inbound_jobs(app, process_inbound) -> int:
    """Run the processing jobs the doors queued (and those the jobs queue), as the worker
    would, in this process; the notification deliveries stay queued. Returns how many."""
    from helpdesk.core import redisconn

    ran = 0
    while True:
        with app.app_context():
            queue = redisconn.get_queue("mail")
            jobs = [job for job in queue.get_jobs() if job.func_name.endswith("process_inbound")]
            for job in jobs:
                queue.remove(job)
        if not jobs:
            return ran
        for job in jobs:
            process_inbound(*job.args)
            ran += 1


def recreate(url: str) -> None:
    import psycopg
    from psycopg import sql

    url = url.replace("postgresql+psycopg://", "postgresql://")
    params = psycopg.conninfo.conninfo_to_dict(url)
    name = sql.Identifier(params["dbname"])
    with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--database-url", default="")
    ap.add_argument("--recreate", action="store_true",
                    help="drop and create the PostgreSQL database of --database-url first")
    ap.add_argument("--batch", type=int, default=None,
                    help="MAIL_PROCESS_BATCH (default: the app's); 1 = a transaction each")
    ap.add_argument("--profile", default="", help="write pyinstrument profiles of both steps here")
    ap.add_argument("--summary", action="store_true",
                    help="profile both steps and print each one's time by layer per message")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.recreate and args.database_url.startswith("postgresql"):
        recreate(args.database_url)
    from bench.scratch import scratch_instance

    work, env = scratch_instance("bench-mail-", args.database_url)
    import workers
    from helpdesk import create_app
    from helpdesk.core import redisconn
    from helpdesk.core.text import fold
    from helpdesk.core.types import utcnow
    from helpdesk.extensions import db
    from helpdesk.mail import process, store
    from helpdesk.mail.models import InboundMessage
    from helpdesk.org.models import Directorate, School
    from workers.mail_jobs import process_inbound

    app = create_app()
    if args.batch:
        app.config["MAIL_PROCESS_BATCH"] = args.batch
    workers.set_app(app)
    profiler, summaries = None, []
    if args.profile or args.summary:
        from pyinstrument import Profiler

        from bench.profile_page import layer_summary
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)

    def start():
        nonlocal profiler
        if args.profile or args.summary:
            profiler = Profiler(interval=0.0005 if args.summary else 0.001)
            profiler.start()

    def stop(name):
        if profiler is not None:
            profiler.stop()
            if args.profile:
                Path(args.profile, f"{name}.txt").write_text(
                    profiler.output_text(unicode=True, color=False))
            if args.summary:
                summaries.append((name, layer_summary(profiler.last_session.root_frame(),
                                                      args.messages)))

    with app.app_context():
        dirs = list(db.session.scalars(db.select(Directorate)))
        for n in range(200):
            d = dirs[n % len(dirs)]
            db.session.add(School(code=f"6{n:06d}", name=f"{n}ο Σχολείο", name_folded=fold(f"{n}ο σχολειο"),
                                  school_type="GYM", email=f"mail@mb{n}.{d.sch_domain}.sch.gr",
                                  directorate_id=d.id))
        db.session.commit()
        schools = list(db.session.scalars(db.select(School.email).where(School.code.like("6%"))))
        rnd = random.Random(4)
        messages = [make_message(n, rnd, schools) for n in range(args.messages)]
        mb = sum(map(len, messages)) / 1e6
        batch = app.config.get("MAIL_PROCESS_BATCH", getattr(process, "BATCH", 1))
        statements = Statements(db.engine)
        redisconn.get_redis().ping()  # the embedded Redis starts now, not inside the timing
        db.session.remove()
    start()
    c0, t0 = time.process_time(), time.perf_counter()
    ids = []
    for raw in messages:  # as the LMTP door does: an app context (a session) each
        with app.app_context():
            ids.append(store.accept(raw, source="bench", now=utcnow())[0])
    c1, t1 = time.process_time(), time.perf_counter()
    stop("store")
    stored_sql = statements.count
    start()
    c2, t2 = time.process_time(), time.perf_counter()
    jobs = run_inbound_jobs(app, process_inbound)
    c3, t3 = time.process_time(), time.perf_counter()
    stop("process")
    processed_sql = statements.count - stored_sql
    with app.app_context():
        statuses = dict(db.session.execute(db.select(InboundMessage.status, db.func.count())
                                           .group_by(InboundMessage.status)).all())
    n = len(messages)
    url = env["HELPDESK_DATABASE_URL"].split("://")[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"database: {url}; {n} messages, {mb:.1f} MB; batch {batch}; load {load}; "
          f"outcome {statuses}; {jobs} processing jobs")
    stored_s, processed_s = t1 - t0, t3 - t2
    print(f"store (door, commit each):         {n / stored_s:8.1f} msg/s "
          f"{stored_sql / n:5.1f} SQL/msg {(c1 - c0) / n * 1000:5.2f} ms CPU/msg")
    print(f"process (1 worker, RQ jobs):       {n / processed_s:8.1f} msg/s "
          f"{processed_sql / n:5.1f} SQL/msg {(c3 - c2) / n * 1000:5.2f} ms CPU/msg")
    print(f"raw bytes to ticket, 1 worker:     {n / (stored_s + processed_s):8.1f} msg/s")
    for name, text in summaries:
        print(f"\n{name}: each layer's own time per message (profiled)\n{text}")


if __name__ == "__main__":
    main()
