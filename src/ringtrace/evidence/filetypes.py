"""What an evidence file really is, from its bytes (magic numbers), not from its name.

A file that claims one type and is another is recorded as what it is. Executables and other
types that are never evidence of a report are refused.
"""

from __future__ import annotations

import io
import zipfile

import filetype

APK = "application/vnd.android.package-archive"
# Types victims and helplines send: screenshots, recordings, chat exports, documents, the
# ring's app, saved emails.
ALLOWED = frozenset(
    {
        "image/png", "image/jpeg", "image/gif", "image/webp", "image/heic", "image/heif",
        "image/bmp", "image/tiff", "video/mp4", "video/quicktime", "video/webm", "video/3gpp",
        "video/x-matroska", "audio/mpeg", "audio/mp4", "audio/ogg", "audio/x-wav", "audio/amr",
        "application/pdf", "application/zip", APK, "text/plain", "message/rfc822",
    }
)  # fmt: skip


def detect(data: bytes) -> str:
    """The media type of ``data`` by content."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        mime = str(kind.mime)
        if mime == "application/zip" and _is_apk(data):
            return APK
        return mime
    try:
        text = data[:65536].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    head = text.lstrip()[:2000].lower()
    if head.startswith(("received:", "from:", "return-path:", "delivered-to:", "mime-version:")):
        return "message/rfc822"
    return "text/plain"


def _is_apk(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist()[:10000])
    except (zipfile.BadZipFile, ValueError):
        return False
    return "AndroidManifest.xml" in names


def refusal(detected: str) -> str | None:
    """Why a file of this type is not accepted, or None."""
    if detected in ALLOWED:
        return None
    return f"files of type {detected} are not accepted as evidence"
