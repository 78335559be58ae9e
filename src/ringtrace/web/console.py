"""Server-rendered analyst pages under /console (the site root is the public report page).
Every page requires a login and shows only what the sharing rules allow (docs/access.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ringtrace.access import guards
from ringtrace.access.policy import Principal, View, redact_document
from ringtrace.domain.models import LinkKey, ReportRef
from ringtrace.errors import NotFound
from ringtrace.linking.clusters import reasons_for
from ringtrace.store import Store
from ringtrace.store.database import report_subject
from ringtrace.web import ring as ring_view
from ringtrace.web.api import visible_cluster_ids, visible_cluster_sizes, visible_clusters
from ringtrace.web.auth import require, sharing

router = APIRouter(prefix="/console", include_in_schema=False)
CLUSTERS_PER_PAGE = 25
_NO_MEDIA: dict[str, list[object]] = {"lure": [], "takedown": []}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _render(request: Request, name: str, who: Principal, **context: object) -> Response:
    context["user"] = who
    return request.app.state.templates.TemplateResponse(request, name, context)  # type: ignore[no-any-return]


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> Response:
    """Reports per week, rings by size and money taken, open urgent reports, alerts."""
    who = require(request, "reports.read")
    store = _store(request)
    sh = sharing(request, who)
    own = sh.own_reports
    weeks: dict[str, int] = {}
    for received in store.received_times(who.agency):
        iso = received.isocalendar()
        key = f"{iso.year}-W{iso.week:02d}"
        weeks[key] = weeks.get(key, 0) + 1
    per_week = sorted(weeks.items())[-12:]
    rings = []
    for c in visible_clusters(request, who, visible_cluster_ids(request, who)[:10]):
        ids = store.ids_of(c.reports)
        docs = {i: store.report(i).document for i in ids.values() if sh.view(i) >= View.CONTENT}
        money = ring_view.money_and_timeline(docs)
        paid: dict[str, object] = {}
        for row in money["per_currency"]:
            if row["paid"]:
                paid[row["currency"]] = paid.get(row["currency"], 0) + row["paid"]
        rings.append({"cluster": c, "size": len(c.reports), "paid": paid})
    rings.sort(key=lambda r: -int(r["size"]))  # type: ignore[call-overload]
    queue = store.triage_queue(own)
    urgent = [q for q in queue if q["crisis"] or q["score"] >= 100]
    alerts = store.alerts_for(who.user_id)
    return _render(request, "dashboard.html", who, per_week=per_week,
                   max_week=max([n for _, n in per_week] or [1]), rings=rings[:10],
                   urgent=urgent[:10], open_count=len(queue), alerts=alerts,
                   urgent_ids={q["id"] for q in queue if q["alert"]})  # fmt: skip


@router.post("/alerts/seen")
def alerts_seen(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    request.state.csrf_form = csrf
    who = require(request, "reports.read")
    _store(request).mark_alerts_seen(who.user_id)
    return RedirectResponse("/console/", status_code=303)


@router.get("/triage", response_class=HTMLResponse)
def triage_page(request: Request, show: str = "open") -> Response:
    """The agency's reports, most urgent first, with why."""
    who = require(request, "triage.work")
    sh = sharing(request, who)
    queue = _store(request).triage_queue(sh.own_reports, include_done=show == "all")
    return _render(request, "triage.html", who, queue=queue, show=show)


@router.post("/triage/{report_id}")
def triage_update(
    request: Request,
    report_id: int,
    action: Annotated[str, Form()] = "",
    assignee: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """take (assign to me), assign (to someone; supervisors), start, done, referred (handed
    to another agency or service; the reporter's status page says so), reopen."""
    request.state.csrf_form = csrf
    who = require(request, "triage.work")
    if report_id not in sharing(request, who).own_reports:
        raise NotFound(f"no report {report_id}")
    store = _store(request)
    if action == "take":
        store.set_triage(report_id, status="in_progress", assignee=who.username, actor=who.actor)
    elif action == "assign":
        require(request, "triage.assign")
        guards.authorise_assignee(sharing(request, who), assignee)
        store.set_triage(report_id, assignee=assignee, actor=who.actor)
    elif action in ("done", "new", "in_progress", "referred"):
        store.set_triage(report_id, status=action, actor=who.actor)
    else:
        raise NotFound(f"no action {action}")
    return RedirectResponse("/console/triage", status_code=303)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "") -> Response:
    """Pivot: any identifier, as a victim might have written it, normalised by the extractor."""
    who = require(request, "reports.read")
    keys = _search_keys(q) if q.strip() else []
    store = _store(request)
    sh = sharing(request, who)
    hits = []
    for rid, held in sorted(store.reports_with_keys(keys).items()):
        if sh.view(rid) < View.INDICATORS:
            continue
        s = store.report(rid).summary
        hits.append({"id": rid, "ref": s.ref, "matched": held, "agency": sh.owner_of(rid),
                     "cluster_id": s.cluster_id if s.cluster_size > 1 else None,
                     "cluster_size": s.cluster_size})  # fmt: skip
    return _render(request, "search.html", who, q=q, keys=keys, hits=hits)


