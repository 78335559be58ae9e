"""Authorisation of state-changing actions and of lookups, decided in one place.

A route asks here before it acts. Each function takes the principal's :class:`Sharing` (what
it may see, and how much) and checks every object the action touches, not only the one in
the URL: a cut changes every report that holds the key, so the viewer must see them all;
"unrelated" cuts the keys two reports share, so the same holds for each of those keys.
Anything the viewer may not even know exists is answered as if it did not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringtrace.access.policy import View
from ringtrace.domain.models import LinkKey, ReportRef
from ringtrace.errors import Forbidden, InvalidReport, NotFound

if TYPE_CHECKING:
    from ringtrace.access.sharing import Sharing
    from ringtrace.evidence.audit import AuditEntry


def _holders_all_visible(sh: Sharing, key: LinkKey) -> bool:
    holders = list(sh.store.reports.holding([key]))
    sh.prefetch(holders)
    return all(sh.view(rid) >= View.INDICATORS for rid in holders)


def authorise_cut(sh: Sharing, cluster_id: int, key: LinkKey) -> None:
    """A cut from a ring's page: the key must be one the viewer sees in that ring, and every
    report holding it anywhere must be one whose indicators the viewer may see."""
    if not sh.cluster_visible(cluster_id):
        raise NotFound(f"no cluster {cluster_id}")
    members = sh.store.reports.ids_of(sh.store.clusters.get(cluster_id).reports)
    holders = sh.store.reports.holding([key])
    seen_here = [rid for rid in members.values() if rid in holders]
    sh.prefetch(seen_here)
    if not any(sh.view(rid) >= View.INDICATORS for rid in seen_here):
        raise NotFound(f"no such key in cluster {cluster_id}")
    if not _holders_all_visible(sh, key):
        raise Forbidden(
            "this key is also held by reports whose indicators are not shared with your "
            "agency: ask their agency to decide with you"
        )


def authorise_unrelated(sh: Sharing, report_a: int, report_b: int) -> list[LinkKey]:
    """Both reports' indicators must be visible (the keys cut are theirs), and every holder
    of each key they share. Returns those keys."""
    sh.prefetch([report_a, report_b])
    if sh.view(report_a) == View.NONE or sh.view(report_b) == View.NONE:
        raise NotFound("no such report")
    if sh.view(report_a) < View.INDICATORS or sh.view(report_b) < View.INDICATORS:
        raise Forbidden("the indicators of these reports are not shared with your agency")
    keys_a = {LinkKey(i.type, i.value) for i in sh.store.reports.get(report_a).indicators}
    keys_b = {LinkKey(i.type, i.value) for i in sh.store.reports.get(report_b).indicators}
    shared = sorted(keys_a & keys_b, key=lambda k: (k.type, k.value))
    for key in shared:
        if not _holders_all_visible(sh, key):
            raise Forbidden(
                "a key these reports share is also held by reports whose indicators are not "
                "shared with your agency: ask their agency to decide with you"
            )
    return shared


def lookup_report(sh: Sharing, ref: ReportRef) -> int:
    """A report's id by its reference, answering exactly as for a reference that does not
    exist when the viewer may not know the report exists (no existence oracle)."""
    try:
        rid = sh.store.reports.id_of(ref)
    except NotFound:
        rid = None
    if rid is None or sh.view(rid) == View.NONE:
        raise NotFound(f"no report {ref.source}/{ref.external_id}")
    return rid


def authorise_assignee(sh: Sharing, assignee: str) -> None:
    """Work is assigned only to users of the assigner's own agency."""
    if sh.store.accounts.agency_of_user(assignee) != sh.principal.agency:
        raise NotFound(f"no user {assignee} in your agency")


def instance_admin(sh: Sharing) -> bool:
    """The instance's administrator (its own role, not any admin of the home agency) sees
    every agency's audit entries."""
    return sh.principal.can("audit.read_all")


def visible_audit(sh: Sharing, entries: list[AuditEntry]) -> list[AuditEntry]:
    """The audit entries about the viewer's agency: done by its users, or about its reports
    or its users. An instance administrator sees all."""
    if instance_admin(sh):
        return entries
    agency = sh.principal.agency
    suffix = f"@{agency}"
    user_agency: dict[str, str | None] = {}
    out = []
    for e in entries:
        if e.actor.endswith(suffix):
            out.append(e)
        elif e.subject.startswith("report:"):
            source = e.subject[len("report:") :].split("/", 1)[0]
            if sh.owner(source) == agency:
                out.append(e)
        elif e.subject.startswith("user:"):
            name = e.subject[len("user:") :]
            if name not in user_agency:
                user_agency[name] = sh.store.accounts.agency_of_user(name)
            if user_agency[name] == agency:
                out.append(e)
    return out


