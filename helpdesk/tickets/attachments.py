"""Safe attachments: validated by size, count, extension and content; stored under
generated names; served only as downloads."""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from helpdesk.core.errors import ValidationFailed

#: Leading bytes of content we never accept, whatever the extension says.
_FORBIDDEN_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")
#: Extensions whose content must start with one of these.
_REQUIRED_MAGIC = {
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "odt": (b"PK\x03\x04",),
    "ods": (b"PK\x03\x04",),
}
_CONTENT_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "gif": "image/gif", "webp": "image/webp", "txt": "text/plain", "log": "text/plain",
    "csv": "text/csv", "eml": "message/rfc822", "zip": "application/zip",
}
_TEXT_EXTENSIONS = {"txt", "log", "csv", "eml"}
_HTML_SIGNS = (b"<html", b"<script", b"<!doctype html", b"<svg", b"<?xml")


@dataclass(frozen=True)
class Upload:
    """One uploaded file, as read from a form or an e-mail part."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    data: bytes
    content_type: str
    sha256: str


def clean_filename(name: str) -> str:
    """A display name with no path, control characters or leading dots."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    name = name.strip().lstrip(".").strip()
    return name[:150] or "attachment"


def check_uploads(uploads, *, max_bytes: int, max_count: int, extensions) -> list[CheckedUpload]:
    """Validate every upload or raise ValidationFailed naming the file; checks all first."""
    uploads = [u for u in uploads if u.filename or u.data]
    if len(uploads) > max_count:
        raise ValidationFailed("attachments", "At most %(n)s attachments are allowed.", n=max_count)
    return [_check_one(u, max_bytes, set(extensions)) for u in uploads]


def _check_one(upload: Upload, max_bytes: int, extensions: set[str]) -> CheckedUpload:
    name = clean_filename(upload.filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in extensions:
        raise ValidationFailed("attachments", "Files of type “%(ext)s” are not accepted (%(name)s).",
                               ext=ext or "?", name=name)
    if not upload.data:
        raise ValidationFailed("attachments", "The file %(name)s is empty.", name=name)
    if len(upload.data) > max_bytes:
        raise ValidationFailed("attachments", "The file %(name)s is larger than %(mb)s MB.",
                               name=name, mb=max_bytes // (1024 * 1024))
    head = upload.data[:512]
    required = _REQUIRED_MAGIC.get(ext)
    looks_html = any(sign in head.lower() for sign in _HTML_SIGNS)
    if (head.startswith(_FORBIDDEN_MAGIC) or (required and not head.startswith(required))
            or (ext in _TEXT_EXTENSIONS and looks_html)):
        raise ValidationFailed("attachments", "The content of %(name)s does not match its type.",
                               name=name)
    return CheckedUpload(name, upload.data, _CONTENT_TYPES.get(ext, "application/octet-stream"),
                         hashlib.sha256(upload.data).hexdigest())


def store(directory: Path, data: bytes) -> str:
    """Write ``data`` under a generated name in ``directory``; return that name."""
    directory.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    tmp = directory / f".{stored_name}.part"
    tmp.write_bytes(data)
    tmp.replace(directory / stored_name)
    return stored_name


def path_of(directory: Path, stored_name: str) -> Path:
    if not stored_name.isalnum():
        raise ValueError("bad stored name")
    return directory / stored_name
