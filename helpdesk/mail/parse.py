"""Raw RFC 5322 bytes to what the pipeline needs (pure: no Flask, no database).

Bodies are decoded with the declared charset only when that is believable: valid
UTF-8 wins, Greek text labelled Latin-1 (or not labelled) is recognised by its byte
pattern. HTML is sanitised with nh3 and turned into plain text, which is what every
ticket body is (the web, the API and the timeline show text); no image, remote or
inline, is ever fetched or kept in the body. Quoted earlier messages are split off.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parseaddr
from functools import lru_cache
from html.parser import HTMLParser

import nh3

from helpdesk.mail.addresses import Sender, read_from

#: Tags kept by the sanitiser; everything else (script, style, img, iframe, form…) goes.
ALLOWED_TAGS = {"a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4",
                "i", "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th",
                "thead", "tr", "u", "ul"}
_LATIN_FAMILY = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252",
                 "cp1252", "iso-8859-15", "unknown-8bit", "x-unknown", ""}
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u0085]")
#: C0 controls but tab, line feed and carriage return, and DEL: never stored (PostgreSQL
#: refuses NUL in text, and none of them is anything a person wrote).
_C0 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_controls(text: str) -> str:
    """``text`` without C0 control characters (tab, CR and LF kept)."""
    return _C0.sub("", text)


class _Policy(EmailPolicy):
    """``email.policy.default``, but each distinct header value is parsed once.

    The standard policy builds a new header object on every read: ``get_content_type()``
    alone re-parses Content-Type each time it is called, several times per part.
    Header objects are immutable, so one per (name, value) can be shared."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name") or len(value) > _CACHED_VALUE_MAX:
            return super().header_fetch_parse(name, value)
        return _fetch_parse(self, name, value)


_CACHED_VALUE_MAX = 2000
_fetch_parse = lru_cache(maxsize=4096)(EmailPolicy.header_fetch_parse)
#: The policy every parse here uses (the same results as ``email.policy.default``).
POLICY = _Policy()


class Headers(Mapping):
    """Header name (lower case) -> list of values (unfolded, decoded), decoded on first
    read: a message carries dozens of Received/DKIM/ARC headers that nobody reads."""

    def __init__(self, msg: EmailMessage):
        self._raw: dict[str, list[str]] = {}
        for name, raw in msg.raw_items():
            self._raw.setdefault(name.lower(), []).append(raw)
        self._policy = msg.policy
        self._done: dict[str, list[str]] = {}

    def __getitem__(self, name: str) -> list[str]:
        values = self._done.get(name)
        if values is None:
            values = self._done[name] = [_header_text(self._policy, name, raw)
                                         for raw in self._raw[name]]
        return values

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, name) -> bool:
        return name in self._raw

    def raw(self, name: str) -> list[str]:
        """The values of ``name`` as written (folded, encoded words not decoded)."""
        return [decode_bytes(v.encode("ascii", "surrogateescape"), "")
                if isinstance(v, str) and any("\udc80" <= ch <= "\udcff" for ch in v) else str(v)
                for v in self._raw.get(name, [])]


@dataclass
class ParsedMail:
    message_id: str | None
    subject: str
    from_addr: str
    from_name: str
    #: Header name (lower case) -> list of values (unfolded, decoded).
    headers: Mapping[str, list[str]]
    text: str
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    #: The problems found parsing it (for the quarantine page).
    defects: list[str] = field(default_factory=list)
    content_type: str = "text/plain"
    report_type: str = ""
    #: Subjects of the forwarded messages (message/rfc822) kept as .eml attachments.
    forwarded: list[str] = field(default_factory=list)
    #: Why the From header cannot be trusted (helpdesk.mail.addresses), or None.
    from_problem: str | None = None

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""


# --- headers -----------------------------------------------------------------------------

def one_line(value: str | None) -> str:
    """A header value safe to put anywhere: no CR/LF or control characters, one space."""
    return " ".join(_CTRL.sub(" ", value or "").split())


def parse_headers(raw: bytes) -> EmailMessage:
    """The header block of ``raw`` (what a door needs before it stores)."""
    return BytesParser(policy=POLICY).parsebytes(raw, headersonly=True)


def parse_message(raw: bytes) -> EmailMessage:
    """The whole message, parsed as ``parse`` parses it."""
    return BytesParser(policy=POLICY).parsebytes(raw)


