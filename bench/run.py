"""`make bench`: generate 10k / 100k / 1M data sets, measure, compare with the peer, report.

    .venv/bin/python bench/run.py                    # everything, the peer included (~45 min)
    .venv/bin/python bench/run.py --max 100000       # skip the 1M data set
    .venv/bin/python bench/run.py --no-peer --runs 1 # ours only, one measurement per size
    .venv/bin/python bench/run.py --smoke            # 10,000 tickets, no peer (make bench-smoke)

Data sets go to PostgreSQL databases arogi_bench_<size> on --pg (kept between runs and reused
when they hold the same size and seed; --fresh regenerates), or to SQLite files under
/tmp/arogi-bench when PostgreSQL is unreachable. The peer's RESULT lines come from
bench/results/peer-latest.txt (written by bench/peer.sh; --peer runs it first).
Prints one table and writes bench/results/<date>.md plus bench/results/<date>-latency.svg.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
RAW = Path(os.environ.get("BENCH_RAW", "/tmp/arogi-bench"))
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
#: The smoke run's ratios as committed; `make bench-smoke` fails when a page's ratio grows by
#: more than REGRESSION over its figure here.
BASELINE = RESULTS / "smoke-ratios.json"
REGRESSION = 1.25


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--max", type=int, default=None, help="skip data sets above this size")
    p.add_argument("--smoke", action="store_true", help="10,000 tickets, short cells, no peer")
    p.add_argument("--pg", default=PG, help="PostgreSQL server URL (no database)")
    p.add_argument("--sqlite", action="store_true", help="force SQLite")
    p.add_argument("--fresh", action="store_true", help="regenerate even when reusable")
    p.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True,
                   help="run the peer (bench/peer.sh, ~10 min) in the same run; --no-peer "
                        "uses its last figures (bench/results/peer-latest.txt)")
    p.add_argument("--no-install", action="store_true")
    p.add_argument("--reuse-measurements", action="store_true",
                   help="use /tmp/arogi-bench/http-<size>.json when present instead of measuring")
    p.add_argument("--secs", type=float, default=8.0)
    p.add_argument("--runs", type=int, default=3,
                   help="measurements per data set; each figure is the median (smoke: 3)")
    p.add_argument("--max-requests", type=int, default=300)
    p.add_argument("--only", default="", help="only these operations (substring match)")
    p.add_argument("--out", default=None, help="results file (default bench/results/<date>.md)")
    p.add_argument("--baseline", default=str(BASELINE),
                   help="the committed ratios the smoke run is checked against")
    p.add_argument("--write-baseline", action="store_true",
                   help="record this run's ratios as the baseline (commit the file)")
    return p.parse_args(argv)


def pg_reachable(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url.rstrip("/") + "/postgres", connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "use SQLite"
        return False


def db_url(args, size: int) -> str:
    label = label_of(size).lower()
    if args.sqlite:
        RAW.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{RAW}/arogi_bench_{label}.db"
    return f"{args.pg.rstrip('/')}/arogi_bench_{label}"


def label_of(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 and size % 1_000_000 == 0 else (
        f"{size // 1000}k" if size >= 1000 else str(size))


def sh(*cmd, **kw) -> subprocess.CompletedProcess:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True, **kw)


# --- the steps -----------------------------------------------------------------------------------

def install() -> None:
    sh(sys.executable, "-m", "pip", "install", "--quiet", "-e", ".[bench]")


def generate(url: str, size: int, fresh: bool) -> float:
    """Generate (or reuse) the data set; returns the seconds its generation took, which
    the generator records in its marker row, so a reused data set still reports it."""
    t = time.perf_counter()
    cmd = [sys.executable, BENCH / "generate.py", "--database-url", url, "--tickets", size]
    sh(*(cmd if fresh else cmd + ["--keep"]))
    took = time.perf_counter() - t
    if took < 30:  # reused
        sys.path.insert(0, str(ROOT))
        from bench.sinks import read_facts

        took = float(read_facts(url).get("generated_seconds") or 0) or took
    return took


def warm(url: str) -> None:
    """Read the data set's tables and indexes into the page cache (pg_prewarm, 'read'), as
    on a server that has been running: right after generation or a reboot the first
    requests of each page read the disk (a 1M set is ~5.5 GB; the machine has 24 GB)."""
    if not url.startswith("postgres"):
        return
    import psycopg

    t = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as c:
        try:
            c.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except psycopg.Error as exc:
            print(f"not warmed (pg_prewarm: {exc})", flush=True)
            return
        rels = [r[0] for r in c.execute(
            "SELECT oid::regclass::text FROM pg_class WHERE relnamespace = "
            "'public'::regnamespace AND relkind IN ('r', 'i')")]
        for rel in rels:
            c.execute("SELECT pg_prewarm(%s, 'read')", (rel,))
    print(f"warmed {len(rels)} relations in {time.perf_counter() - t:.0f} s", flush=True)


def measure(url: str, size: int, args) -> dict:
    """Measure ``--runs`` times (a new raw file each), then take each figure's median across
    the runs; with --reuse-measurements merge the raw files of earlier runs instead."""
    RAW.mkdir(parents=True, exist_ok=True)
    label = label_of(size)
    if args.reuse_measurements:
        files = sorted(RAW.glob(f"http-{label}*.json"))
        if files:
            print(f"merging {len(files)} earlier run(s) at {label}", flush=True)
            return merge_runs([json.loads(f.read_text()) for f in files])
    warm(url)
    runs = []
    for i in range(args.runs):
        out = RAW / f"http-{label}-{time.strftime('%H%M%S')}-{i + 1}.json"
        cmd = [sys.executable, BENCH / "http_load.py", "--database-url", url, "--secs",
               args.secs, "--max", args.max_requests, "--json", out]
        if args.only:
            cmd += ["--only", args.only]
        sh(*cmd)
        runs.append(json.loads(out.read_text()))
    return merge_runs(runs)


def merge_runs(runs: list[dict]) -> dict:
    """Cell-wise medians of p50, p95 and req/s over runs; counts summed; SQL maximum."""
    import statistics

    cells = {}
    for key in {k for r in runs for k in r["cells"]}:
        got = [r["cells"][key] for r in runs if r["cells"].get(key, {}).get("n")]
        if not got:
            cells[key] = next(r["cells"][key] for r in runs if key in r["cells"])
            continue
        med = lambda f: round(statistics.median(c[f] for c in got if c[f] is not None), 1)  # noqa: E731
        cells[key] = {"n": sum(c["n"] for c in got), "p50": med("p50"), "p95": med("p95"),
                      "rps": med("rps"), "sql": max(c["sql"] or 0 for c in got),
                      "sql_ms": med("sql_ms") if any(c["sql_ms"] for c in got) else None,
                      "errors": sum(c["errors"] for c in got), "runs": len(got)}
    return {"cells": cells, "runs": len(runs),
            "peak_rss_mb": max(r.get("peak_rss_mb") or 0 for r in runs),
            "actors": runs[-1].get("actors")}


#: A log record in a side script's output (alembic's "INFO  [...]", the app's
#: "2026-12-03 16:39:34,528 INFO name [...]"), left out of the figures.
_LOG_LINE = re.compile(r"^(\S+ \S+ )?(DEBUG|INFO|WARNING)\b")

#: script -> (its own database, extra arguments). Each script builds its own database from
#: scratch, so it never gets one of the data sets above.
SIDE = {"mail_ingest": ("arogi_bench_mail", ["--messages", "2000"]),
        "sla_sweep": ("arogi_bench_sla", ["--tickets", "20000"]),
        "inventory_import": ("arogi_bench_inv", ["--rows", "300000"])}


def side_benchmarks(args, reuse: bool = False) -> dict:
    """Mail ingest (2,000 messages), the SLA sweep (20,000 open tickets, the 1M set's open
    share) and the 300,000-row equipment import, through the other engineers' scripts
    (bench/mail_ingest.py, sla_sweep.py, inventory_import.py) when they exist."""
    found = {}
    RAW.mkdir(parents=True, exist_ok=True)
    for name, (dbname, extra) in SIDE.items():
        script, log = BENCH / f"{name}.py", RAW / f"side-{name}.log"
        if not script.exists():
            found[name] = f"not measured: bench/{name}.py does not exist"
            continue
        if reuse and not log.exists():
            found[name] = f"not measured in this run (no {log.name}; run without --reuse-measurements)"
            continue
        if not reuse:
            if args.sqlite:
                url = f"sqlite:///{RAW}/{dbname}.db"
            else:
                url = f"{args.pg.rstrip('/')}/{dbname}"
                import psycopg

                with psycopg.connect(args.pg.rstrip("/") + "/postgres", autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
                    c.execute(f'CREATE DATABASE "{dbname}"')
            t = time.perf_counter()
            try:
                proc = subprocess.run([sys.executable, str(script), "--database-url", url, *extra],
                                      cwd=ROOT, capture_output=True, text=True, timeout=1800)
                text = proc.stdout + proc.stderr + f"\n(exit {proc.returncode}, wall "
                text += f"{time.perf_counter() - t:.0f} s)"
            except subprocess.TimeoutExpired:
                text = "timed out after 30 min"
            log.write_text(text)
        lines = [ln.strip() for ln in log.read_text().splitlines()
                 if ln.strip() and not _LOG_LINE.match(ln)]
        found[name] = " | ".join(lines[-6:])
    return found


def read_peer(path: Path) -> dict[str, float]:
    peer = {}
    if not path.exists():
        return peer
    for line in path.read_text().splitlines():
        m = re.match(r"RESULT backend=postgres (\w+)=([\d.]+)", line)
        if m:
            peer[m.group(1)] = float(m.group(2))
    return peer


# --- the table -----------------------------------------------------------------------------------

#: (our operation, how judged, peer key, peer label, target: (comparison, bound) or None)
ROWS = [
    ("queue L1 (open)", "p95c1", "http_ticket_list_json25_c1_p95_ms", "list JSON rows",
     ("≤", 50)),
    ("dashboard (/tickets, default)", "p95c1", "http_dashboard_c1_p95_ms", "dashboard",
     ("≤", 100)),
    ("queue L2 (open)", "p95c1", None, "", None),
    ("school list (all)", "p95c1", None, "", None),
    ("ticket page (30 entries)", "p95c1", "http_ticket_detail_c1_p95_ms", "detail, 3 follow-ups",
     ("≤", 50)),
    ("search 'εκτυπωτης'", "p95c1", None, "", None),
    ("file ticket (POST)", "rpsc4", "http_staff_create_post_c4_rps", "staff create POST",
     ("≥", 150)),
    ("reply (POST)", "p95c1", None, "", None),
    ("escalate (POST)", "p95c1", None, "", None),
    ("SLA report 12 months", "p95c1", "http_report_index_median_ms", "/reports/ (median)",
     ("≤", 1000)),
    ("floor L1 (open)", "p95c1", None, "", None),
]
PEER_SQL = {"queue L1 (open)": "queries_ticket_list_json_len25",
            "dashboard (/tickets, default)": "queries_dashboard",
            "ticket page (30 entries)": "queries_ticket_detail_30_followups",
            "file ticket (POST)": "queries_staff_create_post",
            "SLA report 12 months": "queries_report_index"}
#: Pages whose statement count the issue bounds (constant, ≤ 10).
PAGES = ["queue L1 (open)", "dashboard (/tickets, default)", "queue L2 (open)",
         "school list (all)", "ticket page (30 entries)", "search 'εκτυπωτης'",
         "SLA report 12 months"]


def judged(value: float | None, target) -> str:
    if target is None or value is None:
        return ""
    op, bound = target
    ok = value <= bound if op == "≤" else value >= bound
    return ("met" if ok else "missed") + f" ({op} {bound:g})"


def cell(res: dict | None, op: str, how: str) -> tuple[str, float | None]:
    """'p50 / p95 ms c1 · p95 c4 · req/s c4 · statements' and the judged figure."""
    if not res:
        return "—", None
    c1 = res["cells"].get(f"{op}|c1")
    c4 = res["cells"].get(f"{op}|c4") or {}
    if not c1 or not c1.get("n"):
        return "n/a", None
    text = f"{c1['p50']} / {c1['p95']} ms"
    if c4.get("n"):
        text += f" · c4 p95 {c4['p95']} ms, {c4['rps']}/s"
    text += f" · {c1.get('sql')} q"
    value = c4.get("rps") if how == "rpsc4" else c1["p95"]
    return text, value


def table(results: dict[int, dict], peer: dict, sizes: list[int],
          side_figures: dict | None = None) -> list[str]:
    small = 100000 if 100000 in results else (sizes[0] if sizes else None)
    big = 1_000_000 if 1_000_000 in results else max(results) if results else None
    judged_at = big
    if big == small:  # one data set (the smoke run): one column of ours
        big = None
    lines = [f"| operation | ours {label_of(small) if small else '—'} (c1 p50 / p95 · c4) | "
             f"ours {label_of(big) if big else '—'} | peer 100k (same machine) | "
             f"peer / ours at {label_of(small) if small else '—'} | "
             f"target at {label_of(judged_at) if judged_at else '—'} |",
             "|---|---|---|---|---|---|"]
    for op, how, pkey, plabel, target in ROWS:
        s_txt, s_val = cell(results.get(small), op, how)
        b_txt, b_val = cell(results.get(big), op, how)
        pv = peer.get(pkey) if pkey else None
        p_txt = "—"
        if pv is not None:
            unit = "/s c4" if how == "rpsc4" else " ms p95 c1"
            if pkey.endswith("median_ms"):
                unit = " ms median"
            sq = peer.get(PEER_SQL.get(op, ""), None)
            p_txt = f"{pv:g}{unit} ({plabel}{f'; {sq:g} q' if sq else ''})"
        ratio = "—"
        if pv and s_val:
            ratio = f"{(s_val / pv if how == 'rpsc4' else pv / s_val):.1f}×"
        lines.append(f"| {op} | {s_txt} | {b_txt} | {p_txt} | {ratio} | "
                     f"{judged(b_val if big else s_val, target)} |")
    for size, res in sorted(results.items()):
        q = res["cells"].get("queue L1 (open)|c1")
        f = res["cells"].get("floor L1 (open)|c1")
        if q and f and q.get("p50") and f.get("p50"):
            r = q["p50"] / f["p50"]
            lines.append(f"| queue / floor at {label_of(size)} (p50, c1) | {r:.2f}× | | | | "
                         f"{judged(r, ('≤', 1.5)) if size == judged_at else ''} |")
    if judged_at in results:
        counts = [results[judged_at]["cells"].get(f"{op}|c1", {}).get("sql_max") or
                  results[judged_at]["cells"].get(f"{op}|c1", {}).get("sql") for op in PAGES]
        counts = [c for c in counts if c is not None]
        if counts:
            worst = max(counts)
            lines.append(f"| SQL statements per page at {label_of(judged_at)} (most of any page) | "
                         f"{worst} | | 35–261 on its list | | {judged(worst, ('≤', 10))} |")
    for size, res in sorted(results.items()):
        lines.append(f"| peak worker RSS at {label_of(size)} | {res.get('peak_rss_mb')} MB |"
                     " | | | |")
    for name, (text, value, target, peer_text) in (side_figures or {}).items():
        lines.append(f"| {name} | {text} | | {peer_text} | | {judged(value, target)} |")
    return lines


#: side figure -> (log name, regex whose group 1 is the figure, unit, target, peer key)
SIDE_FIGURES = {
    "mail ingest, 1 worker (raw bytes → ticket)": (
        "mail_ingest", r"raw bytes to ticket[^|]*?([\d.]+) msg/s", "msg/s", ("≥", 150),
        "ingest_messages_per_s"),
    "equipment import, 300,000 new rows": (
        "inventory_import", r"first import: ([\d.]+) ?s", "s", ("≤", 60), None),
    "SLA sweep, 20,000 open tickets (first sweep)": (
        "sla_sweep", r"sweep 1: ([\d.]+) ?s", "s", None, None),
}


def side_table(side: dict, peer: dict, gen_times: dict) -> dict:
    out = {}
    for name, (log, rx, unit, target, pkey) in SIDE_FIGURES.items():
        m = re.search(rx, side.get(log, ""))
        if not m:
            continue
        value = float(m.group(1))
        pv = peer.get(pkey) if pkey else None
        out[name] = (f"{value:g} {unit}", value, target,
                     f"{pv:g} {unit}" if pv is not None else "—")
    if gen_times.get(1_000_000, 0) > 5:
        v = round(gen_times[1_000_000])
        out["generate 1M tickets (COPY)"] = (f"{v} s", v, ("≤", 900), "—")
    return out


# --- ratios: a page's time over its own SQL's, comparable across machines -------------------------

def ratios(res: dict) -> dict[str, float]:
    """Per operation: median response time over the median time its statements took in
    the database (X-SQL-Ms), at one client; and the queue over the floor endpoint."""
    out = {}
    for op, *_ in ROWS:
        c1 = res["cells"].get(f"{op}|c1") or {}
        if c1.get("p50") and c1.get("sql_ms"):
            out[op] = round(c1["p50"] / c1["sql_ms"], 2)
    q = res["cells"].get("queue L1 (open)|c1") or {}
    f = res["cells"].get("floor L1 (open)|c1") or {}
    if q.get("p50") and f.get("p50"):
        out["queue L1 / floor"] = round(q["p50"] / f["p50"], 2)
    return out


def ratio_table(results: dict[int, dict]) -> list[str]:
    sizes = sorted(results)
    by_size = {s: ratios(results[s]) for s in sizes}
    ops = [op for op in dict.fromkeys(k for r in by_size.values() for k in r)]
    lines = ["| operation | " + " | ".join(f"{label_of(s)}: time / own SQL (p50, c1)"
                                          for s in sizes) + " | target |",
             "|---|" + "---|" * len(sizes) + "---|"]
    for op in ops:
        cells = [f"{by_size[s][op]:.2f}×" if op in by_size[s] else "—" for s in sizes]
        lines.append(f"| {op} | " + " | ".join(cells) + " | ≤ 1.5× |")
    return lines


def regressions(now: dict[str, float], baseline: dict[str, float],
                limit: float = REGRESSION) -> list[str]:
    """The operations whose ratio grew by more than ``limit`` over the baseline's."""
    return [f"{op}: {now[op]:.2f}× against {base:.2f}× committed (limit {base * limit:.2f}×)"
            for op, base in sorted(baseline.items())
            if op in now and base and now[op] > base * limit]


