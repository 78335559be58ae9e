"""The rules, as pure functions, so every page and API route applies the same ones.

Roles (each includes what the ones before it may do, except where noted):
- ``victim_support``: the triage queue and their agency's reports, contact details included,
  to help victims; clusters read-only.
- ``analyst``: also edits clusters (merge, cut, unrelated, suggestions) and downloads
  evidence.
- ``supervisor``: also assigns triage work to others and reads the audit log.
- ``admin``: also manages users and tokens.
- ``instance_admin``: an admin who also reads every agency's audit entries (the operator of
  the instance; ``ringtrace init`` makes the first user one). Every other role reads only
  the entries about its own agency.

Sharing between agencies (TLP 2.0 and the reporter's consent):
- An agency sees all of its own reports.
- A report of another agency is visible only when it sits in a cluster with one of the
  viewer's own reports (a shared ring). Then:
  - if its agency did not share it with the viewer (it did not submit it into a ring the
    viewer was already in, and did not confirm the match): only that it exists and whose it
    is (a hit), whatever its marking;
  - TLP CLEAR, GREEN or AMBER: its indicators are shared. Its content (narrative, messages,
    payments, attachments) is shared only if the reporter consented to sharing.
  - TLP AMBER+STRICT or RED: only the fact that such a report is linked, and its agency;
    nothing from inside it.
- The reporter's own contact details never leave their agency.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

ROLES = ("victim_support", "analyst", "supervisor", "admin", "instance_admin")
_ADMINS = frozenset({"admin", "instance_admin"})
SHAREABLE_TLP = frozenset({"clear", "green", "amber"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "reports.read": frozenset(ROLES),
    "reports.write": frozenset(ROLES),
    "clusters.read": frozenset(ROLES),
    "triage.work": frozenset(ROLES),
    "clusters.edit": frozenset({"analyst", "supervisor"}) | _ADMINS,
    "evidence.download": frozenset({"analyst", "supervisor"}) | _ADMINS,
    "triage.assign": frozenset({"supervisor"}) | _ADMINS,
    "audit.read": frozenset({"supervisor"}) | _ADMINS,
    "audit.read_all": frozenset({"instance_admin"}),
    "users.manage": _ADMINS,
}


@dataclass(frozen=True)
class Principal:
    """An authenticated user (by session or API token)."""

    user_id: int
    username: str
    role: str
    agency: str  # agency code
    via: str  # "session" | "token" | "cli"
    csrf_token: str | None = None

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    @property
    def actor(self) -> str:
        return f"user:{self.username}@{self.agency}"


class View(IntEnum):
    """How much of one report a viewer may see."""

    NONE = 0  # not even that it exists
    EXISTS = 1  # that it exists, its agency, date and marking
    INDICATORS = 2  # plus its indicators (link keys)
    CONTENT = 3  # plus its content, without the reporter's contact details
    FULL = 4  # everything (own agency)


def report_view(
    viewer_agency: str,
    owner_agency: str,
    tlp: str,
    consent_share: bool,
    shared_cluster: bool,
    *,
    shared_by_owner: bool,
) -> View:
    """``shared_by_owner``: the owning agency put this report into the viewer's ring itself
    (it held a key a report of the viewer's agency already held) or confirmed the match.
    Without that, a shared ring is a hit: the viewer learns the report exists and whose it
    is, and nothing from inside it (the viewer's own report joining the ring widens nothing)."""
    if viewer_agency == owner_agency:
        return View.FULL
    if not shared_cluster:
        return View.NONE
    if tlp not in SHAREABLE_TLP or not shared_by_owner:
        return View.EXISTS
    return View.CONTENT if consent_share else View.INDICATORS


def redact_document(document: dict[str, Any], view: View) -> dict[str, Any] | None:
    """The part of a stored document a viewer with ``view`` may read."""
    if view >= View.FULL:
        return document
    if view < View.CONTENT:
        return None
    out = dict(document)
    reporter = out.get("reporter")
    if isinstance(reporter, dict):
        out["reporter"] = {k: v for k, v in reporter.items() if k in ("country", "language")}
    return out