def message_id_of(msg: EmailMessage) -> str | None:
    """The Message-ID of a parsed message (without brackets), or None; never raises."""
    try:
        value = one_line(str(msg.get("Message-ID") or ""))
    except Exception:  # noqa: BLE001 - a broken header means "no usable id"
        return None
    match = re.search(r"<([^<>\s]+)>", value) or re.fullmatch(r"(\S+@\S+)", value)
    return match.group(1)[:250] if match else None


def _header_text(policy, name: str, raw) -> str:
    """One header decoded to one line; raw 8-bit values get the charset guess."""
    if isinstance(raw, str) and any("\udc80" <= ch <= "\udcff" for ch in raw):
        text = decode_bytes(raw.encode("ascii", "surrogateescape"), "")
    else:
        try:
            text = str(policy.header_fetch_parse(name, raw))
        except Exception:  # noqa: BLE001 - an undecodable header is kept as sent
            text = str(raw)
    return one_line(text)


def _address(headers: Headers) -> Sender:
    """The sender, read strictly (helpdesk.mail.addresses); CR/LF and controls removed."""
    sender = read_from(headers.raw("from"))
    return Sender(sender.addr[:200], one_line(sender.name), sender.problem)


# --- charsets ----------------------------------------------------------------------------

def _strict(data: bytes, charset: str) -> str | None:
    try:
        codecs.lookup(charset)
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return None


def _looks_greek(data: bytes) -> bool:
    high = sum(1 for b in data if 0xC1 <= b <= 0xFE or b in (0xA2, 0xB6, 0xB8, 0xB9, 0xBA))
    letters = sum(1 for b in data if 65 <= b <= 90 or 97 <= b <= 122)
    return high > 0 and high > letters


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Text from ``data``: valid UTF-8 first, then a believable declared charset, then Greek."""
    declared = (declared or "").strip().lower()
    if all(b < 0x80 for b in data):
        return data.decode("ascii")
    text = _strict(data, "utf-8")
    if text is not None:
        return text
    if declared not in _LATIN_FAMILY:
        text = _strict(data, declared)
        if text is not None:
            return text
    if _looks_greek(data):
        # windows-1253 puts Ά at 0xA2 and typographic marks at 0x80-0x9F; else the same.
        cp1253 = b"\xa2" in data or any(0x80 <= b <= 0x9F for b in data)
        return data.decode("cp1253" if cp1253 else "iso-8859-7", "replace")
    return data.decode(declared if declared and _strict(b"", declared) is not None
                       else "cp1252", "replace")


# --- bodies ------------------------------------------------------------------------------

class _Text(HTMLParser):
    """Sanitised HTML to text: blocks become lines, links keep their address."""

    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "blockquote", "pre",
              "table", "ul", "ol"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        if tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag == "a" and self._href:
            href = self._href.pop()
            if href and href.startswith(("http://", "https://", "mailto:")):
                self.parts.append(f" ({href})")
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def sanitise_html(html: str) -> str:
    """The allow-listed subset of ``html``; no scripts, styles, images or event handlers."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer",
                     clean_content_tags={"script", "style", "title", "head"})


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(sanitise_html(html))
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _part_text(part) -> str:
    data = part.get_payload(decode=True) or b""
    return decode_bytes(data, part.get_content_charset())


def _filename(part) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    if name and any("\udc80" <= ch <= "\udcff" for ch in name):
        name = decode_bytes(name.encode("utf-8", "surrogateescape"), "")
    return one_line(name) if name else None


def _walk(msg: EmailMessage, mail: ParsedMail) -> None:
    plain, html = [], []
    for part in _leaves(msg, mail):
        ctype = part.get_content_type()
        name = _filename(part)
        disposition = part.get_content_disposition()
        if name or (disposition == "attachment") or not ctype.startswith(("text/", "message/")):
            if name or disposition == "attachment":
                mail.attachments.append((name or "attachment", part.get_payload(decode=True) or b""))
            continue
        if ctype == "text/plain":
            plain.append(_part_text(part))
        elif ctype == "text/html":
            html.append(html_to_text(_part_text(part)))
        elif ctype == "message/delivery-status":
            plain.append(str(part.get_payload()))
    mail.text = ("\n\n".join(p for p in plain if p.strip()) if any(p.strip() for p in plain)
                 else "\n\n".join(html)).replace("\r\n", "\n").strip()


