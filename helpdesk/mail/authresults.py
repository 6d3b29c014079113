"""The receiving MTA's verdicts on a message: SPF, DKIM and DMARC (pure).

``Authentication-Results`` (RFC 8601) is parsed with the ``authres`` package. Anyone can
write the header, so only one is believed: the one whose authserv-id is MAIL_AUTHSERV_ID
(our MTA's), else, when that is not set, the topmost one (the last hop adds it on top;
a well-configured MTA also removes forged copies of its own).
"""
from __future__ import annotations

import authres

#: SPF and DMARC results that say the domain's owner did not send it.
_FAILED = {"fail", "softfail"}


def read(values: list[str], authserv_id: str | None = None) -> dict | None:
    """{"authserv_id", "spf": {result, domain}, "dkim": [{result, domain}], "dmarc":
    {result, domain}} from the trusted header among ``values`` (top first), or None."""
    candidates = values if authserv_id else values[:1]
    for value in candidates:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(value)
        except Exception:  # noqa: BLE001, S112 - a header we cannot read is not believed
            continue
        if authserv_id and (header.authserv_id or "").lower() != authserv_id.lower():
            continue
        return _summary(header)
    return None


def _summary(header) -> dict:
    out: dict = {"authserv_id": header.authserv_id, "dkim": []}
    for result in header.results:
        props = {f"{p.type}.{p.name}".lower(): str(p.value) for p in result.properties}
        method, verdict = (result.method or "").lower(), (result.result or "").lower()
        if method == "spf" and "spf" not in out:
            mailfrom = props.get("smtp.mailfrom") or props.get("smtp.helo") or ""
            out["spf"] = {"result": verdict, "domain": mailfrom.rpartition("@")[2].lower()}
        elif method == "dkim":
            domain = props.get("header.d") or props.get("header.i", "").lstrip("@")
            out["dkim"].append({"result": verdict, "domain": domain.lower()})
        elif method == "dmarc" and "dmarc" not in out:
            out["dmarc"] = {"result": verdict, "domain": props.get("header.from", "").lower()}
    return out


def _aligned(domain: str, other: str) -> bool:
    """Relaxed alignment (RFC 7489 §3.1): the same organisational branch."""
    return bool(other) and (domain == other or domain.endswith("." + other)
                            or other.endswith("." + domain))


def fails_for(results: dict | None, domain: str) -> bool:
    """Whether the verdicts say ``domain`` did not send the message: DMARC failed for it,
    or, with no DMARC verdict, SPF failed and no aligned DKIM signature passed."""
    if not results or not domain:
        return False
    domain = domain.lower()
    dmarc = results.get("dmarc")
    if dmarc and dmarc["result"] not in ("", "none"):
        return dmarc["result"] == "fail" and (not dmarc["domain"]
                                              or _aligned(domain, dmarc["domain"]))
    spf = results.get("spf") or {}
    spf_failed = spf.get("result") in _FAILED and _aligned(domain, spf.get("domain", ""))
    dkim_passed = any(d["result"] == "pass" and _aligned(domain, d["domain"])
                      for d in results.get("dkim", []))
    return spf_failed and not dkim_passed
