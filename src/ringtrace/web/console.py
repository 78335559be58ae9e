"""Server-rendered analyst pages under /console (the site root is the public report page).
Every page requires a login and shows only what the sharing rules allow (docs/access.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ringtrace.access.policy import Principal, View, redact_document
from ringtrace.domain.models import LinkKey, ReportRef
from ringtrace.errors import NotFound
from ringtrace.linking.clusters import reasons_for
from ringtrace.store import Store
from ringtrace.store.database import report_subject
from ringtrace.web.api import visible_clusters
from ringtrace.web.auth import require, sharing

router = APIRouter(prefix="/console", include_in_schema=False)
_NO_MEDIA: dict[str, list[object]] = {"lure": [], "takedown": []}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _render(request: Request, name: str, who: Principal, **context: object) -> Response:
    context["user"] = who
    return request.app.state.templates.TemplateResponse(request, name, context)  # type: ignore[no-any-return]


@router.get("")
@router.get("/")
def home(request: Request) -> RedirectResponse:
    require(request, "clusters.read")
    return RedirectResponse("/console/clusters", status_code=303)


@router.get("/clusters", response_class=HTMLResponse)
def clusters_page(request: Request) -> Response:
    who = require(request, "clusters.read")
    store = _store(request)
    sh = sharing(request, who)
    rows = []
    for cluster in visible_clusters(request, who):
        members = store.reports(cluster_id=cluster.id, limit=100_000)
        rows.append(
            {
                "cluster": cluster,
                "sources": sorted({sh.owner(m.ref.source) for m in members}),
                "countries": sorted({m.country for m in members if m.country}),
                "first": min(m.received_at for m in members),
                "last": max(m.received_at for m in members),
            }
        )
    own = len(sh.own_reports)
    return _render(request, "clusters.html", who, rows=rows, total_reports=own)


def _cluster_context(request: Request, who: Principal, cluster_id: int) -> dict[str, object]:
    sh = sharing(request, who)
    if not sh.cluster_visible(cluster_id):
        raise NotFound(f"no cluster {cluster_id}")
    store = _store(request)
    raw = store.cluster(cluster_id)
    ids = store.ids_of(raw.reports)
    cluster = sh.filter_cluster(raw, ids)
    members = {m.ref: m for m in store.reports(cluster_id=cluster_id, limit=100_000)}
    why = reasons_for(cluster)
    views = {ref: sh.view(ids[ref]).name.lower() for ref in raw.reports}
    return {
        "cluster": cluster, "members": members, "why": why, "views": views,
        "agencies": {ref: sh.owner(ref.source) for ref in raw.reports},
        "countries": sorted({m.country for m in members.values() if m.country}),
        "can_edit": who.can("clusters.edit"),
    }  # fmt: skip


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster_page(request: Request, cluster_id: int) -> Response:
    who = require(request, "clusters.read")
    return _render(request, "cluster.html", who, **_cluster_context(request, who, cluster_id))


@router.post("/clusters/{cluster_id}/cut")
def cluster_cut(
    request: Request,
    cluster_id: int,
    key: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Stop a key from linking (an analyst's decision, audited, kept through rebuilds)."""
    request.state.csrf_form = csrf
    who = require(request, "clusters.edit")
    if not sharing(request, who).cluster_visible(cluster_id):
        raise NotFound(f"no cluster {cluster_id}")
    key_type, _, key_value = key.partition("|")
    _store(request).cut(LinkKey(key_type, key_value), reason=reason, actor=who.actor)
    return RedirectResponse(f"/console/clusters/{cluster_id}", status_code=303)


@router.post("/clusters/{cluster_id}/unrelated")
def cluster_unrelated(
    request: Request,
    cluster_id: int,
    report_a: Annotated[int, Form()],
    report_b: Annotated[int, Form()],
    reason: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Mark two reports as unrelated: the keys they share directly stop linking (audited)."""
    request.state.csrf_form = csrf
    who = require(request, "clusters.edit")
    sh = sharing(request, who)
    if sh.view(report_a) < View.EXISTS or sh.view(report_b) < View.EXISTS:
        raise NotFound("no such report")
    store = _store(request)
    refs = store.refs([report_a, report_b])
    store.unrelated(refs[report_a], refs[report_b], reason=reason, actor=who.actor)
    return RedirectResponse(f"/console/clusters/{cluster_id}", status_code=303)


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: int) -> Response:
    who = require(request, "reports.read")
    sh = sharing(request, who)
    view = sh.view(report_id)
    if view == View.NONE:
        raise NotFound(f"no report {report_id}")
    store = _store(request)
    detail = store.report(report_id)
    document = redact_document(detail.document, view)
    if view >= View.CONTENT:
        store.record("report.view", report_subject(detail.summary.ref),
                     {"access": view.name.lower(), "via": "console"}, actor=who.actor)  # fmt: skip
    return _render(
        request, "report.html", who, d=detail, document=document, view=view.name.lower(),
        show_indicators=view >= View.INDICATORS, show_content=view >= View.CONTENT,
        agency=sh.owner_of(report_id),
        media=store.media_for_report(report_id) if view >= View.CONTENT else _NO_MEDIA,
        apks=store.apk_analyses(report_id) if view >= View.CONTENT else [],
    )  # fmt: skip


@router.get("/report", response_class=HTMLResponse)
def report_by_ref(request: Request, source: str, external_id: str) -> Response:
    require(request, "reports.read")
    rid = _store(request).report_id(ReportRef(source, external_id))
    return RedirectResponse(f"/console/reports/{rid}", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, subject: str | None = None) -> Response:
    who = require(request, "audit.read")
    entries = _store(request).audit_entries([subject] if subject else None)
    return _render(request, "audit.html", who, entries=list(reversed(entries))[:500],
                   subject=subject)  # fmt: skip