def _search_keys(q: str) -> list[LinkKey]:
    from ringtrace.indicators.registry import Context, identifier_normaliser_for
    from ringtrace.indicators.report import extract_text
    from ringtrace.intake.schema import IdentifierType

    found = {LinkKey(i.type, i.value) for i in extract_text(q)}
    # Bare values typed without context: try each identifier type's normaliser too.
    for typ in IdentifierType.__args__:  # type: ignore[attr-defined]
        reg = identifier_normaliser_for(typ)
        if reg is None:
            continue
        try:
            for cand in reg.fn(q.strip(), Context(country=None)):
                found.add(LinkKey(cand.type, cand.value))
        except Exception:  # a normaliser refusing odd input is not an error here
            continue
    return sorted(found, key=lambda k: (k.type, k.value))


@router.post("/clusters/{cluster_id}/watch")
def cluster_watch(
    request: Request, cluster_id: int, on: Annotated[str, Form()] = "1",
    csrf: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    request.state.csrf_form = csrf
    who = require(request, "clusters.read")
    if not sharing(request, who).cluster_visible(cluster_id):
        raise NotFound(f"no cluster {cluster_id}")
    _store(request).watch(who.user_id, cluster_id, on == "1")
    return RedirectResponse(f"/console/clusters/{cluster_id}", status_code=303)


@router.get("/clusters", response_class=HTMLResponse)
def clusters_page(request: Request, page: int = 1) -> Response:
    """The viewer's clusters, largest first, a page at a time."""
    who = require(request, "clusters.read")
    store = _store(request)
    sh = sharing(request, who)
    sizes = visible_cluster_sizes(request, who)
    every = [cid for cid, _ in sizes]
    pages = max(1, -(-len(every) // CLUSTERS_PER_PAGE))
    page = min(max(page, 1), pages)
    ids = every[(page - 1) * CLUSTERS_PER_PAGE : page * CLUSTERS_PER_PAGE]
    overview = store.cluster_overview(ids)
    rows = []
    for cluster in visible_clusters(request, who, ids):
        o = overview[cluster.id]
        rows.append(
            {
                "cluster": cluster,
                "sources": sorted({sh.owner(s) for s in o["sources"]}),
                "countries": sorted(o["countries"]),
                "first": o["first"],
                "last": o["last"],
            }
        )
    return _render(request, "clusters.html", who, rows=rows,
                   linked_reports=sum(n for _, n in sizes), total_clusters=len(every),
                   page=page, pages=pages)  # fmt: skip


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
    docs = {ids[r]: store.report(ids[r]).document for r in raw.reports
            if sh.view(ids[r]) >= View.CONTENT}  # fmt: skip
    apks = [a for rid in docs for a in store.apk_analyses(rid) if a["status"] == "done"]
    return {
        "cluster": cluster, "members": members, "why": why, "views": views,
        "agencies": {ref: sh.owner(ref.source) for ref in raw.reports},
        "agency_list": sorted({sh.owner(ref.source) for ref in raw.reports}),
        "countries": sorted({m.country for m in members.values() if m.country}),
        "phone_regions": ring_view.phone_regions(cluster),
        "can_edit": who.can("clusters.edit"),
        "graph": ring_view.graph(cluster, ids), "money": ring_view.money_and_timeline(docs),
        "withheld": len(raw.reports) - len(docs), "apks": apks,
        "watching": cluster_id in store.watched(who.user_id),
    }  # fmt: skip


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster_page(request: Request, cluster_id: int) -> Response:
    who = require(request, "clusters.read")
    return _render(request, "cluster.html", who, **_cluster_context(request, who, cluster_id))


@router.post("/clusters/{cluster_id}/cut")
def cluster_cut(
    request: Request,
    cluster_id: int,
    key: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Stop a key from linking (an analyst's decision, audited, kept through rebuilds)."""
    request.state.csrf_form = csrf
    who = require(request, "clusters.edit")
    key_type, _, key_value = key.partition("|")
    link_key = LinkKey(key_type, key_value)
    guards.authorise_cut(sharing(request, who), cluster_id, link_key)
    _store(request).cut(link_key, reason=reason, actor=who.actor)
    return RedirectResponse(f"/console/clusters/{cluster_id}", status_code=303)


@router.post("/clusters/{cluster_id}/unrelated")
def cluster_unrelated(
    request: Request,
    cluster_id: int,
    report_a: Annotated[int, Form()] = 0,
    report_b: Annotated[int, Form()] = 0,
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Mark two reports as unrelated: the keys they share directly stop linking (audited)."""
    request.state.csrf_form = csrf
    who = require(request, "clusters.edit")
    guards.authorise_unrelated(sharing(request, who), report_a, report_b)
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
def report_by_ref(request: Request, source: str = "", external_id: str = "") -> Response:
    who = require(request, "reports.read")
    rid = guards.lookup_report(sharing(request, who), ReportRef(source, external_id))
    return RedirectResponse(f"/console/reports/{rid}", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, subject: str | None = None) -> Response:
    who = require(request, "audit.read")
    entries = _store(request).audit_entries([subject] if subject else None)
    entries = guards.visible_audit(sharing(request, who), entries)
    return _render(request, "audit.html", who, entries=list(reversed(entries))[:500],
                   subject=subject)  # fmt: skip
