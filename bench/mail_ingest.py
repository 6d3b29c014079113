"""Benchmark: inbound mail from raw bytes to ticket, messages per second per worker.

    .venv/bin/python bench/mail_ingest.py [--messages 2000] [--database-url URL]

Builds a fresh database (migrations + reference organisation + 200 schools), generates
realistic messages (Greek text in UTF-8 / ISO-8859-7 / windows-1253, HTML, quoted
replies, small attachments, some out-of-office and strangers), then times, in one
process (= one worker): the store step (what a door does before answering 250) and the
processing step (what the RQ job does). Not a test.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.scratch import scratch_instance

    work, env = scratch_instance("bench-mail-", args.database_url)
    from helpdesk import create_app
    from helpdesk.core.text import fold
    from helpdesk.core.types import utcnow
    from helpdesk.extensions import db
    from helpdesk.mail import process, store
    from helpdesk.mail.models import InboundMessage
    from helpdesk.org.models import Directorate, School

    app = create_app()
    store.enqueue_processing = lambda inbound_id: False  # timed separately below, no Redis
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
        t0 = time.perf_counter()
        ids = [store.accept(raw, source="bench", now=utcnow())[0] for raw in messages]
        t1 = time.perf_counter()
        for inbound_id in ids:
            process.run(inbound_id, now=utcnow())
        t2 = time.perf_counter()
        statuses = dict(db.session.execute(db.select(InboundMessage.status, db.func.count())
                                           .group_by(InboundMessage.status)).all())
    n = len(messages)
    url = env["HELPDESK_DATABASE_URL"].split("://")[0]
    print(f"database: {url}; {n} messages, {mb:.1f} MB; outcome {statuses}")
    print(f"store (door, commit each):   {n / (t1 - t0):8.1f} msg/s")
    print(f"process (job, commit each):  {n / (t2 - t1):8.1f} msg/s")
    print(f"raw bytes to ticket, 1 worker: {n / (t2 - t0):6.1f} msg/s")


if __name__ == "__main__":
    main()
