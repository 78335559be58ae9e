"""The analyst's ring pages: the ring itself, why two reports are in it (explain), and the
decisions on it (cut, unrelated, merge, suggestions), each previewed before it is confirmed
and followed to the ring(s) that result. Reads go through Sharing; every state change asks
access/guards.py about every object it touches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ringtrace.access import guards
from ringtrace.access.policy import Principal, View
from ringtrace.access.sharing import Sharing
from ringtrace.domain.models import LinkKey, ReportRef
from ringtrace.errors import InvalidReport, NotFound
from ringtrace.linking.clusters import reasons_for
from ringtrace.linking.split import parts_without
from ringtrace.services import decisions
from ringtrace.store import Store
from ringtrace.web import ring as ring_view
from ringtrace.web.auth import require, sharing
from ringtrace.web.dependencies import render as _render
from ringtrace.web.dependencies import store as _store

router = APIRouter(prefix="/console", include_in_schema=False)


def _key(text: str) -> LinkKey:
    key_type, sep, value = text.partition("|")
    if not sep or not key_type or not value:
        raise InvalidReport("give a key as TYPE|VALUE", field="key")
    return LinkKey(key_type, value)


def _ref(text: str) -> ReportRef:
    source, sep, external_id = text.partition("/")
    if not sep or not source or not external_id:
        raise InvalidReport("give a report as SOURCE/ID", field="report")
    return ReportRef(source, external_id)


def ring_context(
    request: Request, who: Principal, cluster_id: int, tz: str | None = None
) -> dict[str, Any]:
    sh = sharing(request, who)
    if not sh.cluster_visible(cluster_id):
        raise NotFound(f"no ring {cluster_id}")
    store = _store(request)
    raw = store.clusters.get(cluster_id)
    ids = store.reports.ids_of(raw.reports)
    cluster = sh.filter_cluster(raw, ids)
    members = {m.ref: m for m in store.reports.page(cluster_id=cluster_id, limit=100_000)}
    views = {ref: sh.view(ids[ref]).name.lower() for ref in raw.reports}
    docs = {ids[r]: store.reports.get(ids[r]).document for r in raw.reports
            if sh.view(ids[r]) >= View.CONTENT}  # fmt: skip
    apks = [a for rid in docs for a in store.apk.analyses(rid) if a["status"] == "done"]
    agencies = {ref: sh.owner(ref.source) for ref in raw.reports}
    names = {rid: ref.external_id for ref, rid in ids.items()}
    dates = {ref: m.received_at.strftime("%Y-%m-%d") for ref, m in members.items()}
    restricted = {ref for ref in raw.reports if sh.view(ids[ref]) < View.INDICATORS}
    graph = ring_view.graph(cluster, ids, agencies=agencies, dates=dates, restricted=restricted)
    return {
        "cluster": cluster, "members": members, "why": reasons_for(cluster), "views": views,
        "ids": ids, "agencies": agencies, "agency_list": sorted(set(agencies.values())),
        "countries": sorted({m.country for m in members.values() if m.country}),
        "phone_regions": ring_view.phone_regions(cluster),
        "can_edit": who.can("clusters.edit"), "can_assign": who.can("triage.assign"),
        "can_export": who.can("evidence.download"),
        "graph": graph, "groups": sorted({n["data"]["group"] for n in graph["nodes"]}),
        "group_names": ring_view.GROUP_NAMES,
        "money": ring_view.money_and_timeline(docs, names, tz), "time_zones": ring_view.TIME_ZONES,
        "withheld": len(raw.reports) - len(docs), "apks": apks,
        "watching": cluster_id in store.alerts.watched(who.user_id),
        "case": store.casework.ring_case(cluster_id, who.agency),
        "notes": store.casework.notes(cluster_id, who.agency),
        "agency_users": store.accounts.agency_users(who.agency),
        "statuses": ("new", "investigating", "referred", "closed"),
        # Hits: agencies whose reports here the viewer may only know exist (to ask them);
        # partners: those the viewer's agency may share its own reports here with.
        "hits": sorted({agencies[r] for r in raw.reports if views[r] == "exists"}),
        "partners": sorted(set(agencies.values()) - {who.agency}),
    }  # fmt: skip


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def ring_page(
    request: Request, cluster_id: int, tz: str = "UTC", split: int = 0, parts: str = ""
) -> Response:
    who = require(request, "clusters.read")
    context = ring_context(request, who, cluster_id, tz)
    # After a cut or "unrelated": where the ring's other parts went (ids the viewer may see).
    sh = sharing(request, who)
    others = [int(p) for p in parts.split(",") if p.isdigit()][:50]
    context["split_from"] = split or None
    context["other_parts"] = [
        {"id": c.id, "size": len(c.reports)}
        for c in _store(request).clusters.many([p for p in others if sh.cluster_visible(p)])
        if c.id != cluster_id
    ]
    return _render(request, "cluster.html", who, **context)


@router.get("/timeline/{cluster_id}", response_class=HTMLResponse)
def ring_timeline(request: Request, cluster_id: int, tz: str = "UTC") -> Response:
    """The ring's story alone, in the chosen time zone."""
    who = require(request, "clusters.read")
    return _render(request, "timeline.html", who, **ring_context(request, who, cluster_id, tz))


