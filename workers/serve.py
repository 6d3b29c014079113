"""``helpdesk serve``: the web server, two RQ workers and the cron scheduler as children.

The parent starts the embedded Redis when ``REDIS_URL`` is unset, passes its URL to
every child, waits for the web server to answer, prints where it is, then supervises:
a child that exits is logged and started again after a back-off (1 s, 2 s, … 60 s;
reset once it has run a minute), so one failing part never takes the others down.
Ctrl-C / SIGTERM stops them all. Each child runs in its own process group (a
terminal's Ctrl-C reaches only the parent) and the whole group is stopped, so the
gunicorn workers and RQ's scheduler child go too; children get SIGTERM if the parent
dies. The embedded Redis is stopped by the parent when it exits (redisconn).
"""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

from redis import Redis
from rq import Worker
from rq.cron import CronScheduler

from helpdesk import ROOT
from helpdesk.core.redisconn import BULK_QUEUES, INTERACTIVE_QUEUES

#: Seconds the web server may take to start answering.
START_TIMEOUT = 60
#: Seconds children get to finish after SIGTERM before they are killed.
STOP_TIMEOUT = 20
#: Restart back-off of a child that exited: first wait, cap, and the run time after
#: which a child counts as healthy again (the back-off starts afresh).
RESTART_FIRST = 1.0
RESTART_MAX = 60.0
HEALTHY_AFTER = 60.0
#: gunicorn kills a request running longer than this; longer than SQLite's busy timeout.
WEB_TIMEOUT = 90


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = field(default=None, repr=False)
    #: monotonic time of the last start; restart bookkeeping.
    started_at: float = 0.0
    restarts: int = 0
    next_delay: float = RESTART_FIRST
    restart_at: float | None = None

    @property
    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def children(host: str, port: int, web_workers: int) -> list[Child]:
    python = sys.executable

    def worker(queues):
        return [python, "-m", "workers", "worker", *(arg for q in queues for arg in ("-q", q))]

    return [
        Child("web", [python, "-m", "gunicorn", "--bind", f"{host}:{port}",
                      "--workers", str(web_workers), "--graceful-timeout", "10",
                      "--timeout", str(WEB_TIMEOUT),
                      "--access-logfile", "-", *_gunicorn_extra(), "helpdesk:create_app()"]),
        Child("worker", worker(INTERACTIVE_QUEUES)),
        Child("bulk-worker", worker(BULK_QUEUES)),
        Child("cron", [python, "-m", "workers", "cron"]),
    ]


def next_restart_delay(previous: float, ran_for: float) -> float:
    """The wait before the next restart: doubled each time, reset after a healthy run."""
    if ran_for >= HEALTHY_AFTER:
        return RESTART_FIRST
    return min(RESTART_MAX, previous * 2)


