"""Logs: one JSON object per line (LOG_FORMAT = "json") or plain text, each record with the
request id of the web request it came from, also in the jobs that request queued.

The id is the proxy's ``X-Request-ID`` when it looks like one (nginx ``$request_id``), else
a new one; it is sent back in the response's ``X-Request-ID`` and travels in the RQ job's
meta, so ``grep <id>`` finds the request and every job it caused on every machine.

No personal data and no secrets: every record's message and arguments pass through
``scrub``, which masks e-mail addresses (``m…@sch.gr``) and the values of password, token,
secret and key parameters, whatever the caller logged.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime

#: The request id of the work under way (a web request or a job it queued).
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                        default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_SECRET = re.compile(r"(?i)\b(password|passwd|token|secret|api[_-]?key|authorization|"
                     r"session|ticket)(\s*[=:]\s*|\"\s*:\s*\")([^\s&\"',;]+)")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def new_request_id(offered: str | None = None) -> str:
    """The proxy's id when it is a plain token, else a new random one."""
    if offered and _VALID_ID.match(offered):
        return offered
    return secrets.token_hex(12)


def scrub(text: str) -> str:
    """``text`` with e-mail addresses, URL passwords and secret parameters masked."""
    text = _URL_PASSWORD.sub(r"\1***@", text)
    text = _EMAIL.sub(r"\1…@\2", text)
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and scrubs the message (arguments included) of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or "-",
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _StderrHandler(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a record comes, not to the
    stream it was at configuration (a command run in-process, by a test or a tool, may
    swap stderr for a buffer it then closes)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure(log_format: str = "text", level: int = logging.INFO, stream=None) -> None:
    """Root logging of a process: one handler (stderr, or ``stream``) with the context
    filter. Idempotent."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_arogi", False):
            return
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler._arogi = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def current() -> str | None:
    """The request id of the work under way (a job's: the request that queued it)."""
    return request_id.get()
