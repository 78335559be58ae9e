"""The demo's agencies are partners that have confirmed every match between them, so each
reads the others' reports in shared rings under their markings (docs/access.md: without a
confirmation a match is only a hit)."""

from __future__ import annotations

from typing import Any

ACTOR = "demo:partners"


def confirm_all_matches(store: Any) -> int:
    """Every agency shares its reports in every ring it has with the other agencies there.
    Returns how many (ring, agency, partner) confirmations were made."""
    members = {cid: rids for cid, rids in store.clusters.members().items() if len(rids) > 1}
    entries = store.visibility.report_entries([r for rids in members.values() for r in rids])
    codes = store.accounts.agency_codes()
    made = 0
    for cid, rids in sorted(members.items()):
        agencies = {
            src if src in codes else store.home_agency
            for src in (entries[r][0] for r in rids if r in entries)
        }
        for agency in sorted(agencies):
            for partner in sorted(agencies - {agency}):
                store.visibility.confirm_share(cid, agency, partner, actor=ACTOR)
                made += 1
    return made
