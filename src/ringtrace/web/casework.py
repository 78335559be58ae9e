"""Case work in the console: identifier pages (pivot from any key), a ring's status, owner,
tags and notes, and exports run in the background with a download when done. Reads go
through Sharing; every state change asks access/guards.py first."""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from ringtrace.access import guards
from ringtrace.access.policy import Principal, View
from ringtrace.domain.models import LinkKey
from ringtrace.errors import Forbidden, InvalidReport, NotFound
from ringtrace.store import Store
from ringtrace.store.casework import EXPORT_FORMATS, clean_tags
from ringtrace.web import ring as ring_view
from ringtrace.web.auth import require, sharing
from ringtrace.web.dependencies import render as _render
from ringtrace.web.dependencies import store as _store

router = APIRouter(prefix="/console", include_in_schema=False)
log = logging.getLogger(__name__)
_SUFFIX = {"stix": "stix.json", "misp": "misp.json", "csv": "csv", "court": "zip"}


# -- identifier pages ------------------------------------------------------------------------


@router.get("/keys/{key_type}/{value:path}", response_class=HTMLResponse)
def key_page(request: Request, key_type: str, value: str) -> Response:
    """One identifier: the reports the viewer may see that hold it, when, where, the rings
    it joins, and whether it links (and why not)."""
    who = require(request, "reports.read")
    key = LinkKey(key_type, value)
    sh = sharing(request, who)
    store = _store(request)
    holders = guards.visible_key_holders(sh, key)
    rows: list[dict[str, Any]] = []
    reasons: set[str] = set()
    for rid in holders[:500]:
        d = store.reports.get(rid)
        ind = next((i for i in d.indicators if i.key == key), None)
        if ind is not None and ind.excluded_reason:
            reasons.add(ind.excluded_reason)
        s = d.summary
        rows.append({"id": rid, "ref": s.ref, "received_at": s.received_at, "country": s.country,
                     "agency": sh.owner_of(rid), "links": bool(ind and ind.linkable),
                     "ring": s.cluster_id if s.cluster_size > 1 else None,
                     "ring_size": s.cluster_size})  # fmt: skip
    rows.sort(key=lambda r: r["received_at"])
    rings = sorted({(r["ring"], r["ring_size"]) for r in rows if r["ring"]})
    return _render(
        request, "key.html", who, key=key, rows=rows, total=len(holders),
        first=rows[0]["received_at"], last=rows[-1]["received_at"],
        agencies=sorted({r["agency"] for r in rows}),
        countries=sorted({r["country"] for r in rows if r["country"]}),
        rings=[{"id": c, "size": n} for c, n in rings if sh.cluster_visible(c)],
        links=any(r["links"] for r in rows), reasons=sorted(reasons),
        watching=store.casework.key_watched(who.user_id, key), group=ring_view.key_group(key.type),
    )  # fmt: skip