def check_baseline(args, res: dict) -> int:
    """Smoke run: compare with (or, with --write-baseline, record) the committed ratios."""
    path, now = Path(args.baseline), ratios(res)
    if args.write_baseline:
        path.write_text(json.dumps({"tickets": 10000, "ratios": now}, indent=2,
                                   ensure_ascii=False) + "\n")
        print(f"baseline written to {path}: commit it")
        return 0
    if not path.exists():
        print(f"no baseline at {path}: run with --write-baseline and commit it")
        return 0
    # The pages (GET): a POST's ratio swings more than a quarter between two quiet runs.
    committed = {op: r for op, r in json.loads(path.read_text())["ratios"].items()
                 if op in PAGES or op == "queue L1 / floor"}
    worse = regressions(now, committed)
    for line in worse:
        print(f"REGRESSION {line}")
    if not worse:
        print(f"no page's ratio grew by more than {(REGRESSION - 1) * 100:.0f} % "
              f"against {path.name}")
    return 1 if worse else 0


# --- the plot: hand-written SVG, no dependency ----------------------------------------------------

def svg_plot(results: dict[int, dict], path: Path) -> None:
    series = [("queue L1 (open)", "#1f77b4"), ("SLA report 12 months", "#d62728"),
              ("ticket page (30 entries)", "#2ca02c"), ("floor L1 (open)", "#7f7f7f")]
    sizes = sorted(results)
    pts = {name: [(s, results[s]["cells"].get(f"{name}|c1", {}).get("p50")) for s in sizes]
           for name, _ in series}
    values = [v for p in pts.values() for _, v in p if v]
    if not values or len(sizes) < 1:
        return
    import math

    w, h, left, bottom, top, right = 640, 400, 70, 50, 30, 200
    ymax = max(values) * 1.15
    xs = {s: left + (i + 0.5) * (w - left - right) / len(sizes) for i, s in enumerate(sizes)}

    def y(v):
        return h - bottom - v / ymax * (h - bottom - top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14">Αρωγή: median latency (c1, ms) vs tickets '
           'in PostgreSQL</text>',
           f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>']
    step = 10 ** math.floor(math.log10(ymax / 4)) if ymax > 0 else 1
    tick = 0.0
    while tick <= ymax:
        out.append(f'<line x1="{left - 4}" y1="{y(tick):.1f}" x2="{w - right}" y2="{y(tick):.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
        tick += step * (2 if ymax / step > 10 else 1)
    for s, x in xs.items():
        out.append(f'<text x="{x:.1f}" y="{h - bottom + 18}" text-anchor="middle">'
                   f'{label_of(s)}</text>')
    for i, (name, colour) in enumerate(series):
        p = [(xs[s], y(v)) for s, v in pts[name] if v]
        if p:
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                       + " ".join(f"{a:.1f},{b:.1f}" for a, b in p) + '"/>')
            out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>' for a, b in p]
        ly = top + 20 + i * 20
        out.append(f'<rect x="{w - right + 15}" y="{ly - 9}" width="12" height="12" '
                   f'fill="{colour}"/><text x="{w - right + 32}" y="{ly + 1}">{name}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


# --- the machine ---------------------------------------------------------------------------------

def machine() -> list[str]:
    def run(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, shell=True,
                                  timeout=20).stdout.strip()
        except Exception:  # noqa: BLE001
            return "?"
    cpu = run("lscpu | grep -E '^Model name' | sed 's/Model name: *//'")
    mem = run("free -g | awk '/Mem:/ {print $2\" GiB\"}'")
    pgv = run("psql -h 127.0.0.1 -U postgres -Atc 'show server_version' 2>/dev/null")
    gv = run(f"{Path(sys.executable).with_name('gunicorn')} --version")
    pkgs = run(f"{sys.executable} -m pip list 2>/dev/null | grep -iE "
               "'^(flask|sqlalchemy|psycopg|werkzeug|jinja2) ' | tr -s ' ' | paste -sd ';'")
    return [f"- nproc: {os.cpu_count()}; CPU: {cpu}; memory: {mem}",
            f"- load average at the end: {os.getloadavg()[0]:.1f} (the machine is shared)",
            f"- OS: {platform.platform()}; Python {platform.python_version()}",
            f"- PostgreSQL {pgv or 'n/a'} (127.0.0.1:5432, stock config); {gv}, 2 sync workers",
            f"- packages: {pkgs}"]


#: The pages profiled in-process after the measurements (bench/profile_page.py --summary):
#: (title, profile_page arguments).
PROFILED = (
    ("queue L1 (open)", ["--as", "l1", "--path", "/tickets?queue=open"]),
    ("dashboard (/tickets, default)", ["--as", "l1", "--path", "/tickets"]),
    ("queue L2 (open)", ["--as", "l2", "--path", "/tickets?queue=open"]),
    ("school list (all)", ["--as", "school", "--path", "/tickets?queue=all"]),
    ("search 'εκτυπωτης' (level 1)", ["--as", "l1", "--path", "/tickets?queue=all&q=εκτυπωτης"]),
    ("file ticket (POST)", ["--post", "filing"]),
    ("reply (POST)", ["--post", "reply"]),
    ("escalate (POST)", ["--post", "escalate"]),
    ("ticket page", ["--as", "long", "--path", "long"]),
)


def profiles(url: str, repeat: int = 40) -> list[str]:
    """Where each profiled page's time goes, layer by layer (pyinstrument, in-process: the
    profiler roughly doubles the times; the shares are what to read)."""
    out = []
    for title, extra in PROFILED:
        proc = subprocess.run([sys.executable, str(BENCH / "profile_page.py"), "--database-url",
                               url, "--summary", "--repeat", str(repeat), *extra],
                              cwd=ROOT, capture_output=True, text=True, timeout=900)
        text = [ln for ln in proc.stdout.splitlines() if not _LOG_LINE.match(ln)]
        if proc.returncode != 0:
            text += [f"(exit {proc.returncode})", *proc.stderr.strip().splitlines()[-3:]]
        out += [f"### {title}", "", "```", *text, "```", ""]
    return out + mail_profile(url)


#: The mail-ingest profile's own database and messages (fewer than the measurement's: the
#: profiler slows every step).
MAIL_PROFILE = ("arogi_bench_mailprof", 400)


def mail_profile(url: str) -> list[str]:
    """Where inbound mail's time goes (bench/mail_ingest.py --summary), on its own database
    beside the data set's (PostgreSQL) or in a scratch SQLite file."""
    dbname, messages = MAIL_PROFILE
    if url.startswith("postgres"):
        server = url.rsplit("/", 1)[0]
        target, extra = f"{server}/{dbname}", ["--recreate"]
    else:
        target, extra = f"sqlite:///{RAW}/{dbname}.db", []
        Path(f"{RAW}/{dbname}.db").unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, str(BENCH / "mail_ingest.py"), "--database-url",
                           target, "--messages", str(messages), "--summary", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    text = [ln for ln in proc.stdout.splitlines() if not _LOG_LINE.match(ln)]
    if proc.returncode != 0:
        text += [f"(exit {proc.returncode})", *proc.stderr.strip().splitlines()[-3:]]
    return [f"### mail ingest ({messages} messages, raw bytes to ticket)", "", "```", *text,
            "```", ""]


def write_results(path: Path, lines: list[str], gen_times: dict, side: dict, args,
                  sizes: list[int], svg: Path, results: dict[int, dict],
                  profiled: list[str] | None = None) -> None:
    body = [f"# Scale benchmark, {date.today().isoformat()}", "",
            f"Command: `.venv/bin/python bench/run.py {' '.join(sys.argv[1:])}`", "",
            "## Machine", "", *machine(), "",
            "## Results (PostgreSQL; c1 = one client, c4 = four; q = SQL statements per request)",
            "", *lines, "", f"Plot: [{svg.name}]({svg.name})", "",
            "## Each page against its own SQL", "",
            "A page's median time over the median time its own statements took in the "
            "database (the X-SQL-Ms header), so that the figure holds on any machine; the "
            "queue is also compared with the floor endpoint (its list's SQL replayed, no "
            "ORM, no template).", "", *ratio_table(results), "",
            "## Data generation (wall seconds, COPY)", ""]
    body += [f"- {label_of(s)} tickets: {gen_times[s]:.0f} s (recorded by the generator in the "
             "data set's marker row; 0 = not recorded)" for s in sizes]
    body += ["", "## Mail ingest, SLA sweep, equipment import", ""]
    body += [f"- {k}: {v}" for k, v in side.items()]
    if profiled:
        body += ["", f"## Where the time goes at {label_of(sizes[-1])} (pyinstrument, in-process)",
                 "", "Each layer's own time per request and its share; the profiler roughly "
                 "doubles the times, so read the shares. 'database' is the driver sending the "
                 "statements and waiting for PostgreSQL.", "", *profiled]
    path.write_text("\n".join(body) + "\n")


def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.no_install:
        install()
    sizes = [10000] if args.smoke else [int(s) for s in args.sizes.split(",")]
    if args.max:
        sizes = [s for s in sizes if s <= args.max]
    if not args.sqlite and not pg_reachable(args.pg):
        print("PostgreSQL unreachable: using SQLite", flush=True)
        args.sqlite = True
    if args.smoke:  # three short runs: the regression check compares their medians
        args.secs, args.max_requests = min(args.secs, 2.0), min(args.max_requests, 40)
        args.runs = 3
    if args.peer and not args.smoke:
        sh("bash", BENCH / "peer.sh")
    gen_times, results = {}, {}
    for size in sizes:
        url = db_url(args, size)
        gen_times[size] = generate(url, size, args.fresh)
        results[size] = measure(url, size, args)
    side = {} if args.smoke else side_benchmarks(args, args.reuse_measurements)
    profiled = [] if args.smoke or args.sqlite else profiles(db_url(args, sizes[-1]))
    peer = {} if args.smoke else read_peer(RESULTS / "peer-latest.txt")
    lines = table(results, peer, sizes, side_table(side, peer, gen_times))
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    stem = date.today().isoformat() + ("-smoke" if args.smoke else "")
    out = Path(args.out) if args.out else RESULTS / f"{stem}.md"
    svg = out.with_name(out.stem + "-latency.svg")
    svg_plot(results, svg)
    write_results(out, lines, gen_times, side, args, sizes, svg, results, profiled)
    print(f"wrote {out} and {svg}")
    print("\n".join(ratio_table(results)))
    if args.smoke:
        sys.exit(check_baseline(args, results[sizes[0]]))


if __name__ == "__main__":
    main()
