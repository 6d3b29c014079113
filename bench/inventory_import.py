"""Benchmark: import 300,000 rows in the inventory.sch.gr format through the CLI path.

    .venv/bin/python bench/inventory_import.py [--rows 300000] [--database-url URL]

Builds a fresh database (migrations + reference organisation + demo-like schools), writes a
CSV across the schools, then times ``helpdesk inventory import`` twice (the second run must
change nothing). Not a test.
"""
from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATS = ["Δρομολογητής ΠΣΔ", "Εκτυπωτής", "PC-DESKTOP", "Φορητός Η/Υ", "Βιντεοπροβολέας",
        "SWITCH", "AP", "Οθόνη"]
MAKERS = ["HP", "Dell", "Lenovo", "Cisco", "Epson", "Brother", "Acer", "Turbo-X"]
LOCS = ["ΣΕΠΕΗΥ", "Γραφείο", "Αίθουσα 1", "Βιβλιοθήκη", "ΕΦΕ", "Αίθουσα Καθηγητών"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.scratch import scratch_instance

    work, env = scratch_instance("bench-inv-", args.database_url)
    helpdesk = [str(ROOT / ".venv/bin/helpdesk")]
    from helpdesk import create_app
    from helpdesk.core.text import fold
    from helpdesk.extensions import db
    from helpdesk.org.models import Directorate, School

    app = create_app()
    with app.app_context():
        codes = list(db.session.scalars(db.select(School.code)))
        dirs = list(db.session.scalars(db.select(Directorate)))
        n = 0
        while len(codes) < 3000:  # enough schools for 100 items each
            d = dirs[n % len(dirs)]
            code = f"7{n:06d}"
            db.session.add(School(code=code, name=f"{n}ο Σχολείο Μετροπρογράμματος",
                                  name_folded=fold(f"{n}ο σχολειο"), school_type="GYM",
                                  email=f"mail@bench{n}.{d.sch_domain}.sch.gr", directorate_id=d.id))
            codes.append(code)
            n += 1
        db.session.commit()
    rnd = random.Random(1)
    path = work / "inventory.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cpe_id", "cpe", "mm_id", "unit_name", "registry_no", "item_name",
                    "manufacturer", "location", "serial_number"])
        for i in range(args.rows):
            code = codes[i % len(codes)]
            w.writerow([100000 + i, f"Model {rnd.randint(1, 400)}", 1000000 + i % len(codes),
                        f"Σχολείο {code}", code, rnd.choice(CATS), rnd.choice(MAKERS),
                        rnd.choice(LOCS), f"SN{i:09d}"])
    print(f"{args.rows} rows, {path.stat().st_size / 1e6:.1f} MB, {len(codes)} schools, "
          f"database {env['HELPDESK_DATABASE_URL'].split('@')[-1]}")
    for label in ("first import", "same file again"):
        t = time.monotonic()
        out = subprocess.run(helpdesk + ["inventory", "import", str(path), "--quiet"], env=env,
                             check=True, capture_output=True, text=True)
        print(f"{label}: {time.monotonic() - t:.1f}s (incl. ~1s start-up) — {out.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
