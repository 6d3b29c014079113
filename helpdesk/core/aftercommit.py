"""Hand jobs to RQ after the transaction commits; with Redis down, log and rely on the sweep.

The one path from the database to the queue. A writer that has made a row some job
must act on (a notification, a webhook delivery, an inbound message, …) calls
``after_commit(Job(...))`` in the same transaction; after the outermost commit the jobs
go to RQ in one round trip per queue, and a rollback forgets them. ``enqueue`` queues
at once (entry points that have committed already, and the sweeps). Neither raises:
when Redis is down the failure is logged with the job's own ``fallback`` sentence (who
will pick the row up) and the row stays in the database, where the periodic sweep of
its feature finds it. The database is the record; Redis only speeds delivery.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rq import Queue
from rq.job import Job as RqJob
from sqlalchemy import event

from helpdesk.core import logs
from helpdesk.core.redisconn import get_queue
from helpdesk.extensions import db

log = logging.getLogger(__name__)

_PENDING = "aftercommit.jobs"
#: RQ states in which a job will still run: a sweep does not queue it a second time.
_BUSY = ("queued", "started", "scheduled", "deferred")


@dataclass(frozen=True)
class Job:
    """One RQ job: ``func`` (a dotted path) called with ``args`` on queue ``queue``."""

    queue: str
    func: str
    args: tuple = ()
    #: A fixed id makes the job findable (``skip_busy``) and names it in RQ's registries.
    job_id: str | None = None
    timeout: int | None = None
    result_ttl: int | None = None
    failure_ttl: int | None = None
    #: The logger of the feature that owns the job (its warnings name it).
    owner: str = __name__
    #: What happens to the row when the job cannot be queued, for the log.
    fallback: str = "the periodic sweep will queue it"
    what: str = "job"
    options: dict = field(default_factory=dict, compare=False)


def after_commit(job: Job, session=None) -> None:
    """Queue ``job`` after the outermost commit of ``session`` (db.session); a rollback
    forgets it."""
    session = session or db.session()
    session.info.setdefault(_PENDING, []).append(job)


def pending(session=None) -> list[Job]:
    """The jobs waiting for the commit of ``session`` (tests, diagnostics)."""
    return list((session or db.session()).info.get(_PENDING, ()))


def enqueue(job: Job) -> bool:
    """Queue ``job`` now; False (logged) when Redis cannot be reached."""
    return enqueue_many([job]) == 1


def enqueue_many(jobs: Iterable[Job], *, skip_busy: bool = False) -> int:
    """Queue ``jobs`` now, one round trip per queue; returns how many were queued (0 with
    Redis down, logged). ``skip_busy``: leave out the jobs whose id RQ still holds as
    queued, started, scheduled or deferred (the sweeps, which may find rows a job of
    theirs is about to take)."""
    jobs = list(jobs)
    if not jobs:
        return 0
    by_queue: dict[str, list[Job]] = {}
    for job in jobs:
        by_queue.setdefault(job.queue, []).append(job)
    count = 0
    for name, group in by_queue.items():
        try:
            count += _enqueue(name, group, skip_busy)
        except Exception as exc:  # noqa: BLE001 - Redis down or misconfigured: the sweep
            first = group[0]
            logging.getLogger(first.owner).warning(
                "could not queue %d %s(s) (%s); %s", len(group), first.what, exc, first.fallback)
    return count


def _enqueue(name: str, jobs: list[Job], skip_busy: bool) -> int:
    queue = get_queue(name)
    if skip_busy:
        jobs = [j for j in jobs if not (j.job_id and _busy(RqJob, j.job_id, queue.connection))]
    if not jobs:
        return 0
    queue.enqueue_many([Queue.prepare_data(
        j.func, j.args, job_id=j.job_id, timeout=j.timeout, result_ttl=j.result_ttl,
        failure_ttl=j.failure_ttl, **_with_request_id(j.options)) for j in jobs])
    return len(jobs)


def _with_request_id(options: dict) -> dict:
    """The job carries the id of the request (or job) that queued it, for the logs."""
    current = logs.request_id.get()
    if not current:
        return options
    return {**options, "meta": {**options.get("meta", {}), "request_id": current}}


def _busy(rq_job, job_id: str, connection) -> bool:
    try:
        return rq_job.fetch(job_id, connection=connection).get_status() in _BUSY
    except Exception:  # noqa: BLE001 - no such job (or an unreadable one): queue it afresh
        return False


# --- session hooks ---------------------------------------------------------------------------

def _after_commit(session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT: wait for the real commit
        return
    jobs = session.info.pop(_PENDING, [])
    if jobs:
        enqueue_many(jobs)


def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed or rolled back
        session.info.pop(_PENDING, None)


_HOOKS: tuple[tuple[str, Callable], ...] = (
    ("after_commit", _after_commit), ("after_transaction_end", _after_transaction_end))


def register() -> None:
    """Install the hooks on the app's sessions (idempotent)."""
    for name, fn in _HOOKS:
        if not event.contains(db.session, name, fn):
            event.listen(db.session, name, fn)