def _gunicorn_extra() -> list[str]:
    """No control socket (gunicorn >= 24 puts one in ~/.gunicorn, shared by all runs)."""
    from gunicorn.config import KNOWN_SETTINGS  # only `helpdesk serve` starts gunicorn

    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        return ["--no-control-socket"]
    return []


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent goes away (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Supervisor:
    def __init__(self, procs: list[Child], env: dict[str, str]):
        self.procs = procs
        self.env = env
        self.stop_signal: int | None = None

    def _on_signal(self, signum, frame) -> None:
        self.stop_signal = signum

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def start(self) -> None:
        for child in self.procs:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv, env=self.env, cwd=str(ROOT), stdin=subprocess.DEVNULL,
            process_group=0, preexec_fn=_die_with_parent,
        )
        child.started_at = time.monotonic()
        child.restart_at = None

    def wait_until_ready(self, host: str, port: int, redis_url: str,
                         timeout: float = START_TIMEOUT) -> bool:
        """Wait until the web server answers and the worker and scheduler registered."""
        connection = Redis.from_url(redis_url)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and self.stop_signal is None:
                self.supervise_once()
                if self._ready(host, port, connection):
                    return True
                time.sleep(0.2)
            return False
        finally:
            connection.close()

    def _ready(self, host: str, port: int, connection: Redis) -> bool:
        """The web answers and every worker and the scheduler registered in Redis.
        Registrations of an earlier run may linger in Redis: match our pids."""
        pids = {child.name: child.process.pid for child in self.procs if child.is_running}
        workers = {pid for name, pid in pids.items() if "worker" in name}
        try:
            registered = {w.pid for w in Worker.all(connection=connection)}
            crons = {c.pid for c in CronScheduler.all(connection)}
        except Exception:  # noqa: BLE001 — Redis not answering yet: not ready
            return False
        return (len(pids) == len(self.procs) and _listening(host, port)
                and workers <= registered and pids.get("cron") in crons)

    def wait(self) -> None:
        """Supervise until a stop signal arrives: restart children that exit."""
        while self.stop_signal is None:
            self.supervise_once()
            time.sleep(0.3)

    def supervise_once(self, now: float | None = None) -> None:
        """Notice exited children and restart those whose back-off has passed."""
        now = time.monotonic() if now is None else now
        for child in self.procs:
            if child.is_running or child.process is None:
                continue
            if child.restart_at is None:
                ran_for = now - child.started_at
                child.next_delay = (RESTART_FIRST if child.restarts == 0 else
                                    next_restart_delay(child.next_delay, ran_for))
                child.restart_at = now + child.next_delay
                _say(f"{child.name} exited (code {child.process.returncode}) after "
                     f"{ran_for:.0f} s; starting it again in {child.next_delay:.0f} s")
                _stop_group(child, signal.SIGTERM)  # e.g. RQ's scheduler child
            elif now >= child.restart_at and self.stop_signal is None:
                child.restarts += 1
                self._spawn(child)
                _say(f"{child.name} started again (pid {child.process.pid}, "
                     f"restart {child.restarts})")

    def stop(self) -> None:
        """SIGTERM every child's process group (last started first), then SIGKILL
        whatever lingers, so no gunicorn worker or RQ scheduler child is left behind."""
        for child in reversed(self.procs):
            if child.process is not None:
                _stop_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in reversed(self.procs):
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _say(f"{child.name} did not stop in time; killing it")
                _stop_group(child, signal.SIGKILL)
                child.process.wait()
        # Members of a group whose leader has gone (none, normally).
        while any(_group_alive(child) for child in self.procs) and time.monotonic() < deadline:
            time.sleep(0.1)
        for child in self.procs:
            if _group_alive(child):
                _say(f"processes of {child.name} did not stop in time; killing them")
                _stop_group(child, signal.SIGKILL)


def _say(message: str) -> None:
    print(f"helpdesk serve: {message}", file=sys.stderr, flush=True)


def _stop_group(child: Child, signum: int) -> None:
    """Signal the process group that ``child`` leads (it was started with its own)."""
    if child.process is None:
        return
    try:
        os.killpg(child.process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(child: Child) -> bool:
    if child.process is None:
        return False
    try:
        os.killpg(child.process.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def banner(url: str, redis: str, database: str, logins: list[tuple[str, str, str]] | None,
           note: str | None) -> str:
    lines = [
        "",
        f"Αρωγή is serving at {url}   (Ctrl-C stops it)",
        f"  database: {database}",
        f"  redis:    {redis}",
        "  processes: web (gunicorn), worker (RQ), cron (RQ cron scheduler)",
    ]
    if logins:
        width_role = max(len(role) for role, _, _ in logins)
        width_email = max(len(email) for _, email, _ in logins)
        lines += ["", "Demo logins:"]
        lines += [f"  {role:<{width_role}}  {email:<{width_email}}  {password}"
                  for role, email, password in logins]
    if note:
        lines += ["", note]
    return "\n".join(lines + [""])


def demo_logins() -> tuple[list[tuple[str, str, str]] | None, str | None]:
    """(logins, note) from ``helpdesk.demo.logins()`` when the demo package has it."""
    try:
        from helpdesk.demo import logins  # optional: a deployment may ship without the demo
    except (ImportError, AttributeError):
        return None, "(no demo data module: create accounts with `helpdesk user create`)"
    try:
        return [tuple(row) for row in logins()], None
    except Exception as exc:  # a broken demo listing must not stop the service
        return None, f"(could not list the demo logins: {exc})"