def visible_key_holders(sh: Sharing, key: LinkKey) -> list[int]:
    """The reports holding ``key`` whose indicators the viewer may see (the identifier page,
    the key watch). None at all is answered as an unknown key: no existence oracle."""
    holders = sorted(sh.store.reports.holding([key]))
    sh.prefetch(holders)
    seen = [rid for rid in holders if sh.view(rid) >= View.INDICATORS]
    if not seen:
        raise NotFound(f"no report you may see holds {key.type} {key.value}")
    return seen


def authorise_explain(sh: Sharing, a: ReportRef, b: ReportRef) -> tuple[int, int]:
    """Both reports must be known to the viewer; the chain is then drawn with each key shown
    only where one of the two reports it joins has shared indicators."""
    return lookup_report(sh, a), lookup_report(sh, b)


def authorise_merge(sh: Sharing, cluster_a: int, cluster_b: int) -> tuple[ReportRef, ReportRef]:
    """Both rings visible, and in each a report whose indicators the viewer may see to anchor
    the decision on (a merge is recorded between two reports). Returns the two anchors."""
    anchors = []
    for cid in (cluster_a, cluster_b):
        if not sh.cluster_visible(cid):
            raise NotFound(f"no ring {cid}")
        ids = sh.store.reports.ids_of(sh.store.clusters.get(cid).reports)
        sh.prefetch(ids.values())
        mine = [ref for ref, rid in sorted(ids.items(), key=lambda x: x[1])
                if sh.view(rid) >= View.INDICATORS]  # fmt: skip
        if not mine:
            raise Forbidden(f"no report of ring {cid} is shared with your agency in detail")
        anchors.append(mine[0])
    if cluster_a == cluster_b:
        raise InvalidReport("a ring cannot be merged with itself", field="b")
    return anchors[0], anchors[1]


def authorise_suggestion(sh: Sharing, report_a: int, report_b: int) -> None:
    """A suggestion is shown, accepted or rejected only when the viewer may see both reports'
    indicators (accepting merges their rings)."""
    sh.prefetch([report_a, report_b])
    if sh.view(report_a) < View.INDICATORS or sh.view(report_b) < View.INDICATORS:
        raise NotFound("no such suggestion")


def authorise_ring_case(sh: Sharing, cluster_id: int, owner: str | None) -> None:
    """Status, tags and notes go on the viewer's agency's own case record of a ring it sees;
    an owner must be a user of that agency. Giving the ring to someone else than oneself is
    a supervisor's act (checked by the route's permission) ."""
    if not sh.cluster_visible(cluster_id):
        raise NotFound(f"no ring {cluster_id}")
    if owner:
        authorise_assignee(sh, owner)


def authorise_export(sh: Sharing, cluster_id: int) -> list[int]:
    """An export of a ring the viewer sees; it carries only what the sharing rules give the
    viewer's agency (the exporters filter per report). Returns the reports whose content the
    viewer may read (the court package holds those and no others)."""
    if not sh.cluster_visible(cluster_id):
        raise NotFound(f"no ring {cluster_id}")
    ids = sh.store.reports.ids_of(sh.store.clusters.get(cluster_id).reports)
    sh.prefetch(ids.values())
    readable = sorted(rid for rid in ids.values() if sh.view(rid) >= View.CONTENT)
    if not readable:
        raise Forbidden("no report of this ring is shared with your agency in full")
    return readable


def authorise_share(sh: Sharing, cluster_id: int, to_agency: str) -> None:
    """Confirming a hit: a ring the viewer sees, shared with another agency that holds a
    report in it (the one that matched). Only the viewer's own agency's reports are shared."""
    if not sh.cluster_visible(cluster_id):
        raise NotFound(f"no ring {cluster_id}")
    if to_agency == sh.principal.agency:
        raise InvalidReport("your agency sees its own reports already", field="agency")
    ids = sh.store.reports.ids_of(sh.store.clusters.get(cluster_id).reports)
    sh.prefetch(ids.values())
    if not any(sh.owner_of(rid) == to_agency for rid in ids.values()):
        raise NotFound(f"no report of {to_agency} in ring {cluster_id}")
