"""Prometheus metrics of the processes (prometheus-client).

Under ``helpdesk serve`` and the systemd units every process of a machine writes its
samples to ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multi-process mode: gunicorn
workers and RQ workers alike), and ``/metrics`` on any web process of that machine reads
them all. Without the variable (tests, a shell) the samples stay in the process.

Only what a process measures lives here (latencies, durations, counts of its own work);
what is in the database or Redis (queue depths, the outbox backlog, quarantine) is read at
scrape time by ``helpdesk.ops.metrics``.
"""
from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess

ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "arogi_http_request_duration_seconds", "Web request latency by route.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
JOB_SECONDS = Histogram(
    "arogi_job_duration_seconds", "RQ job duration by queue and job.",
    ["queue", "job", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900))
SLA_SWEEP_SECONDS = Histogram(
    "arogi_sla_sweep_duration_seconds", "Duration of one SLA sweep.",
    buckets=(0.05, 0.1, 0.5, 1, 5, 15, 60, 300))
MAILS_SENT = Counter("arogi_mails_sent_total", "Notifications handed to the SMTP server.",
                     ["outcome"])
MAILS_RECEIVED = Counter("arogi_mails_received_total", "Inbound messages stored.")


def multiprocess_dir() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def prepare_multiprocess_dir(path: Path) -> None:
    """Empty ``path`` (samples of processes of an earlier run would add up) and create it;
    the parent of a group of processes calls this before starting them."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route, method, f"{status // 100}xx").observe(seconds)


def collecting_registry() -> CollectorRegistry | None:
    """A registry reading every process's samples (multi-process mode), or None: the
    process's own default registry."""
    directory = multiprocess_dir()
    if directory is None:
        return None
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    return registry