@router.post("/clusters/{cluster_id}/watch")
def ring_watch(
    request: Request, cluster_id: int, on: Annotated[str, Form()] = "1",
    csrf: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    request.state.csrf_form = csrf
    who = require(request, "clusters.read")
    if not sharing(request, who).cluster_visible(cluster_id):
        raise NotFound(f"no ring {cluster_id}")
    _store(request).alerts.watch(who.user_id, cluster_id, on == "1")
    return RedirectResponse(f"/console/clusters/{cluster_id}", status_code=303)


def _preview(sh: Sharing, store: Store, cluster_id: int, removed: list[LinkKey]) -> dict[str, Any]:
    """What the ring would become without ``removed``: its parts, each named by the viewer's
    view of its reports (a report the viewer may not read is counted, not named)."""
    raw = store.clusters.get(cluster_id)
    ids = store.reports.ids_of(raw.reports)
    rows, merges = store.clusters.ring_keys(cluster_id)
    parts = parts_without(ids.values(), rows, removed, merges)
    refs = {rid: ref for ref, rid in ids.items()}
    out = []
    for part in parts:
        named = [{"id": rid, "ref": refs[rid].external_id} for rid in part
                 if sh.view(rid) >= View.INDICATORS]  # fmt: skip
        out.append({"size": len(part), "named": named[:40], "more": len(part) - len(named[:40])})
    return {"parts": out, "splits": len(parts) > 1}


def _landing(sh: Sharing, store: Store, before: list[int], old: int) -> str:
    """The ring page that follows a decision: the ring now holding most of the reports the
    viewer saw before, with the other parts listed (the old id may be gone)."""
    now = store.clusters.assignments()
    counts: dict[int, int] = {}
    for rid in before:
        cid = now.get(rid, rid)
        counts[cid] = counts.get(cid, 0) + 1
    sizes = dict(store.clusters.ids(min_size=2))
    rings = sorted((c for c in counts if c in sizes and sh.cluster_visible(c)),
                   key=lambda c: (-counts[c], c))  # fmt: skip
    if not rings:
        return f"/console/?split={old}"
    rest = ",".join(str(c) for c in rings[1:20])
    return f"/console/clusters/{rings[0]}?split={old}" + (f"&parts={rest}" if rest else "")


@router.get("/clusters/{cluster_id}/cut", response_class=HTMLResponse)
def cut_preview(request: Request, cluster_id: int, key: str = "") -> Response:
    """What a cut would split, before it is confirmed."""
    who = require(request, "clusters.edit")
    sh = sharing(request, who)
    link_key = _key(key)
    guards.authorise_cut(sh, cluster_id, link_key)
    store = _store(request)
    holders = store.reports.holding([link_key])
    return _render(request, "decide.html", who, action="cut", cluster_id=cluster_id,
                   key=link_key, holders=len(holders),
                   preview=_preview(sh, store, cluster_id, [link_key]))  # fmt: skip


@router.post("/clusters/{cluster_id}/cut")
def ring_cut(
    request: Request,
    cluster_id: int,
    key: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Stop a key from linking (an analyst's decision, audited, kept through rebuilds), then
    go to the ring that holds most of this one's reports."""
    request.state.csrf_form = csrf
    who = require(request, "clusters.edit")
    link_key = _key(key)
    sh = sharing(request, who)
    guards.authorise_cut(sh, cluster_id, link_key)
    store = _store(request)
    before = list(store.reports.ids_of(store.clusters.get(cluster_id).reports).values())
    decisions.cut(store, link_key, reason=reason, actor=who.actor)
    return RedirectResponse(_landing(sharing(request, who), store, before, cluster_id), 303)


@router.get("/clusters/{cluster_id}/unrelated", response_class=HTMLResponse)
def unrelated_preview(request: Request, cluster_id: int, a: int = 0, b: int = 0) -> Response:
    who = require(request, "clusters.edit")
    sh = sharing(request, who)
    if not sh.cluster_visible(cluster_id):
        raise NotFound(f"no ring {cluster_id}")
    shared = guards.authorise_unrelated(sh, a, b)
    store = _store(request)
    refs = store.reports.refs([a, b])
    return _render(request, "decide.html", who, action="unrelated", cluster_id=cluster_id,
                   a=a, b=b, ref_a=refs[a], ref_b=refs[b], shared=shared,
                   preview=_preview(sh, store, cluster_id, shared))  # fmt: skip


@router.post("/clusters/{cluster_id}/unrelated")
def ring_unrelated(
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
    sh = sharing(request, who)
    guards.authorise_unrelated(sh, report_a, report_b)
    store = _store(request)
    before = (list(store.reports.ids_of(store.clusters.get(cluster_id).reports).values())
              if sh.cluster_visible(cluster_id) else [report_a, report_b])  # fmt: skip
    refs = store.reports.refs([report_a, report_b])
    decisions.unrelated(store, refs[report_a], refs[report_b], reason=reason, actor=who.actor)
    return RedirectResponse(_landing(sharing(request, who), store, before, cluster_id), 303)


@router.get("/explain", response_class=HTMLResponse)
def explain_page(request: Request, a: str = "", b: str = "") -> Response:
    """The chain of shared keys (and merges) that puts two reports in one ring."""
    who = require(request, "reports.read")
    sh = sharing(request, who)
    ref_a, ref_b = _ref(a), _ref(b)
    ra, rb = guards.authorise_explain(sh, ref_a, ref_b)
    store = _store(request)
    chain = store.clusters.explain(ref_a, ref_b)
    steps = []
    if chain:
        refs = store.reports.refs([h.from_report for h in chain] + [h.to_report for h in chain])
        for h in chain:
            # A key is shown only where a report it joins has shared indicators.
            shown = h.key is not None and (sh.view(h.from_report) >= View.INDICATORS
                                           or sh.view(h.to_report) >= View.INDICATORS)  # fmt: skip
            steps.append({"from_id": h.from_report, "from": refs[h.from_report],
                          "to_id": h.to_report, "to": refs[h.to_report],
                          "key": h.key if shown else None, "merge": h.merge_reason,
                          "withheld": h.key is not None and not shown})  # fmt: skip
    cid = store.reports.get(ra).summary.cluster_id
    return _render(request, "explain.html", who, ref_a=ref_a, ref_b=ref_b, a_id=ra, b_id=rb,
                   chain=chain, steps=steps, cluster_id=cid)  # fmt: skip


@router.get("/merge", response_class=HTMLResponse)
def merge_preview(request: Request, a: int = 0, b: int = 0) -> Response:
    who = require(request, "clusters.edit")
    sh = sharing(request, who)
    anchor_a, anchor_b = guards.authorise_merge(sh, a, b)
    rings = _store(request).clusters.many([a, b])
    return _render(request, "decide.html", who, action="merge", a=a, b=b,
                   sizes={c.id: len(c.reports) for c in rings},
                   anchor_a=anchor_a, anchor_b=anchor_b)  # fmt: skip


@router.post("/merge")
def merge_rings(
    request: Request,
    a: Annotated[int, Form()] = 0,
    b: Annotated[int, Form()] = 0,
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Join two rings for a reason (audited; kept through rebuilds)."""
    request.state.csrf_form = csrf
    who = require(request, "clusters.edit")
    anchor_a, anchor_b = guards.authorise_merge(sharing(request, who), a, b)
    cid = decisions.merge(_store(request), anchor_a, anchor_b, reason=reason, actor=who.actor)
    return RedirectResponse(f"/console/clusters/{cid}?merged={a},{b}", status_code=303)


def _script(doc: dict[str, Any] | None) -> str:
    if not doc:
        return ""
    return "\n".join(str(m.get("text", "")) for m in doc.get("messages", []) or []
                     if isinstance(m, dict) and m.get("from") == "offender")  # fmt: skip


def _side(sh: Sharing, store: Store, rid: int) -> dict[str, Any]:
    d = store.reports.get(rid)
    view = sh.view(rid)
    return {"id": rid, "ref": d.summary.ref, "agency": sh.owner_of(rid),
            "ring": d.summary.cluster_id if d.summary.cluster_size > 1 else None,
            "ring_size": d.summary.cluster_size,
            "script": _script(d.document) if view >= View.CONTENT else None,
            "lures": [m["pdq"] for m in store.media.for_report(rid)["lure"]]
            if view >= View.CONTENT else []}  # fmt: skip


def _bridges(sh: Sharing, store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """Uncorroborated links: keys whose cut alone would split a ring the viewer sees (the
    ring hangs on that one key there). Rings of up to 300 reports are examined."""
    out: list[dict[str, Any]] = []
    for cid, size in store.clusters.ids(min_size=2):
        if not sh.cluster_visible(cid) or size > 300:
            continue
        raw = store.clusters.get(cid)
        ids = store.reports.ids_of(raw.reports)
        rows, merges = store.clusters.ring_keys(cid)
        for lk in sh.filter_cluster(raw, ids).links:
            parts = parts_without(ids.values(), rows, [lk.key], merges)
            if len(parts) > 1:
                out.append({"ring": cid, "size": size, "key": lk.key,
                            "splits_off": size - len(parts[0]),
                            "holders": len(lk.reports)})  # fmt: skip
        if len(out) >= limit:
            break
    return out[:limit]


@router.get("/suggestions", response_class=HTMLResponse)
def suggestions_page(request: Request, show: str = "open") -> Response:
    """Weak signals for a person to judge: near-duplicate scripts and shared lure images
    across rings, and links that hang on one uncorroborated key."""
    who = require(request, "clusters.read")
    sh = sharing(request, who)
    store = _store(request)
    items = []
    for s in store.suggestions.find(status=None if show == "all" else "open"):
        ra, rb = (
            store.reports.id_of(ReportRef(**s["a"])),
            store.reports.id_of(ReportRef(**s["b"])),
        )
        try:
            guards.authorise_suggestion(sh, ra, rb)
        except NotFound:
            continue
        items.append({**s, "left": _side(sh, store, ra), "right": _side(sh, store, rb)})
    return _render(request, "suggestions.html", who, items=items[:100], show=show,
                   bridges=_bridges(sh, store), can_edit=who.can("clusters.edit"))  # fmt: skip


@router.post("/suggestions/{suggestion_id}")
def suggestion_decide(
    request: Request,
    suggestion_id: int,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Accept (merge the two rings) or reject a suggestion, with a reason; audited."""
    request.state.csrf_form = csrf
    who = require(request, "clusters.edit")
    sh = sharing(request, who)
    store = _store(request)
    found = [s for s in store.suggestions.find(status=None) if s["id"] == suggestion_id]
    if not found or decision not in ("accept", "reject"):
        raise NotFound(f"no suggestion {suggestion_id}")
    ra = store.reports.id_of(ReportRef(**found[0]["a"]))
    rb = store.reports.id_of(ReportRef(**found[0]["b"]))
    guards.authorise_suggestion(sh, ra, rb)
    decisions.decide_suggestion(store, suggestion_id, accept=decision == "accept", reason=reason,
                            actor=who.actor)  # fmt: skip
    if decision == "accept":
        cid = store.reports.get(ra).summary.cluster_id
        return RedirectResponse(f"/console/clusters/{cid}?accepted={suggestion_id}", 303)
    return RedirectResponse("/console/suggestions", status_code=303)
