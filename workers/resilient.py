"""Workers and the cron scheduler that ride out a Redis outage.

RQ's worker quits on an unexpected Redis error and its cron scheduler exits on the
first ``ConnectionError``; a dead scheduler leaves every notification written during
the outage unsent until someone restarts it. Here each runs in a loop: when it stops
for any reason other than a stop request, it waits (exponential back-off, capped) and
starts again on a fresh connection. Once Redis answers again the periodic jobs run
at once (an interval job runs when the scheduler starts), so the outbox and inbound
sweeps catch up on what was written meanwhile.

RQ's worker starts its scheduler (for delayed jobs) in a forked child that holds a
lock in Redis while it lives. If the worker is killed with SIGKILL, that child would
keep the lock for ever; ours asks the kernel for SIGTERM when its parent dies and
also checks its parent at every tick, so it stops and releases the lock.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable

import redis
from rq import SimpleWorker, Worker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.exceptions import SchedulerNotFound, StopRequested
from rq.scheduler import RQScheduler

from helpdesk.core import logs, metrics

log = logging.getLogger(__name__)

#: Back-off between restarts after a failure: first, growth factor, cap (seconds).
BACKOFF_FIRST = 1.0
BACKOFF_FACTOR = 2.0
BACKOFF_MAX = 30.0


def backoff_delays(first: float = BACKOFF_FIRST, factor: float = BACKOFF_FACTOR,
                   cap: float = BACKOFF_MAX):
    """1, 2, 4, … seconds, capped: the waits between attempts."""
    delay = first
    while True:
        yield delay
        delay = min(cap, delay * factor)


def _redis_ok(connection: redis.Redis) -> bool:
    try:
        return bool(connection.ping())
    except (redis.RedisError, OSError):
        return False


class _Stopping:
    """Turns SIGTERM / SIGINT into a flag while we wait between attempts."""

    def __init__(self):
        self.requested = False

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.requested = True

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.requested and time.monotonic() < deadline:
            time.sleep(min(0.2, deadline - time.monotonic()))


def run_forever(name: str, attempt: Callable[[], bool], connection: redis.Redis,
                stopping: _Stopping | None = None) -> None:
    """Call ``attempt()`` until it returns True (a requested stop) or a signal arrives.

    ``attempt`` runs the worker or scheduler once; an exception or a False return
    means it stopped on its own (Redis went away, a bug): wait and start again."""
    stopping = stopping or _Stopping()
    delays = backoff_delays()
    while True:
        started = time.monotonic()
        try:
            if attempt():
                return
        except (StopRequested, KeyboardInterrupt):
            return
        except SchedulerNotFound:  # its registration vanished with a restarted Redis
            if stopping.requested:
                return
            log.warning("%s: its registration was lost (Redis restarted empty)", name)
        except (redis.RedisError, OSError) as exc:
            if stopping.requested:
                return
            log.warning("%s: Redis is unreachable (%s)", name, exc)
        except Exception:
            log.exception("%s stopped on an error", name)
        stopping.install()  # RQ's own handlers are gone with the instance that set them
        if stopping.requested:
            return
        if time.monotonic() - started > 60:
            delays = backoff_delays()  # it ran a good while: start the back-off afresh
        # Wait for Redis before building a new worker: its registration needs Redis.
        while not stopping.requested:
            delay = next(delays)
            log.warning("%s: starting again in %.0f s", name, delay)
            stopping.sleep(delay)
            if _redis_ok(connection):
                break
        if stopping.requested:
            return
        log.info("%s: Redis answers again; restarting", name)


# -- the worker --------------------------------------------------------------------------

def _parent_watch() -> None:
    """In the scheduler child: SIGTERM from the kernel when the worker dies (Linux)."""
    import ctypes  # prctl is Linux's; loaded only in the scheduler child that uses it

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class OrphanAwareScheduler(RQScheduler):
    """RQ's delayed-job scheduler that stops when the worker that forked it is gone."""

    def work(self):
        parent = os.getppid()
        _parent_watch()
        if os.getppid() != parent:  # the parent died before the watch was set
            self._stop_requested = True
        original_heartbeat = self.heartbeat

        def heartbeat():
            if os.getppid() != parent:
                self.log.warning("Scheduler: the worker (pid %s) is gone; stopping", parent)
                self._stop_requested = True
                return
            original_heartbeat()

        self.heartbeat = heartbeat
        delays = backoff_delays()
        while True:  # RQ's scheduler process dies on a Redis error; ours waits it out
            try:
                return super().work()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if self._stop_requested or os.getppid() != parent:
                    return None
                delay = next(delays)
                self.log.warning("Scheduler: Redis is unreachable (%s); again in %.0f s",
                                 exc, delay)
                time.sleep(delay)


class _SchedulerMixin:
    def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None,
                         log_format=None):
        self.scheduler = OrphanAwareScheduler(
            self.queues, connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format or DEFAULT_LOGGING_DATE_FORMAT,
            log_format=log_format or DEFAULT_LOGGING_FORMAT, serializer=self.serializer)
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()


class _TimedJobs:
    """Each job's duration goes to the arogi_job_duration_seconds histogram."""

    def perform_job(self, job, queue, *args, **kwargs):
        started = time.perf_counter()
        ok = False
        token = logs.request_id.set((job.meta or {}).get("request_id") or f"job-{job.id}")
        try:
            ok = super().perform_job(job, queue, *args, **kwargs)  # RQ: False when it failed
            return ok
        finally:
            logs.request_id.reset(token)
            metrics.JOB_SECONDS.labels(queue.name, (job.func_name or "?").rsplit(".", 1)[-1],
                                       "ok" if ok else "failed").observe(
                time.perf_counter() - started)


class HelpdeskSimpleWorker(_TimedJobs, _SchedulerMixin, SimpleWorker):
    """Runs each job in the worker process (see ``helpdesk worker``)."""


class HelpdeskForkWorker(_TimedJobs, _SchedulerMixin, Worker):
    """Runs each job in a forked work horse."""


def _note_stop(instance, method: str, stopping: _Stopping) -> None:
    """Wrap RQ's signal handler ``method`` of ``instance`` so a stop is remembered even
    when RQ then fails on a dead Redis while shutting down."""
    original = getattr(instance, method)

    def handler(signum, frame):
        stopping.requested = True
        return original(signum, frame)

    setattr(instance, method, handler)


def run_worker(make_worker: Callable[[], Worker], connection: redis.Redis, *,
               burst: bool = False, name: str = "worker") -> None:
    """Run an RQ worker; after a Redis outage or a crash of its loop, start a new one."""
    stopping = _Stopping()

    def attempt() -> bool:
        rq_worker = make_worker()
        _note_stop(rq_worker, "request_stop", stopping)
        try:
            rq_worker.work(burst=burst, with_scheduler=not burst)
        finally:
            if rq_worker.scheduler is not None and rq_worker.scheduler._process is not None:
                rq_worker.scheduler._process.join(timeout=1)
        return burst or stopping.requested

    run_forever(name, attempt, connection, stopping)


def run_cron(build: Callable[[], object], connection: redis.Redis) -> None:
    """Run the cron scheduler; after a Redis outage start a new one (which catches up)."""
    stopping = _Stopping()

    def attempt() -> bool:
        scheduler = build()
        _note_stop(scheduler, "_request_stop", stopping)
        scheduler.start()  # returns on a stop signal, raises on a Redis error
        return stopping.requested

    run_forever("cron", attempt, connection, stopping)
