"""Server-rendered analyst pages under /console (the site root is the public report page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ringtrace.domain.models import ReportRef
from ringtrace.linking.clusters import reasons_for
from ringtrace.store import Store
from ringtrace.web.api import redacted

router = APIRouter(prefix="/console", include_in_schema=False)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _render(request: Request, name: str, **context: object) -> Response:
    return request.app.state.templates.TemplateResponse(request, name, context)  # type: ignore[no-any-return]


@router.get("")
@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/console/clusters", status_code=303)


@router.get("/clusters", response_class=HTMLResponse)
def clusters_page(request: Request) -> Response:
    store = _store(request)
    rows = []
    for cluster in store.clusters():
        members = store.reports(cluster_id=cluster.id, limit=100_000)
        rows.append(
            {
                "cluster": cluster,
                "sources": sorted({m.ref.source for m in members}),
                "countries": sorted({m.country for m in members if m.country}),
                "first": min(m.received_at for m in members),
                "last": max(m.received_at for m in members),
            }
        )
    return _render(request, "clusters.html", rows=rows, total_reports=store.count_reports())


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster_page(request: Request, cluster_id: int) -> Response:
    store = _store(request)
    cluster = store.cluster(cluster_id)
    members = {m.ref: m for m in store.reports(cluster_id=cluster_id, limit=100_000)}
    why = reasons_for(cluster)
    return _render(
        request, "cluster.html", cluster=cluster, members=members, why=why,
        countries=sorted({m.country for m in members.values() if m.country}),
    )  # fmt: skip


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: int) -> Response:
    store = _store(request)
    detail = store.report(report_id)
    return _render(
        request, "report.html", d=detail, document=redacted(detail.document),
        media=store.media_for_report(report_id), apks=store.apk_analyses(report_id),
    )  # fmt: skip


@router.get("/report", response_class=HTMLResponse)
def report_by_ref(request: Request, source: str, external_id: str) -> Response:
    rid = _store(request).report_id(ReportRef(source, external_id))
    return RedirectResponse(f"/console/reports/{rid}", status_code=303)
