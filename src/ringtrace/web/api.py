"""The JSON API: /api/reports and /api/clusters."""

from __future__ import annotations

import functools
from datetime import UTC
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ringtrace.access.policy import Principal, View, redact_document
from ringtrace.access.sharing import Sharing
from ringtrace.domain.models import Cluster
from ringtrace.errors import Forbidden, InvalidReport, NotFound
from ringtrace.intake.received import receive
from ringtrace.jobs import APK_ANALYSES
from ringtrace.services import evidence_access
from ringtrace.services.intake import ingest
from ringtrace.store.apk import brings_apk
from ringtrace.store.rows import ReportSummary, report_subject
from ringtrace.web.auth import require, sharing
from ringtrace.web.dependencies import store as _store

router = APIRouter(prefix="/api", tags=["api"])

_REPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ReportDocument"}}
        },
    }
}


def summary_dict(s: ReportSummary) -> dict[str, Any]:
    return {
        "id": s.id,
        "source": s.ref.source,
        "external_id": s.ref.external_id,
        "received_at": s.received_at.isoformat(),
        "country": s.country,
        "tlp": s.tlp,
        "cluster_id": s.cluster_id if s.cluster_size > 1 else None,
    }


@router.post("/reports", status_code=201, openapi_extra=_REPORT_BODY)
async def post_report(request: Request) -> JSONResponse:
    """Submit one report (report-v1) as your agency (its ``source`` must be your agency's
    code). The same (source, external_id) twice is idempotent: the second answer is 200 with
    ``created: false``."""
    who = await run_in_threadpool(require, request, "reports.write")
    settings = request.app.state.settings
    body = await request.body()  # at most max_report_bytes: BodyLimit refuses more with 413
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidReport("the body must be UTF-8 encoded JSON") from e
    # Validation, extraction and the database write are blocking work: keep them off the
    # event loop so one large report does not stall every other request.
    received = await run_in_threadpool(
        functools.partial(receive, text, max_attachment_bytes=settings.max_attachment_bytes)
    )
    if received.doc.source != who.agency:
        raise Forbidden(f"you submit for {who.agency}: the report's source must be {who.agency!r}")
    result = await run_in_threadpool(ingest, _store(request), received, who.actor)
    if result.created and brings_apk(received):
        request.app.state.jobs.submit(APK_ANALYSES)  # APK evidence is analysed in the background
    doc = received.doc
    hits: list[str] = []
    if result.linked and result.cluster_id is not None:
        hits = await run_in_threadpool(held_elsewhere, _store(request), who, result.cluster_id)
    payload = {
        "id": result.report_id, "source": doc.source, "external_id": doc.external_id,
        "received_at": doc.received_at.astimezone(UTC).isoformat(),
        "country": doc.country, "tlp": doc.tlp,
        "cluster_id": result.cluster_id if result.linked else None,
        "created": result.created, "held_elsewhere": hits,
    }  # fmt: skip
    return JSONResponse(payload, status_code=201 if result.created else 200)


def held_elsewhere(store: Any, who: Principal, cluster_id: int) -> list[str]:
    """A hit, not a look inside: the agencies holding reports in the ring that the submitter
    may only know exist (so it can ask them), read through the sharing rules."""
    sh = Sharing(store, who)
    members = store.reports.ids_of(store.clusters.get(cluster_id).reports)
    sh.prefetch(members.values())
    return sorted({sh.owner_of(r) for r in members.values() if sh.view(r) == View.EXISTS})


