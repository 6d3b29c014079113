"""``helpdesk mail serve``: an LMTP (or SMTP) listener that answers 250 only once the
message is stored and committed, and 451 when it cannot be, so the MTA keeps it."""
from __future__ import annotations

import asyncio
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from flask import Flask

from helpdesk.core.types import utcnow
from helpdesk.mail import store

log = logging.getLogger(__name__)

STORED = "250 2.0.0 Message stored"
NOT_STORED = "451 4.3.0 Message not stored; try again later"


class StoreHandler:
    """aiosmtpd handler: the database work runs in a thread, off the event loop."""

    def __init__(self, app: Flask, protocol: str = "lmtp"):
        self.app = app
        self.protocol = protocol

    def _store(self, raw: bytes) -> int:
        with self.app.app_context():
            inbound_id, _ = store.accept(raw, source=self.protocol, now=utcnow())
            return inbound_id

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._store, raw)
            status = STORED
        except Exception:  # noqa: BLE001 - anything but "stored" is a temporary failure
            log.exception("could not store a message received over %s", self.protocol)
            status = NOT_STORED
        if self.protocol == "lmtp":  # LMTP answers once per recipient
            return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))
        return status


class MailController(Controller):
    def __init__(self, handler: StoreHandler, **kwargs):
        self.protocol = handler.protocol
        super().__init__(handler, **kwargs)

    def factory(self):
        server_class = LMTP if self.protocol == "lmtp" else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)


def make_controller(app: Flask, *, host: str | None = None, port: int | None = None,
                    protocol: str | None = None) -> MailController:
    cfg = app.config
    protocol = (protocol or cfg["MAIL_LISTEN_PROTOCOL"]).lower()
    if protocol not in ("lmtp", "smtp"):
        raise ValueError(f"unknown protocol {protocol!r}: lmtp or smtp")
    return MailController(StoreHandler(app, protocol), hostname=host or cfg["MAIL_LISTEN_HOST"],
                          port=port or cfg["MAIL_LISTEN_PORT"],
                          data_size_limit=cfg["MAIL_MAX_MESSAGE_BYTES"],
                          decode_data=False, enable_SMTPUTF8=True)
