"""Bounces: which of our mails failed, for whom, and why (pure: no Flask, no database).

A delivery status notification (RFC 3464: ``multipart/report;
report-type=delivery-status``) is read with the standard library: one failure per
recipient block whose Action is failed or delayed, with its Status (e.g. 5.2.2) and
Diagnostic-Code. Bounces in no standard form are read by ``flufl.bounce`` (the detectors
GNU Mailman uses), the second detector. The mail that bounced is named by the
Message-IDs found in the returned headers (text/rfc822-headers or message/rfc822),
then the report's own In-Reply-To / References; the caller looks those up among its
outbox rows (we do not use VERP).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser, HeaderParser

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


@dataclass(frozen=True)
class Failure:
    address: str
    #: The enhanced status code (RFC 3463), e.g. 5.2.2; 5.0.0 / 4.0.0 when only the
    #: class is known.
    status: str
    diagnostic: str = ""

    @property
    def is_hard(self) -> bool:
        return self.status.startswith("5")


@dataclass
class Report:
    failures: list[Failure] = field(default_factory=list)
    #: Message-IDs that may name the mail that bounced, most specific first.
    message_ids: list[str] = field(default_factory=list)
    #: "dsn" (RFC 3464) or "heuristic" (flufl.bounce).
    source: str = "dsn"


def read(msg: EmailMessage, raw: bytes) -> Report | None:
    """The failures ``msg`` reports, or None when it reports none we can read."""
    report = _read_dsn(msg) if _is_dsn(msg) else None
    if report is None or not report.failures:
        report = _read_heuristic(msg, raw)
    if report is None:
        return None
    returned = _returned_headers(msg)
    ids = [*(_ids(returned.get("message-id")) if returned else []),
           *_ids(msg.get("in-reply-to")), *_ids(msg.get("references"))]
    if report.source == "heuristic":  # the original may be quoted as text
        ids += [m.decode("ascii", "replace") for m in re.findall(rb"<arogi\.[^<>\s]+>", raw)]
    report.message_ids = list(dict.fromkeys(ids))
    return report


def _is_dsn(msg) -> bool:
    return (msg.get_content_type() == "multipart/report"
            and (msg.get_param("report-type") or "").lower() == "delivery-status")


def _read_dsn(msg) -> Report:
    report = Report()
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if isinstance(blocks, str):  # an unparsed body: split the blocks ourselves
            blocks = [HeaderParser().parsestr(b) for b in re.split(r"\r?\n\r?\n", blocks)]
        for block in blocks[1:] if len(blocks) > 1 else blocks:
            failure = _failure(block)
            if failure is not None:
                report.failures.append(failure)
    return report


def _failure(block) -> Failure | None:
    action = str(block.get("action") or "").strip().lower()
    if action not in ("failed", "delayed"):
        return None
    recipient = str(block.get("final-recipient") or block.get("original-recipient") or "")
    address = recipient.partition(";")[2].strip().strip("<>").lower()
    if "@" not in address:
        return None
    diagnostic = " ".join(str(block.get("diagnostic-code") or "").partition(";")[2].split())
    match = _STATUS.search(str(block.get("status") or "")) or _STATUS.search(diagnostic)
    status = match.group(0) if match else ("4.0.0" if action == "delayed" else "5.0.0")
    if action == "delayed" and status.startswith("5"):
        status = "4" + status[1:]  # delayed is never permanent
    return Failure(address, status, diagnostic[:500])


def _read_heuristic(msg, raw: bytes) -> Report | None:
    try:
        # Only for a bounce that is not RFC 3464; inside the try: its failure is no report.
        from flufl.bounce import all_failures

        temporary, permanent = all_failures(msg)
    except Exception:  # noqa: BLE001 - a detector that crashes found nothing
        return None
    failures = [Failure(a.decode("utf-8", "replace").lower(), "5.0.0") for a in permanent]
    failures += [Failure(a.decode("utf-8", "replace").lower(), "4.0.0")
                 for a in temporary - permanent]
    if not failures:
        return None
    text = raw.decode("utf-8", "replace")
    codes = {f.address: _STATUS.search(text[max(0, text.lower().find(f.address)):][:400])
             for f in failures}
    return Report([Failure(f.address, codes[f.address].group(0) if codes[f.address]
                           and codes[f.address].group(0)[0] == f.status[0] else f.status)
                   for f in failures], source="heuristic")


def _returned_headers(msg):
    """The headers of the mail that bounced, as returned inside the report."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True) or b""
            return BytesParser().parsebytes(payload, headersonly=True)
        if ctype == "message/rfc822" and part.is_multipart():
            return part.get_payload(0)
    return None


def _ids(value) -> list[str]:
    return _MESSAGE_ID.findall(str(value or ""))
