"""Court packages: evidence files with a manifest that can be verified offline.

A package is a zip holding the original evidence files, ``explanation.json`` (why the reports
are linked), ``audit.jsonl`` (the audit entries about them, each still hash-verifiable),
``summary.html`` and ``summary.pdf`` for people, ``manifest.json`` (SHA-256 and size of every
other file) and ``manifest.sha256`` (the manifest's own hash, which is also written to the
audit log when the package is made, so it can be checked against the source system).
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from ringtrace.errors import RingtraceError
from ringtrace.evidence.audit import AuditEntry, verify_detached

# What reading a damaged zip can raise: a bad header, a bad CRC, corrupt deflate data.
_READ_ERRORS = (zipfile.BadZipFile, ValueError, zlib.error, EOFError, OSError, UnicodeDecodeError)
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"


class PackageInvalid(RingtraceError):
    code = "package_invalid"
    http_status = 422
    exit_code = 8


@dataclass
class EvidenceFile:
    report: str  # "source/external_id"
    name: str
    data: bytes
    detected_type: str | None = None


@dataclass
class PackageContents:
    subject: str
    title: str
    reports: list[dict[str, Any]]
    explanation: dict[str, Any]
    audit: list[AuditEntry]
    files: list[EvidenceFile] = field(default_factory=list)


def _safe(part: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in part)
    return keep.strip(".") or "_"


def _summary_html(c: PackageContents, created: str) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(r['source'])}</td><td>{html.escape(r['external_id'])}</td>"
        f"<td>{html.escape(str(r.get('received_at', '')))}</td>"
        f"<td>{html.escape(', '.join(r.get('linked_by', [])))}</td></tr>"
        for r in c.reports
    )
    links = "".join(
        f"<li><code>{html.escape(lk['key']['type'])}: {html.escape(lk['key']['value'])}</code>"
        f" — {len(lk['reports'])} reports</li>"
        for lk in c.explanation.get("links", [])
    )
    files = "".join(
        f"<li>{html.escape(f.report)} / {html.escape(f.name)} "
        f"({len(f.data)} bytes, SHA-256 {hashlib.sha256(f.data).hexdigest()})</li>"
        for f in c.files
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(c.title)}</title></head><body>"
        f"<h1>{html.escape(c.title)}</h1><p>Prepared {html.escape(created)} by ringtrace. "
        "Every file in this package is listed with its SHA-256 in manifest.json.</p>"
        f"<h2>Reports</h2><table border='1' cellpadding='4'><tr><th>Source</th><th>Reference</th>"
        f"<th>Received</th><th>Linked by</th></tr>{rows}</table>"
        f"<h2>Shared identifiers</h2><ul>{links}</ul><h2>Evidence files</h2><ul>{files}</ul>"
        f"<h2>Audit</h2><p>{len(c.audit)} audit entries in audit.jsonl.</p></body></html>"
    )


def _latin1(text: str) -> str:
    return text.encode("latin-1", errors="replace").decode("latin-1")


def _line(pdf: FPDF, height: int, text: str) -> None:
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def _summary_pdf(c: PackageContents, created: str) -> bytes:
    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    _line(pdf, 8, _latin1(c.title))
    pdf.set_font("Helvetica", size=10)
    _line(
        pdf, 6, _latin1(f"Prepared {created} by ringtrace. SHA-256 of every file: manifest.json.")
    )
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Reports", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for r in c.reports:
        line = f"{r['source']} / {r['external_id']}  received {r.get('received_at', '')}"
        _line(pdf, 5, _latin1(line))
        if r.get("linked_by"):
            _line(pdf, 5, _latin1("   linked by: " + ", ".join(r["linked_by"])))
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Shared identifiers", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for lk in c.explanation.get("links", []):
        _line(
            pdf,
            5,
            _latin1(f"{lk['key']['type']}: {lk['key']['value']} ({len(lk['reports'])} reports)"),
        )
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Evidence files", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    for f in c.files:
        _line(pdf, 4, _latin1(f"{f.report}/{f.name}  {hashlib.sha256(f.data).hexdigest()}"))
    return bytes(pdf.output())


def build(contents: PackageContents, out: Path) -> str:
    """Write the package; return the SHA-256 of its manifest."""
    created = datetime.now(UTC).isoformat(timespec="seconds")
    members: dict[str, bytes] = {}
    for f in contents.files:
        path = f"files/{_safe(f.report)}/{_safe(f.name)}"
        n = 2
        while path in members:
            path = f"files/{_safe(f.report)}/{n}-{_safe(f.name)}"
            n += 1
        members[path] = f.data
    members["explanation.json"] = json.dumps(
        contents.explanation, indent=2, ensure_ascii=False
    ).encode()
    members["reports.json"] = json.dumps(contents.reports, indent=2, ensure_ascii=False).encode()
    members["audit.jsonl"] = "".join(
        json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in contents.audit
    ).encode()
    members["summary.html"] = _summary_html(contents, created).encode()
    members["summary.pdf"] = _summary_pdf(contents, created)
    manifest = {
        "format": "ringtrace.court-package/1",
        "subject": contents.subject,
        "created_at": created,
        "files": [
            {"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
            for p, d in sorted(members.items())
        ],
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for p, d in sorted(members.items()):
            z.writestr(p, d)
        z.writestr(MANIFEST, manifest_bytes)
        z.writestr(MANIFEST_HASH, digest + "\n")
    tmp.replace(out)
    return digest


def verify(path: Path) -> list[str]:
    """Every problem found in a package (empty when it verifies). Works offline."""
    try:
        data = path.read_bytes()
        z = zipfile.ZipFile(io.BytesIO(data))
        names = z.namelist()
    except _READ_ERRORS as e:
        return [f"not a readable package: {e}"]
    problems: list[str] = []
    with z:
        if MANIFEST not in names or MANIFEST_HASH not in names:
            return ["manifest.json or manifest.sha256 is missing"]
        try:
            manifest_bytes = z.read(MANIFEST)
            stated = z.read(MANIFEST_HASH).decode().strip()
            manifest = json.loads(manifest_bytes)
        except (*_READ_ERRORS, KeyError) as e:
            return [f"manifest unreadable: {e}"]
        if hashlib.sha256(manifest_bytes).hexdigest() != stated:
            problems.append("manifest.json does not match manifest.sha256")
        listed = {f["path"]: f for f in manifest.get("files", [])}
        for p, entry in listed.items():
            if p not in names:
                problems.append(f"{p}: listed in the manifest but missing")
                continue
            try:
                content = z.read(p)
            except _READ_ERRORS as e:
                problems.append(f"{p}: unreadable ({e})")
                continue
            if (
                hashlib.sha256(content).hexdigest() != entry["sha256"]
                or len(content) != entry["size"]
            ):
                problems.append(f"{p}: content does not match the manifest")
        for p in names:
            if p not in listed and p not in (MANIFEST, MANIFEST_HASH):
                problems.append(f"{p}: not listed in the manifest")
        if "audit.jsonl" in names and "audit.jsonl" in listed:
            try:
                entries = [
                    AuditEntry.from_dict(json.loads(line))
                    for line in z.read("audit.jsonl").decode().splitlines()
                    if line.strip()
                ]
                bad = verify_detached(entries)
                if bad:
                    problems.append(bad)
            except (*_READ_ERRORS, KeyError) as e:
                problems.append(f"audit.jsonl unreadable: {e}")
    return problems
