"""The JSON API: /api/reports and /api/clusters."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ringtrace.errors import InvalidReport
from ringtrace.ingest import ingest
from ringtrace.intake.received import receive
from ringtrace.store import Store
from ringtrace.store.database import ReportSummary

router = APIRouter(prefix="/api", tags=["api"])

_REPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ReportDocument"}}
        },
    }
}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


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


def redacted(document: dict[str, Any]) -> dict[str, Any]:
    """The stored document without the reporter's contact details (personal data that no
    page shows until access control exists)."""
    out = dict(document)
    reporter = out.get("reporter")
    if isinstance(reporter, dict) and "contact" in reporter:
        out["reporter"] = {k: v for k, v in reporter.items() if k != "contact"}
        out["reporter"]["contact"] = "[withheld]"
    return out


@router.post("/reports", status_code=201, openapi_extra=_REPORT_BODY)
async def post_report(request: Request) -> JSONResponse:
    """Submit one report (report-v1). The same (source, external_id) twice is idempotent:
    the second answer is 200 with ``created: false``."""
    settings = request.app.state.settings
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_report_bytes:
        raise InvalidReport(f"report larger than {settings.max_report_bytes} bytes")
    body = await request.body()
    if len(body) > settings.max_report_bytes:
        raise InvalidReport(f"report larger than {settings.max_report_bytes} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidReport("the body must be UTF-8 encoded JSON") from e
    # Validation, extraction and the database write are blocking work: keep them off the
    # event loop so one large report does not stall every other request.
    received = await run_in_threadpool(
        functools.partial(receive, text, max_attachment_bytes=settings.max_attachment_bytes)
    )
    result = await run_in_threadpool(ingest, _store(request), received, "api")
    if result.created and received.blobs:
        request.app.state.jobs.kick()  # APK evidence is analysed in the background
    detail = await run_in_threadpool(_store(request).report, result.report_id)
    payload = {**summary_dict(detail.summary), "created": result.created}
    return JSONResponse(payload, status_code=201 if result.created else 200)


@router.get("/reports")
def list_reports(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """Reports, newest first."""
    rows = _store(request).reports(limit=limit, offset=offset)
    return {"reports": [summary_dict(r) for r in rows], "limit": limit, "offset": offset}


@router.get("/reports/{report_id}")
def get_report(request: Request, report_id: int) -> dict[str, Any]:
    """One report as received (reporter contact withheld) with its indicators."""
    d = _store(request).report(report_id)
    return {
        **summary_dict(d.summary),
        "withdrawn": d.withdrawn,
        "document": redacted(d.document),
        "indicators": [i.to_dict() for i in d.indicators],
        "attachments": [
            {
                "filename": a.filename,
                "media_type": a.media_type,
                "sha256": a.sha256,
                "size": a.size,
                "stored": a.stored,
                "detected_type": a.detected_type,
            }
            for a in d.attachments
        ],
        "apk_analyses": [
            {
                k: a[k]
                for k in (
                    "position",
                    "filename",
                    "sha256",
                    "status",
                    "error_code",
                    "error_message",
                    "result",
                )
            }
            for a in _store(request).apk_analyses(report_id)
        ],
    }


@router.get("/reports/{report_id}/attachments/{position}")
def get_attachment(request: Request, report_id: int, position: int) -> Response:
    """An evidence file as received (decrypted from the vault). Every download is audited."""
    att, data = _store(request).attachment(report_id, position, actor="api")
    return Response(
        data,
        media_type=att.detected_type or "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{report_id}-{position}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.get("/clusters")
def list_clusters(request: Request) -> dict[str, Any]:
    """Every cluster of two or more reports, with the keys that hold it together."""
    return {"clusters": [c.to_dict() for c in _store(request).clusters()]}


@router.get("/clusters/{cluster_id}")
def get_cluster(request: Request, cluster_id: int) -> dict[str, Any]:
    c = _store(request).cluster(cluster_id)
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
