"""The MIME form of our outgoing mail, built with the standard library's modern API.

Flask-Mail builds with the legacy ``email.mime`` classes and, on import, turns UTF-8 bodies
into raw 8-bit: a description written as one paragraph becomes one line of thousands of
octets, which strict servers refuse (RFC 5322 §2.1.1: at most 998). Its subjects are
``email.header.Header`` chunks split wherever a byte count falls, so a space at a split
is lost by many readers. Here every text part is quoted-printable (lines of at most 76
octets, whatever the text) and headers are folded by ``email.policy.SMTP``, except a
non-ASCII subject: this Python's folder (3.11.7) also leaves a space *between* two
encoded words ("– Δεν" folds to ``…4oCT?=\r\n  =?utf-8?b?zpTOtc69…``), where RFC 2047
§6.2 tells every reader to drop it. ``encode_subject`` puts every character, spaces
included, inside an encoded word, so only folding white space lies between them.
Flask-Mail still sends (its connection, ``suppress`` and ``email_dispatched`` signal are
unchanged).
"""
from __future__ import annotations

import base64
import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

from flask_mail import Message

#: Header lines folded at 78 characters, CRLF line ends, as SMTP wants them.
POLICY = SMTP
#: Characters that end or fold a header line, or are invisible controls.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
SUBJECT_MAX = 250


def header_text(value: str | None, limit: int = SUBJECT_MAX) -> str:
    """One line of text that can never break out of a mail header."""
    text = " ".join(_UNSAFE.sub(" ", value or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def mail_domain(config) -> str:
    """The domain of our Message-IDs: MAIL_DOMAIN, else the sender's domain."""
    if config.get("MAIL_DOMAIN"):
        return config["MAIL_DOMAIN"]
    sender = str(config.get("MAIL_DEFAULT_SENDER") or "")
    domain = sender.rpartition("@")[2].strip(" >")
    return domain or "localhost"


def site_id(config) -> str:
    """Our ``X-Arogi-Loop`` value: MAIL_SITE_ID, else the domain of our Message-IDs."""
    return config.get("MAIL_SITE_ID") or mail_domain(config)


class OutgoingMessage(Message):
    """A Flask-Mail message whose bytes come from ``EmailMessage`` (see the module)."""

    def _message(self) -> EmailMessage:
        msg = EmailMessage(policy=POLICY)
        if self.subject:
            if self.subject.isascii() and "=?" not in self.subject:
                msg["Subject"] = self.subject
            else:  # stored as folded: the policy passes lines under 78 as they are
                msg.set_raw("Subject", encode_subject(self.subject))
        msg["From"] = _address(self.sender)
        msg["To"] = ", ".join(_address(r) for r in self.recipients)
        msg["Date"] = formatdate(self.date, localtime=True)
        msg["Message-ID"] = self.msgId
        if self.reply_to:
            msg["Reply-To"] = _address(self.reply_to)
        msg.set_content(self.body or "", charset="utf-8", cte="quoted-printable")
        for subtype, content in self.alts.items():
            msg.add_alternative(content, subtype=subtype, charset="utf-8",
                                cte="quoted-printable")
        for name, value in (self.extra_headers or {}).items():  # after: set_content drops
            msg[name] = value  # Content-* headers
        return msg


#: UTF-8 bytes per encoded word: 52 base64 characters, a 64-character word, so that
#: "Subject: " and the first word fit in 78.
_WORD_BYTES = 39


def encode_subject(text: str) -> str:
    """``text`` as RFC 2047 base64 encoded words, one per folded line, split between
    characters; every space is inside a word, so every reader decodes it as written."""
    words, chunk = [], b""
    for char in text:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += data
    if chunk or not words:
        words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def _address(value) -> str:
    return f"{value[0]} <{value[1]}>" if isinstance(value, tuple) else value
