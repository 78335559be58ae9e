"""A report as it arrived: the validated document, the text to store, and evidence bytes."""

from __future__ import annotations

import copy
import hashlib
import json
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringtrace.errors import InvalidReport
from ringtrace.evidence import filetypes
from ringtrace.intake import jsontext
from ringtrace.intake.schema import ReportDocument, parse_report


@dataclass(frozen=True)
class Blob:
    position: int
    data: bytes
    detected_type: str = "application/octet-stream"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Received:
    doc: ReportDocument
    stored_text: str  # what goes in the database, byte for byte as sent unless it held bytes
    content_sha256: str  # identity of the document as sent, attachment bytes included
    blobs: list[Blob] = field(default_factory=list)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


DEFAULT_MAX_ATTACHMENT = 20 * 1024 * 1024


def receive(
    text: str,
    *,
    line: int | None = None,
    base_dir: Path | None = None,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT,
) -> Received:
    """Parse and validate one report document.

    ``base_dir`` enables ``attachments[].path`` (the CLI importer only: the API never reads
    files named by a client). Every attachment is checked for size and for what its bytes
    really are; a type that is never evidence (an executable) is refused.
    """
    data = jsontext.loads(text, line=line)
    doc = parse_report(data, line=line)
    blobs: list[Blob] = []
    identity = copy.deepcopy(data)
    stored = data
    stored_changed = False
    for i, att in enumerate(doc.attachments):
        content = att.decoded()
        if att.path is not None:
            if base_dir is None:
                raise InvalidReport(
                    "attachment paths are only read by the command-line importer; "
                    "send content_base64 instead",
                    field=f"attachments.{i}.path",
                    line=line,
                )
            content = _read_relative(base_dir, att.path, i, line)
            if att.sha256 and hashlib.sha256(content).hexdigest() != att.sha256.lower():
                raise InvalidReport(
                    "sha256 does not match the file's content", field=f"attachments.{i}", line=line
                )
        if content is None:
            continue
        if len(content) > max_attachment_bytes:
            raise InvalidReport(
                f"attachment {att.filename!r} is {len(content)} bytes; "
                f"the limit is {max_attachment_bytes}",
                field=f"attachments.{i}",
                line=line,
            )
        detected = filetypes.detect(content)
        refused = filetypes.refusal(detected)
        if refused:
            raise InvalidReport(
                f"attachment {att.filename!r}: {refused}", field=f"attachments.{i}", line=line
            )
        blob = Blob(i, content, detected)
        blobs.append(blob)
        entry = identity["attachments"][i]
        entry.pop("content_base64", None)
        entry.pop("path", None)
        entry["sha256"] = blob.sha256
        if att.content_base64 is not None:
            if not stored_changed:
                stored = copy.deepcopy(data)
                stored_changed = True
            s_entry = stored["attachments"][i]
            del s_entry["content_base64"]
            s_entry["sha256"] = blob.sha256
    content_sha256 = hashlib.sha256(_canonical(identity).encode()).hexdigest()
    stored_text = json.dumps(stored, ensure_ascii=False) if stored_changed else text.strip()
    return Received(doc, stored_text, content_sha256, blobs)


def _read_relative(base_dir: Path, rel: str, i: int, line: int | None) -> bytes:
    """The bytes of attachment file ``rel``, which must be a regular file inside ``base_dir``
    once every symbolic link is resolved: an import file never reads the rest of the
    machine (``/etc/passwd``, the vault's own keys) into the evidence."""
    where = f"attachments.{i}.path"
    root = base_dir.resolve()
    if Path(rel).is_absolute():
        raise InvalidReport(
            f"attachment path {rel!r} is absolute; give it relative to {root} "
            "(or widen that folder with --attachments-dir)",
            field=where,
            line=line,
        )
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise InvalidReport(
            f"attachment path {rel!r} leads outside {root}; only files inside it are read "
            "(or widen that folder with --attachments-dir)",
            field=where,
            line=line,
        )
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise InvalidReport(
                f"attachment path {rel!r} is not a regular file", field=where, line=line
            )
        if st.st_size > 1024 * 1024 * 1024:
            raise InvalidReport("attachment file is larger than 1 GiB", field=where, line=line)
        return path.read_bytes()
    except OSError as e:
        raise InvalidReport(
            f"cannot read attachment file {rel!r}: {e.strerror}", field=where, line=line
        ) from e
