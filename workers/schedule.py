"""Periodic jobs, declared as data and registered with RQ's cron scheduler.

``interval`` is in seconds (an interval job also runs once when the scheduler starts);
``cron`` is a crontab line, read in the scheduler's local time. Give one of the two.

Several schedulers may run (one per machine, for availability): each due run is claimed
in Redis first (``SET NX``), so a job runs once per interval, or once per crontab time,
whichever scheduler claims it; the others only move their clocks on.
"""
from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from rq.cron import CronJob, CronScheduler
from rq.utils import now
from werkzeug.utils import import_string

from helpdesk.core.redisconn import QUEUES


@dataclass(frozen=True)
class Periodic:
    name: str
    #: Dotted path of a function in workers.jobs.
    func: str
    queue: str
    interval: int | None = None
    cron: str | None = None
    #: Seconds a run may take before RQ kills it.
    timeout: int = 600

    def __post_init__(self):
        if (self.interval is None) == (self.cron is None):
            raise ValueError(f"{self.name}: give exactly one of interval or cron")
        if self.queue not in QUEUES:
            raise ValueError(f"{self.name}: unknown queue {self.queue!r}")

    def load(self):
        return import_string(self.func)


PERIODIC: tuple[Periodic, ...] = (
    Periodic("close-resolved-tickets", "workers.jobs.close_resolved_tickets",
             queue="slow", interval=3600),
    Periodic("outbox-sweep", "workers.outbox_jobs.sweep_outbox", queue="mail", interval=60),
    Periodic("sla-sweep", "workers.jobs.sla_sweep", queue="default", interval=300),
    Periodic("census-reminders", "workers.census_jobs.send_census_reminders", queue="slow",
             cron="15 8 * * *"),
    Periodic("mail-imap-poll", "workers.mail_jobs.poll_imap", queue="mail", interval=60,
             timeout=300),
    Periodic("mail-inbound-sweep", "workers.mail_jobs.sweep_inbound", queue="mail",
             interval=300),
    Periodic("retention", "workers.jobs.retention", queue="bulk", cron="30 3 * * 0",
             timeout=3600),
    Periodic("webhook-sweep", "workers.webhook_jobs.sweep_webhooks", queue="default",
             interval=60),
)


def get_periodic(name: str) -> Periodic:
    for entry in PERIODIC:
        if entry.name == name:
            return entry
    raise KeyError(name)


#: Redis key of a claimed run: the job's name and the run's slot.
CLAIM_KEY = "arogi:cron:claim:{name}:{slot}"


def claim(connection: Redis, job: CronJob, at) -> bool:
    """Claim the run of ``job`` due at ``at`` for this scheduler; False if another one has.

    An interval job's claim holds for 90 % of its interval (two schedulers whose clocks
    differ by less than that never both run it); a crontab job's names its due minute."""
    if job.cron:
        due = job.next_enqueue_time or at
        slot, seconds = due.strftime("%Y%m%d%H%M"), 24 * 3600
    else:
        slot, seconds = "interval", max(1, int((job.interval or 60) * 0.9))
    key = CLAIM_KEY.format(name=job.name, slot=slot)
    return bool(connection.set(key, at.isoformat(), nx=True, ex=seconds))


class SingleRunCronScheduler(CronScheduler):
    """RQ's CronScheduler whose due jobs are claimed before they are queued."""

    def enqueue_jobs(self) -> list[CronJob]:
        enqueue_time = now()
        enqueued: list[CronJob] = []
        for job in self._cron_jobs:
            if not job.should_run():
                continue
            if claim(self.connection, job, enqueue_time):
                job.enqueue(self.connection)
                enqueued.append(job)
            job.set_enqueue_time(enqueue_time)
        return enqueued


def build_scheduler(connection: Redis, tick: int | None = None) -> CronScheduler:
    """A CronScheduler with every PERIODIC entry registered; ``tick`` (seconds, the
    CRON_TICK_SECONDS setting) caps every interval, for demos and tests."""
    scheduler = SingleRunCronScheduler(connection=connection)
    for entry in PERIODIC:
        interval = min(entry.interval, tick) if entry.interval and tick else entry.interval
        scheduler.register(entry.load(), queue_name=entry.queue, interval=interval,
                           cron=entry.cron, job_timeout=entry.timeout, name=entry.name)
    return scheduler
