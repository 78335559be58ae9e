"""Server-rendered analyst pages under /console (the site root is the public report page).
Every page requires a login and shows only what the sharing rules allow (docs/access.md)."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ringtrace.access import guards
from ringtrace.access.policy import View, redact_document
from ringtrace.access.sharing import Sharing
from ringtrace.domain.models import LinkKey, ReportRef
from ringtrace.errors import NotFound
from ringtrace.services import triage_queue
from ringtrace.store.rows import report_subject
from ringtrace.web import ring as ring_view
from ringtrace.web.api import visible_cluster_ids, visible_cluster_sizes, visible_clusters
from ringtrace.web.auth import require, sharing
from ringtrace.web.dependencies import render as _render
from ringtrace.web.dependencies import store as _store
from ringtrace.web.report_view import readable

router = APIRouter(prefix="/console", include_in_schema=False)
CLUSTERS_PER_PAGE = 25
_NO_MEDIA: dict[str, list[object]] = {"lure": [], "takedown": []}


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> Response:
    """Reports per week, rings by size and money taken, open urgent reports, alerts."""
    who = require(request, "reports.read")
    store = _store(request)
    sh = sharing(request, who)
    own = sh.own_reports
    weeks: dict[str, int] = {}
    for received in store.visibility.received_times(who.agency):
        iso = received.isocalendar()
        key = f"{iso.year}-W{iso.week:02d}"
        weeks[key] = weeks.get(key, 0) + 1
    per_week = sorted(weeks.items())[-12:]
    rings = []
    for c in visible_clusters(request, who, visible_cluster_ids(request, who)[:10]):
        ids = store.reports.ids_of(c.reports)
        docs = {
            i: store.reports.get(i).document for i in ids.values() if sh.view(i) >= View.CONTENT
        }
        money = ring_view.money_and_timeline(docs)
        paid = {row["currency"]: row["paid"] for row in money["per_currency"] if row["paid_raw"]}
        rings.append({"cluster": c, "size": len(c.reports), "paid": paid})
    rings.sort(key=lambda r: -int(r["size"]))  # type: ignore[call-overload]
    queue = triage_queue.queue(store, own)
    urgent = [q for q in queue if q["crisis"] or q["score"] >= 100]
    alerts = store.alerts.for_user(who.user_id)
    # Reports that arrived holding an identifier the user watches, as far as they may see.
    news = store.casework.watched_key_news(who.user_id)
    sh.prefetch(n["report_id"] for n in news)
    news = [n for n in news if sh.view(n["report_id"]) >= View.INDICATORS][:20]
    refs = store.reports.refs([n["report_id"] for n in news]) if news else {}
    key_news = [{**n, "ref": refs[n["report_id"]]} for n in news]
    return _render(request, "dashboard.html", who, per_week=per_week,
                   max_week=max([n for _, n in per_week] or [1]), rings=rings[:10],
                   urgent=urgent[:10], open_count=len(queue), alerts=alerts,
                   urgent_ids={q["id"] for q in queue if q["alert"]},
                   key_news=key_news)  # fmt: skip


@router.post("/alerts/seen")
def alerts_seen(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    request.state.csrf_form = csrf
    who = require(request, "reports.read")
    _store(request).alerts.mark_seen(who.user_id)
    return RedirectResponse("/console/", status_code=303)


TRIAGE_PER_PAGE = 50


TRIAGE_SORTS = ("urgency", "newest", "oldest")


@router.get("/triage", response_class=HTMLResponse)
def triage_page(
    request: Request, show: str = "open", mine: str = "", page: int = 1, sort: str = "urgency"
) -> Response:  # fmt: skip
    """The agency's reports, most urgent first (or by date), with why; a page at a time."""
    who = require(request, "triage.work")
    sh = sharing(request, who)
    queue = triage_queue.queue(_store(request), sh.own_reports, include_done=show == "all")
    if mine:
        queue = [q for q in queue if q["assignee"] == who.username]
    sort = sort if sort in TRIAGE_SORTS else "urgency"
    if sort != "urgency":  # the queue comes most urgent first
        queue.sort(key=lambda q: (q["received_at"], q["id"]), reverse=sort == "newest")
    pages = max(1, -(-len(queue) // TRIAGE_PER_PAGE))
    page = min(max(page, 1), pages)
    can_assign = who.can("triage.assign")
    return _render(request, "triage.html", who, total=len(queue),
                   queue=queue[(page - 1) * TRIAGE_PER_PAGE : page * TRIAGE_PER_PAGE],
                   show=show, mine=mine, page=page, pages=pages, can_assign=can_assign,
                   users=_store(request).accounts.agency_users(who.agency) if can_assign else [],
                   sort=sort, sorts=TRIAGE_SORTS,
                   query=urlencode({"show": show, "mine": mine, "sort": sort}))  # fmt: skip


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
        store.triage.set(report_id, status="in_progress", assignee=who.username, actor=who.actor)
    elif action == "assign":
        require(request, "triage.assign")
        guards.authorise_assignee(sharing(request, who), assignee)
        store.triage.set(report_id, assignee=assignee, actor=who.actor)
    elif action in ("done", "new", "in_progress", "referred"):
        store.triage.set(report_id, status=action, actor=who.actor)
    else:
        raise NotFound(f"no action {action}")
    return RedirectResponse("/console/triage", status_code=303)


SEARCH_PER_PAGE = 50


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", page: int = 1) -> Response:
    """Pivot: any identifier, as a victim might have written it, normalised by the extractor;
    or a report's reference (SOURCE/ID or the ID alone)."""
    who = require(request, "reports.read")
    keys = _search_keys(q) if q.strip() else []
    store = _store(request)
    sh = sharing(request, who)
    by_ref = _reference_hits(sh, q.strip()) if q.strip() else []
    held = store.reports.holding(keys) if keys else {}
    sh.prefetch(held)
    visible = [rid for rid in sorted(held) if sh.view(rid) >= View.INDICATORS]
    pages = max(1, -(-len(visible) // SEARCH_PER_PAGE))
    page = min(max(page, 1), pages)
    hits = []
    shown = visible[(page - 1) * SEARCH_PER_PAGE : page * SEARCH_PER_PAGE]
    summaries = store.reports.summaries(shown)  # no document is opened for a list
    for rid in shown:
        s = summaries[rid]
        hits.append({"id": rid, "ref": s.ref, "matched": held[rid], "agency": sh.owner_of(rid),
                     "cluster_id": s.cluster_id if s.cluster_size > 1 else None,
                     "cluster_size": s.cluster_size})  # fmt: skip
    return _render(request, "search.html", who, q=q, keys=keys, hits=hits, by_ref=by_ref,
                   total=len(visible), page=page, pages=pages,
                   query=urlencode({"q": q}))  # fmt: skip


def _reference_hits(sh: Sharing, q: str) -> list[int]:
    """Reports whose reference is ``q`` (SOURCE/ID, or an ID under any source) that the
    viewer may know exist; no other answer for those it may not."""
    if len(q) > 200 or any(c.isspace() for c in q):
        return []
    candidates = [ReportRef(*q.split("/", 1))] if "/" in q else []
    candidates += [ReportRef(src, q) for src in sorted(sh.store.accounts.agency_codes())]
    found = []
    for ref in candidates:
        try:
            found.append(guards.lookup_report(sh, ref))
        except NotFound:
            continue
    return sorted(set(found))


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


def _ring_matches(sh: Sharing, overview: dict[str, Any], country: str, agency: str) -> bool:
    if country and country.upper() not in overview["countries"]:
        return False
    return not agency or agency in {sh.owner(x) for x in overview["sources"]}


@router.get("/clusters", response_class=HTMLResponse)
def clusters_page(
    request: Request, page: int = 1, sort: str = "size", status: str = "", country: str = "",
    agency: str = "",
) -> Response:  # fmt: skip
    """The viewer's rings, a page at a time: sorted by size or by latest report, filtered by
    the agency's case status, a reporter's country or an agency."""
    who = require(request, "clusters.read")
    store = _store(request)
    sh = sharing(request, who)
    sizes = visible_cluster_sizes(request, who)
    statuses = store.casework.ring_statuses(who.agency)
    every = [cid for cid, _ in sizes if not status or statuses.get(cid, "new") == status]
    if sort == "recent" or country or agency:
        overview_all = store.clusters.overview(every)
        if country or agency:
            every = [c for c in every if _ring_matches(sh, overview_all[c], country, agency)]
        if sort == "recent":
            every.sort(key=lambda c: overview_all[c]["last"], reverse=True)
    pages = max(1, -(-len(every) // CLUSTERS_PER_PAGE))
    page = min(max(page, 1), pages)
    ids = every[(page - 1) * CLUSTERS_PER_PAGE : page * CLUSTERS_PER_PAGE]
    overview = store.clusters.overview(ids)
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
                "status": statuses.get(cluster.id, "new"),
            }
        )
    order = {cid: n for n, cid in enumerate(ids)}
    rows.sort(key=lambda r: order[r["cluster"].id])
    query = urlencode({k: v for k, v in (("sort", sort), ("status", status), ("country", country),
                                         ("agency", agency)) if v})  # fmt: skip
    return _render(request, "clusters.html", who, rows=rows,
                   linked_reports=sum(n for _, n in sizes), total_clusters=len(every),
                   page=page, pages=pages, sort=sort, status=status, country=country,
                   agency=agency, query=query)  # fmt: skip


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: int) -> Response:
    """A report as a person reads it (web/report_view.py), as much as the viewer may see."""
    who = require(request, "reports.read")
    sh = sharing(request, who)
    view = sh.view(report_id)
    if view == View.NONE:
        raise NotFound(f"no report {report_id}")
    store = _store(request)
    detail = store.reports.get(report_id)
    document = redact_document(detail.document, view)
    if view >= View.CONTENT:
        store.audit.record("report.view", report_subject(detail.summary.ref),
                     {"access": view.name.lower(), "via": "console"}, actor=who.actor)  # fmt: skip
    story = readable(document, detail.indicators) if document else None
    urgency = None
    if view >= View.FULL:  # triage reasons are for the report's own agency
        from ringtrace.triage.urgency import assess

        s = detail.summary
        urgency = assess(detail.document, in_ring=s.cluster_size > 1, received_at=s.received_at)
    return _render(
        request, "report.html", who, d=detail, document=document, view=view.name.lower(),
        show_indicators=view >= View.INDICATORS, show_content=view >= View.CONTENT,
        agency=sh.owner_of(report_id), story=story, urgency=urgency,
        raw=json.dumps(document, ensure_ascii=False, indent=2) if document else "",
        media=store.media.for_report(report_id) if view >= View.CONTENT else _NO_MEDIA,
        apks=store.apk.analyses(report_id) if view >= View.CONTENT else [],
    )  # fmt: skip


@router.get("/report", response_class=HTMLResponse)
def report_by_ref(request: Request, source: str = "", external_id: str = "") -> Response:
    who = require(request, "reports.read")
    rid = guards.lookup_report(sharing(request, who), ReportRef(source, external_id))
    return RedirectResponse(f"/console/reports/{rid}", status_code=303)


AUDIT_PER_PAGE = 100


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, subject: str | None = None, action: str = "", page: int = 1,
    sort: str = "newest",
) -> Response:  # fmt: skip
    """The audit entries about the viewer's agency, newest first (or oldest), a page at a
    time."""
    who = require(request, "audit.read")
    entries = _store(request).audit.entries([subject] if subject else None)
    entries = guards.visible_audit(sharing(request, who), entries)
    sort = "oldest" if sort == "oldest" else "newest"
    if sort == "newest":
        entries = list(reversed(entries))
    actions = sorted({e.action for e in entries})
    if action:
        entries = [e for e in entries if e.action == action]
    pages = max(1, -(-len(entries) // AUDIT_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = entries[(page - 1) * AUDIT_PER_PAGE : page * AUDIT_PER_PAGE]
    query = urlencode(
        {k: v for k, v in (("subject", subject), ("action", action), ("sort", sort)) if v}
    )
    return _render(request, "audit.html", who, entries=shown, subject=subject, action=action,
                   sort=sort,
                   actions=actions, page=page, pages=pages, total=len(entries),
                   query=query)  # fmt: skip