@router.get("/reports")
def list_reports(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> dict[str, Any]:
    """Reports you may see (your agency's, and others' linked to yours), newest first."""
    who = require(request, "reports.read")
    page = sharing(request, who).visible_page(limit=limit, offset=offset)
    return {"reports": [summary_dict(r) for r in page], "limit": limit, "offset": offset}


@router.get("/reports/{report_id}")
def get_report(request: Request, report_id: int) -> dict[str, Any]:
    """One report, as much of it as the sharing rules allow you (docs/access.md)."""
    who = require(request, "reports.read")
    sh = sharing(request, who)
    view = sh.view(report_id)
    if view == View.NONE:
        raise NotFound(f"no report {report_id}")
    store = _store(request)
    d = store.reports.get(report_id)
    out: dict[str, Any] = {
        **summary_dict(d.summary), "agency": sh.owner_of(report_id), "access": view.name.lower(),
        "withdrawn": d.withdrawn,
    }  # fmt: skip
    if view >= View.INDICATORS:
        out["indicators"] = [i.to_dict() for i in d.indicators]
        if view < View.CONTENT:  # where and how it was written is part of the content
            for ind in out["indicators"]:
                ind.pop("occurrences", None)
    if view >= View.CONTENT:
        out["document"] = redact_document(d.document, view)
        out["attachments"] = [
            {"filename": a.filename, "media_type": a.media_type, "sha256": a.sha256,
             "size": a.size, "stored": a.stored, "detected_type": a.detected_type}
            for a in d.attachments
        ]  # fmt: skip
        out["apk_analyses"] = [
            {k: a[k] for k in ("position", "filename", "sha256", "status", "error_code",
                               "error_message", "result")}
            for a in store.apk.analyses(report_id)
        ]  # fmt: skip
        store.audit.record("report.view", report_subject(d.summary.ref),
                     {"access": view.name.lower(), "via": "api"}, actor=who.actor)  # fmt: skip
    return out


@router.get("/reports/{report_id}/attachments/{position}")
def get_attachment(request: Request, report_id: int, position: int) -> Response:
    """An evidence file as received (decrypted from the vault). Every download is audited."""
    who = require(request, "evidence.download")
    if sharing(request, who).view(report_id) < View.CONTENT:
        raise NotFound(f"no report {report_id}")
    att, data = evidence_access.view_attachment(
        _store(request), report_id, position, actor=who.actor
    )
    return Response(
        data,
        media_type=att.detected_type or "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{report_id}-{position}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def visible_cluster_sizes(request: Request, who: Principal) -> list[tuple[int, int]]:
    """The viewer's clusters with their sizes, largest first."""
    sh = sharing(request, who)
    return [(cid, n) for cid, n in _store(request).clusters.ids() if sh.cluster_visible(cid)]


def visible_cluster_ids(request: Request, who: Principal) -> list[int]:
    """The viewer's clusters, largest first."""
    return [cid for cid, _ in visible_cluster_sizes(request, who)]


def visible_clusters(
    request: Request, who: Principal, ids: list[int] | None = None
) -> list[Cluster]:
    """The viewer's clusters (or the given ones of them) as the viewer may see them."""
    sh = sharing(request, who)
    store = _store(request)
    if ids is None:
        ids = visible_cluster_ids(request, who)
    if not ids:
        return []
    entries: dict[int, tuple[str, str, int | None]] = {}
    clusters, report_ids = store.clusters.with_ids(ids, entries)
    sh.seed(entries)
    return [sh.filter_cluster(c, report_ids) for c in clusters]


@router.get("/clusters")
def list_clusters(request: Request) -> dict[str, Any]:
    """Clusters that hold at least one of your agency's reports, with the keys you may see."""
    who = require(request, "clusters.read")
    return {"clusters": [c.to_dict() for c in visible_clusters(request, who)]}


@router.get("/clusters/{cluster_id}")
def get_cluster(request: Request, cluster_id: int) -> dict[str, Any]:
    who = require(request, "clusters.read")
    sh = sharing(request, who)
    if not sh.cluster_visible(cluster_id):
        raise NotFound(f"no cluster {cluster_id}")
    store = _store(request)
    c = sh.filter_cluster(
        store.clusters.get(cluster_id), store.reports.ids_of(store.clusters.get(cluster_id).reports)
    )
    out = c.to_dict()
    out["excluded"] = [
        {
            "key": lk.key.to_dict(),
            "reason": lk.excluded_reason,
            "reports": [r.to_dict() for r in lk.reports],
        }
        for lk in c.excluded
    ]
    return out
