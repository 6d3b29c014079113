"""``helpdesk serve``: the web server, an RQ worker and the cron scheduler as children.

The parent starts the embedded Redis when ``REDIS_URL`` is unset, passes its URL to
every child, waits for the web server to answer, prints where it is, then forwards
Ctrl-C / SIGTERM to the children and stops them all. Children run in their own process
groups (a terminal's Ctrl-C reaches only the parent, which stops them in order) and
get SIGTERM if the parent dies.
"""
from __future__ import annotations

import ctypes
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

#: Seconds the web server may take to start answering.
START_TIMEOUT = 60
#: Seconds children get to finish after SIGTERM before they are killed.
STOP_TIMEOUT = 20


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def children(host: str, port: int, web_workers: int) -> list[Child]:
    python = sys.executable
    return [
        Child("web", [python, "-m", "gunicorn", "--bind", f"{host}:{port}",
                      "--workers", str(web_workers), "--graceful-timeout", "10",
                      "--access-logfile", "-", *_gunicorn_extra(), "helpdesk:create_app()"]),
        Child("worker", [python, "-m", "workers", "worker"]),
        Child("cron", [python, "-m", "workers", "cron"]),
    ]


def _gunicorn_extra() -> list[str]:
    """No control socket (gunicorn >= 24 puts one in ~/.gunicorn, shared by all runs)."""
    from gunicorn.config import KNOWN_SETTINGS

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
            child.process = subprocess.Popen(
                child.argv, env=self.env, cwd=str(ROOT), stdin=subprocess.DEVNULL,
                process_group=0, preexec_fn=_die_with_parent,
            )

    def dead(self) -> Child | None:
        return next((c for c in self.procs if not c.is_running), None)

    def wait_until_ready(self, host: str, port: int, redis_url: str,
                         timeout: float = START_TIMEOUT) -> bool:
        """Wait until the web server answers and the worker and scheduler registered."""
        connection = Redis.from_url(redis_url)
        ours = {child.process.pid for child in self.procs}
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and self.stop_signal is None and not self.dead():
                # Registrations of an earlier run may linger in Redis: match our pids.
                if (_listening(host, port)
                        and any(w.pid in ours for w in Worker.all(connection=connection))
                        and any(c.pid in ours for c in CronScheduler.all(connection))):
                    return True
                time.sleep(0.2)
            return False
        finally:
            connection.close()

    def wait(self) -> Child | None:
        """Block until a signal arrives (None) or a child exits (that child)."""
        while self.stop_signal is None:
            if (dead := self.dead()) is not None:
                return dead
            time.sleep(0.3)
        return None

    def stop(self) -> None:
        """SIGTERM every child (last started first), then SIGKILL whoever lingers."""
        for child in reversed(self.procs):
            if child.is_running:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in reversed(self.procs):
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"helpdesk serve: {child.name} did not stop in time; killing it",
                      file=sys.stderr)
                child.process.kill()
                child.process.wait()


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
        from helpdesk.demo import logins
    except (ImportError, AttributeError):
        return None, "(no demo data module: create accounts with `helpdesk user create`)"
    try:
        return [tuple(row) for row in logins()], None
    except Exception as exc:  # a broken demo listing must not stop the service
        return None, f"(could not list the demo logins: {exc})"
