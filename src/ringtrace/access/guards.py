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
from ringtrace.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from ringtrace.access.sharing import Sharing
    from ringtrace.evidence.audit import AuditEntry


def _holders_all_visible(sh: Sharing, key: LinkKey) -> bool:
    holders = list(sh.store.reports_with_keys([key]))
    sh.prefetch(holders)
    return all(sh.view(rid) >= View.INDICATORS for rid in holders)


def authorise_cut(sh: Sharing, cluster_id: int, key: LinkKey) -> None:
    """A cut from a ring's page: the key must be one the viewer sees in that ring, and every
    report holding it anywhere must be one whose indicators the viewer may see."""
    if not sh.cluster_visible(cluster_id):
        raise NotFound(f"no cluster {cluster_id}")
    members = sh.store.ids_of(sh.store.cluster(cluster_id).reports)
    holders = sh.store.reports_with_keys([key])
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
    keys_a = {LinkKey(i.type, i.value) for i in sh.store.report(report_a).indicators}
    keys_b = {LinkKey(i.type, i.value) for i in sh.store.report(report_b).indicators}
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
        rid = sh.store.report_id(ref)
    except NotFound:
        rid = None
    if rid is None or sh.view(rid) == View.NONE:
        raise NotFound(f"no report {ref.source}/{ref.external_id}")
    return rid


def authorise_assignee(sh: Sharing, assignee: str) -> None:
    """Work is assigned only to users of the assigner's own agency."""
    if sh.store.agency_of_user(assignee) != sh.principal.agency:
        raise NotFound(f"no user {assignee} in your agency")


def instance_admin(sh: Sharing) -> bool:
    """An admin of the agency running the instance sees every agency's audit entries."""
    return sh.principal.role == "admin" and sh.principal.agency == sh.store.home_agency


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
                user_agency[name] = sh.store.agency_of_user(name)
            if user_agency[name] == agency:
                out.append(e)
    return out
