"""Which shared values may merge clusters: specificity instead of a hard cap.

MISP stops correlating a value after 20 matches, which would drop exactly the shared server of
a 34-victim ring. ringtrace instead asks, per link key:

1. **Type prior.** Some types are weak on their own: Android package names (rings reuse
   legitimate names). Their weight is below the threshold; they never merge.
2. **Spread.** A value held by more than ``generic_df`` reports (default 5,000) is generic
   (a popular VPN exit, a payment processor's account) rather than one ring's.
3. **Bridging payment accounts.** A payment account (bank account, IBAN, UPI, PayNow, FPS)
   whose holders fall into two or more groups that are each already linked by other,
   non-payment evidence is treated as a possible money mule serving several rings: it stays
   visible, as a suggestion, and does not merge those rings. The same account within one
   group, or joining lone reports to one group, links as usual. Infrastructure (servers,
   app links, phone numbers) is not treated this way: rings own their servers.

4. **Corroboration.** A key whose every occurrence is uncertain evidence (a number, a link
   or a name mentioned in free text, without an install or pay cue) and whose holders fall
   into ``corroborate_min_groups`` (default 3) or more groups that share nothing else (core
   components over strong evidence) is a candidate for being generic: it does not merge, it
   becomes a scored suggestion that an analyst accepts or rejects. One strong occurrence
   anywhere (a structured field, a payment, the app), or holders tied together by other
   evidence, and it links.

Keys that do not merge stay visible with the reason. docs/linking.md gives the evidence
behind each default. Both linkers apply the same rules: the online linker keeps them up to
date on every arrival, the batch linker computes them in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

PAYMENT_TYPES = frozenset({"bank_account", "iban", "upi", "paynow", "fps"})
WEAK_TYPES = {"android_package": "a weak key on its own: rings reuse legitimate app package names"}
GENERIC_PREFIX = "not specific: "


@dataclass(frozen=True)
class SpecificityModel:
    generic_df: int = 5000  # reports holding a value before it counts as generic
    bridge_min_group: int = 2  # reports a group needs to count as independently linked
    # Otherwise-unrelated groups an uncertain key may join before it needs corroboration.
    corroborate_min_groups: int = 3


DEFAULT = SpecificityModel()


def generic_reason(df: int) -> str:
    return f"{GENERIC_PREFIX}held by {df} reports, too common to identify one ring"


def bridge_reason(groups: int) -> str:
    return (
        f"{GENERIC_PREFIX}a payment account shared by {groups} otherwise unrelated groups "
        "(possible money mule): a suggested link, not a merge"
    )


def is_automatic(reason: str | None) -> bool:
    return reason is not None and reason.startswith(GENERIC_PREFIX)


UNCORROBORATED = "mentioned in passing"


def uncorroborated_reason(groups: int) -> str:
    return (
        f"{GENERIC_PREFIX}{UNCORROBORATED} (free text only) by {groups} otherwise unrelated "
        "groups of reports: a suggested link until corroborated by other evidence or an analyst"
    )


def is_uncorroborated(reason: str | None) -> bool:
    return reason is not None and reason.startswith(GENERIC_PREFIX + UNCORROBORATED)