def _leaves(part, mail: ParsedMail) -> Iterator:
    """The non-multipart parts of ``part`` in order; a forwarded message (message/rfc822)
    is kept whole as an .eml attachment, its own attachments after it, its text not
    folded into ours (``mail.forwarded`` lists the subjects for the note)."""
    if part.get_content_type() == "message/rfc822" and part.is_multipart():
        _forwarded(part, mail)
        return
    if not part.is_multipart():
        yield part
        return
    for child in part.iter_parts():
        yield from _leaves(child, mail)


def _forwarded(part, mail: ParsedMail) -> None:
    inner = part.get_payload(0)
    subject = one_line(str(inner.get("subject") or ""))[:100]
    mail.forwarded.append(subject)
    name = _filename(part) or f"{subject or 'forwarded'}.eml"
    mail.attachments.append((name if name.lower().endswith(".eml") else f"{name}.eml",
                             inner.as_bytes(policy=POLICY.clone(linesep="\r\n"))))
    for leaf in _leaves(inner, ParsedMail(None, "", "", "", {}, "")):
        name = _filename(leaf)
        if name or leaf.get_content_disposition() == "attachment":
            mail.attachments.append((name or "attachment", leaf.get_payload(decode=True) or b""))


def parse(raw: bytes) -> ParsedMail:
    """Everything the pipeline reads from one message; never raises on bad MIME."""
    msg = BytesParser(policy=POLICY).parsebytes(raw)
    headers = Headers(msg)
    sender = _address(headers)
    mail = ParsedMail(message_id=message_id_of(msg), subject=(headers.get("subject") or [""])[0],
                      from_addr=sender.addr, from_name=sender.name, headers=headers, text="",
                      from_problem=sender.problem)
    mail.content_type = msg.get_content_type()
    mail.report_type = (msg.get_param("report-type") or "") if msg.is_multipart() else ""
    try:
        _walk(msg, mail)
    except Exception as exc:  # noqa: BLE001 - malformed MIME: keep what the top says
        mail.defects.append(f"walk: {exc.__class__.__name__}")
        payload = msg.get_payload(decode=True) if not msg.is_multipart() else b""
        mail.text = decode_bytes(payload or b"", None).strip()
    mail.defects += [d.__class__.__name__ for d in getattr(msg, "defects", [])]
    if _C0.search(mail.text):
        mail.text = strip_controls(mail.text)
        mail.defects.append("control characters removed")
    return mail


def addresses(values: list[str]) -> list[str]:
    return [addr.lower() for _, addr in getaddresses(values) if "@" in addr]


@lru_cache(maxsize=64)
def own_address(sender: str) -> str:
    """The bare address of a ``Name <addr>`` sender setting."""
    try:
        return Address(addr_spec=parseaddr(sender)[1]).addr_spec.lower()
    except Exception:  # noqa: BLE001
        return parseaddr(sender)[1].lower()


# --- quoted text ---------------------------------------------------------------------------

_QUOTE_START = re.compile(
    r"^(?:On .{0,200}wrote:|Στις .{0,200}(?:έγραψε|γράψατε|έγραψες):|Am .{0,200}schrieb .{0,100}:"
    r"|-{2,}\s*(?:Original Message|Αρχικό μήνυμα|Ursprüngliche Nachricht)\s*-{2,}"
    r"|(?:From|Από|Von):\s.+|_{20,})\s*$", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^(?:Sent|Εστάλη|Date|Ημερομηνία|Gesendet|To|Προς):", re.IGNORECASE)


def split_quote(text: str) -> tuple[str, str]:
    """(the new text, the quoted earlier messages); the quote is empty when there is none."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        is_header = _QUOTE_START.match(stripped)
        if is_header and stripped.lower().startswith(("from:", "από:", "von:")):
            following = [ln.strip() for ln in lines[i + 1:i + 4]]
            is_header = any(_OUTLOOK_NEXT.match(ln) for ln in following)
        if is_header or (stripped.startswith(">") and _rest_is_quote(lines[i:])):
            new, quoted = "\n".join(lines[:i]).strip(), "\n".join(lines[i:]).strip()
            return (new, quoted) if new else (text.strip(), "")
    return text.strip(), ""


def _rest_is_quote(lines: list[str]) -> bool:
    """Only quoted or blank lines follow (a bottom quote, not interleaved answers)."""
    body = [ln for ln in lines if ln.strip()]
    quoted = sum(1 for ln in body if ln.lstrip().startswith(">"))
    return quoted >= max(1, len(body) - 2)