@router.post("/keys/watch")
def key_watch(
    request: Request,
    key_type: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "1",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    request.state.csrf_form = csrf
    who = require(request, "reports.read")
    key = LinkKey(key_type, value)
    guards.visible_key_holders(sharing(request, who), key)
    _store(request).casework.watch_key(who.user_id, key, on == "1")
    return RedirectResponse(ring_view.key_href(key.type, key.value), status_code=303)


# -- a ring's case record --------------------------------------------------------------------


@router.post("/clusters/{cluster_id}/case")
def ring_case(
    request: Request,
    cluster_id: int,
    status: Annotated[str, Form()] = "new",
    owner: Annotated[str, Form()] = "",
    tags: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Status, owner and tags of the viewer's agency's case on a ring (audited). Giving the
    ring to someone other than oneself is a supervisor's act."""
    request.state.csrf_form = csrf
    who = require(request, "clusters.edit")
    store = _store(request)
    current = store.casework.ring_case(cluster_id, who.agency)["owner"]
    if owner and owner not in (who.username, current):
        require(request, "triage.assign")
    guards.authorise_ring_case(sharing(request, who), cluster_id, owner or None)
    store.casework.set_ring_case(cluster_id, who.agency, status=status, owner=owner or None,
                        tags=clean_tags(tags), actor=who.actor)  # fmt: skip
    return RedirectResponse(f"/console/clusters/{cluster_id}#case", status_code=303)


@router.post("/clusters/{cluster_id}/notes")
def ring_note(
    request: Request,
    cluster_id: int,
    text: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    request.state.csrf_form = csrf
    who = require(request, "clusters.edit")
    guards.authorise_ring_case(sharing(request, who), cluster_id, None)
    _store(request).casework.add_note(cluster_id, who.agency, text, who.actor)
    return RedirectResponse(f"/console/clusters/{cluster_id}#case", status_code=303)


@router.post("/clusters/{cluster_id}/share")
def ring_share(
    request: Request,
    cluster_id: int,
    agency: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Confirm a hit: share the viewer's agency's reports in this ring with another agency
    that holds a report in it (they become readable to it under the TLP rules; audited)."""
    request.state.csrf_form = csrf
    who = require(request, "clusters.edit")
    guards.authorise_share(sharing(request, who), cluster_id, agency)
    _store(request).visibility.confirm_share(cluster_id, who.agency, agency, actor=who.actor)
    return RedirectResponse(f"/console/clusters/{cluster_id}#case", status_code=303)


# -- exports ---------------------------------------------------------------------------------


def _export_dir(request: Request) -> Path:
    path: Path = request.app.state.settings.data_dir / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


@router.post("/clusters/{cluster_id}/exports")
def export_start(
    request: Request,
    cluster_id: int,
    format: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Start an export of a ring in the background (STIX 2.1, MISP, CSV or the court
    package), carrying only what the sharing rules give the viewer's agency."""
    request.state.csrf_form = csrf
    who = require(request, "evidence.download")
    if format not in EXPORT_FORMATS:
        raise InvalidReport(f"format must be one of {', '.join(EXPORT_FORMATS)}", field="format")
    readable = guards.authorise_export(sharing(request, who), cluster_id)
    store = _store(request)
    job = store.casework.create_export(who.user_id, cluster_id, format, who.actor)
    out = _export_dir(request) / f"export-{job}.{_SUFFIX[format]}"
    args = (store, job, who, cluster_id, format, readable, out)
    worker = threading.Thread(target=run_export, name=f"export-{job}", daemon=True, args=args)
    worker.start()
    return RedirectResponse(f"/console/exports#job-{job}", status_code=303)


def run_export(
    store: Store, job: int, who: Principal, cluster_id: int, fmt: str, readable: list[int],
    out: Path,
) -> None:  # fmt: skip
    """The export itself (on a worker thread): progress is written as it goes."""
    try:
        store.casework.update_export(job, status="running", progress=10)
        if fmt == "stix":
            from ringtrace.share.stix import export, validate

            bundle = export(store, agency=who.agency, cluster_id=cluster_id)
            store.casework.update_export(job, progress=60)
            errors = validate(bundle)
            if errors:
                raise InvalidReport(f"the export failed STIX validation: {errors[0]}")
            _write_json(out, bundle)
        elif fmt == "misp":
            from ringtrace.share.misp import export_event

            _write_json(out, export_event(store, cluster_id, agency=who.agency))
        elif fmt == "csv":
            out.write_text(_csv(store, who, cluster_id), encoding="utf-8")
        else:
            from ringtrace.court import make_package

            make_package(store, str(cluster_id), out, actor=who.actor, only=set(readable))
        if fmt != "court":  # the court package records its own audit entry
            store.audit.record(f"export.{fmt}", f"cluster:{cluster_id}",
                         {"job": job, "agency": who.agency}, actor=who.actor)  # fmt: skip
        store.casework.update_export(job, status="done", progress=100, filename=out.name)
    except Exception as e:  # the job says it failed; the worker thread ends cleanly
        log.exception("export %s failed", job)
        store.casework.update_export(
            job, status="failed", error=type(e).__name__ + ": " + str(e)[:300]
        )


def _write_json(out: Path, data: Any) -> None:
    out.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False), "utf-8")


def _cell(value: object) -> str:
    """A spreadsheet cell that cannot run as a formula (a value from a report is hostile
    input): one that starts like a formula gets a leading apostrophe. A phone number's
    leading + followed by digits is left alone."""
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not text[1:].replace(" ", "").isdigit()
    ):
        return "'" + text
    return text


def _csv(store: Store, who: Principal, cluster_id: int) -> str:
    """One row per (report, key) the viewer's agency may see: for spreadsheets."""
    from ringtrace.access.sharing import Sharing

    sh = Sharing(store, who)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["ring", "source", "external_id", "agency", "received_at", "key_type",
                "key_value", "links", "why_not"])  # fmt: skip
    ids = store.reports.ids_of(store.clusters.get(cluster_id).reports)
    sh.prefetch(ids.values())
    for ref, rid in sorted(ids.items(), key=lambda x: x[1]):
        if sh.view(rid) < View.INDICATORS:
            continue
        d = store.reports.get(rid)
        for ind in d.indicators:
            row = [cluster_id, ref.source, ref.external_id, sh.owner(ref.source),
                   d.summary.received_at.isoformat(), ind.type, ind.value,
                   "yes" if ind.linkable else "no", ind.excluded_reason or ""]  # fmt: skip
            w.writerow([_cell(v) for v in row])
    return buf.getvalue()


@router.get("/exports", response_class=HTMLResponse)
def exports_page(request: Request) -> Response:
    """The viewer's exports, with progress; the page refreshes itself while one runs."""
    who = require(request, "evidence.download")
    jobs = _store(request).casework.export_jobs(who.user_id)
    running = any(j["status"] in ("queued", "running") for j in jobs)
    return _render(request, "exports.html", who, jobs=jobs, running=running)


@router.get("/exports/{job_id}/download")
def export_download(request: Request, job_id: int) -> Response:
    who = require(request, "evidence.download")
    job = _store(request).casework.export_job(job_id, who.user_id)
    if job["status"] != "done" or not job["filename"]:
        raise NotFound(f"export {job_id} is not ready")
    # The ring must still be one the viewer sees (sharing may have changed since).
    if not sharing(request, who).cluster_visible(int(job["cluster_id"])):
        raise Forbidden("this ring is no longer shared with your agency")
    path = _export_dir(request) / str(job["filename"])
    name = f"ring-{job['cluster_id']}-{job['format']}.{_SUFFIX[str(job['format'])]}"
    return FileResponse(path, filename=name, media_type="application/octet-stream")
