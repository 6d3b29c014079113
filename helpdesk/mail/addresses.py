"""The From header, read strictly (pure: no Flask, no database).

Python 3.11.7's ``email.utils.parseaddr``/``getaddresses`` and the ``headerregistry``
parser are lenient where it matters (CVE-2023-27043): ``mail@school.sch.gr
<attacker@evil.example>``, ``mail@school.sch.gr)<attacker@evil.example>`` or
``mail@school.sch.gr, attacker@evil.example`` each yield *some* address, and an address
written as an encoded word is decoded into one. Only the sender is credited to a school,
so the header is read here by the grammar of RFC 5322 §3.4 instead: exactly one
mailbox, comments closed, an ASCII dot-atom addr-spec whose domain has a dot, no encoded
word in the address, and no other address in the display name. Anything else is a
``problem`` and the message goes to quarantine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from email.header import decode_header, make_header

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}")
#: Anything that looks like an address inside a display name.
_ADDRESS_LIKE = re.compile(r"[^\s<>()\"',;:\[\]]+@[^\s<>()\"',;:\[\]]+")
#: Machine senders written without a domain (kept, so bounces are still recognised).
_BARE_DAEMONS = ("mailer-daemon", "postmaster")


@dataclass(frozen=True)
class Sender:
    addr: str = ""
    name: str = ""
    #: Why the header cannot be trusted (a code for ``reason`` and the words), or None.
    problem: str | None = None


def valid_addr_spec(addr: str) -> bool:
    """local@domain: dot-atoms, ASCII, the domain with at least one dot."""
    local, at, domain = addr.rpartition("@")
    return bool(at and len(addr) <= 254 and _LOCAL.fullmatch(local)
                and _DOMAIN.fullmatch(domain))


def read_from(values: list[str]) -> Sender:
    """The one mailbox of the From header(s) ``values`` (raw, unfolded or not)."""
    if not values:
        return Sender()
    if len(values) > 1:
        return Sender(problem="several From headers")
    raw = re.sub(r"\r?\n(?=[ \t])", "", values[0]).strip()
    split = _split(raw)
    if isinstance(split, str):
        return Sender(problem=split)
    display, addr = split
    if "=?" in addr:
        return Sender(problem="the address is an encoded word")
    if addr.lower() in _BARE_DAEMONS and not display:
        return Sender(addr.lower())
    if not valid_addr_spec(addr):
        return Sender(problem="not a valid address")
    addr = addr.lower()
    name = _display_text(display)
    others = {a.lower().strip(".") for a in _ADDRESS_LIKE.findall(name)} - {addr}
    if others:
        return Sender(problem="the display name holds another address")
    return Sender(addr, name)


def _split(raw: str) -> tuple[str, str] | str:
    """(display name, address) of one mailbox with comments dropped, or the problem."""
    display, addr, outside = [], [], []
    depth = 0
    quoted = escaped = False
    state = "display"  # display -> angle -> after
    for ch in raw:
        if escaped:
            escaped = False
            if depth == 0:
                (addr if state == "angle" else display).append(ch)
            continue
        if ch == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                (addr if state == "angle" else display).append(ch)
            continue
        if depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            continue
        if quoted:
            quoted = ch != '"'
            (addr if state == "angle" else display).append(ch)
            continue
        if ch == "(":
            depth = 1
            continue
        if ch == ")":
            return "an unopened comment"
        if state == "after":
            if not ch.isspace():
                return "text after the address"
            continue
        if ch == '"':
            quoted = True
        elif ch in ",;:":
            return "more than one mailbox, or a group"
        elif ch == "<":
            if state != "display":
                return "a nested angle bracket"
            state = "angle"
            continue
        elif ch == ">":
            if state != "angle":
                return "an unopened angle bracket"
            state = "after"
            continue
        (addr if state == "angle" else display).append(ch)
        outside.append(ch)
    if depth:
        return "an unterminated comment"
    if quoted:
        return "an unterminated quoted string"
    if state == "angle":
        return "an unterminated angle bracket"
    if state == "display":  # a bare addr-spec
        return "", "".join(display).strip()
    return "".join(display).strip(), "".join(addr).strip()


def _display_text(display: str) -> str:
    """The display name as a reader shows it: encoded words decoded, quotes removed."""
    text = display
    try:
        text = str(make_header(decode_header(display)))
    except Exception:  # noqa: BLE001, S110 - an undecodable name is shown as written
        pass
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return " ".join(text.split())
