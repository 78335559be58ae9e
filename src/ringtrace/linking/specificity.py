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
   components over strong evidence), or into two or more rings each linked by strong
   evidence (a passing mention never merges two rings), is a candidate for being generic:
   it does not merge, it becomes a scored suggestion that an analyst accepts or rejects.
   One strong occurrence anywhere (a structured field, a payment, the app), or holders tied
   together by other evidence, and it links.

5. **Outvoted cues.** A free-text cue ("install from", "pay into") makes a link strong, but
   cues are read from run-on text and get it wrong; a crowd value (a tutorial, a support
   group, an exchange) then gets a strong row from one victim's sentence and would link
   every holder. So a key whose strength rests only on such cues (no structured field,
   payment, app or analyst) in fewer than half of its holders, held by
   ``corroborate_min_groups`` or more reports, is outvoted: its rows count as uncertain,
   and rule 4 decides. A ring's own link is described with a cue by most of its victims.
   The strength each row then has is stored (``indicators.strong``; the extracted cue in
   ``cue_strong``), so everything below reads one column.

Keys that do not merge stay visible with the reason. docs/linking.md gives the evidence
behind each default.

This module is the one definition of the rules. Each rule is a pure predicate in Python
(used by the online linker, ``store/components.py``) and the same predicate as a SQL
expression (``sql_*``, used by the batch steps in ``linking/batch.py`` for DuckDB and
Spark); a test evaluates both on the same inputs. Thresholds live only in
:class:`SpecificityModel`, and the precedence of the reasons only in :func:`status`.
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


# -- the rules, in Python and as SQL -------------------------------------------------------


def is_generic(holders: int, model: SpecificityModel = DEFAULT) -> bool:
    """A value held by more than ``generic_df`` reports is generic, not one ring's."""
    return holders > model.generic_df


def sql_is_generic(holders: str, model: SpecificityModel = DEFAULT) -> str:
    return f"({holders}) > {int(model.generic_df)}"


def is_core_evidence(key_type: str, strong: bool) -> bool:
    """A row that joins the core components: strong evidence of a non-payment key."""
    return strong and key_type not in PAYMENT_TYPES


def sql_is_core_evidence(key_type: str, strong: str) -> str:
    return f"({strong}) AND {key_type} NOT IN ({sql_in(PAYMENT_TYPES)})"


def needs_corroboration(
    strong_rows: int, groups: int, model: SpecificityModel = DEFAULT, large_groups: int = 0
) -> bool:
    """A key with no strong row whose holders fall into ``corroborate_min_groups`` or more
    core groups (a report outside every core component is a group of its own), or into two
    or more large ones (``large_groups``: rings each linked by strong evidence, which a value
    mentioned in passing does not merge)."""
    return strong_rows == 0 and (groups >= model.corroborate_min_groups or large_groups >= 2)


def sql_needs_corroboration(
    strong_rows: str, groups: str, model: SpecificityModel = DEFAULT, large_groups: str = "0"
) -> str:
    return (
        f"({strong_rows}) = 0 AND (({groups}) >= {int(model.corroborate_min_groups)} "
        f"OR ({large_groups}) >= 2)"
    )


def outvoted(
    firm_holders: int, cue_holders: int, holders: int, model: SpecificityModel = DEFAULT
) -> bool:
    """A key strong only by free-text cues, in fewer than half of its holders (held by
    ``corroborate_min_groups`` or more): its cue rows count as uncertain."""
    return (
        firm_holders == 0
        and cue_holders > 0
        and 2 * cue_holders < holders
        and holders >= model.corroborate_min_groups
    )


def sql_outvoted(
    firm_holders: str, cue_holders: str, holders: str, model: SpecificityModel = DEFAULT
) -> str:
    return (
        f"(({firm_holders}) = 0 AND ({cue_holders}) > 0 AND 2 * ({cue_holders}) < ({holders}) "
        f"AND ({holders}) >= {int(model.corroborate_min_groups)})"
    )


def is_large_group(size: int, model: SpecificityModel = DEFAULT) -> bool:
    """A core group large enough to count as a ring linked by other evidence."""
    return size >= model.bridge_min_group


def sql_is_large_group(size: str, model: SpecificityModel = DEFAULT) -> str:
    return f"({size}) >= {int(model.bridge_min_group)}"


def bridges(key_type: str, large_groups: int) -> bool:
    """A payment account held in two or more large core groups: a possible mule account."""
    return key_type in PAYMENT_TYPES and large_groups >= 2


def sql_bridges(key_type: str, large_groups: str) -> str:
    return f"{key_type} IN ({sql_in(PAYMENT_TYPES)}) AND ({large_groups}) >= 2"


def sql_in(values: frozenset[str] | set[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))


def status(
    key_type: str,
    holders: int,
    strong_rows: int,
    groups: int,
    large_groups: int,
    model: SpecificityModel = DEFAULT,
    mention_large_groups: int = 0,
) -> str | None:
    """The automatic status of a key (None: it links), from how many reports hold it, how
    many of its rows are strong, and how many core groups (and large ones) its holders are
    in. The batch linker applies the same order: generic, then uncorroborated, then
    bridging."""
    if is_generic(holders, model):
        return generic_reason(holders)
    if needs_corroboration(strong_rows, groups, model, mention_large_groups):
        return uncorroborated_reason(groups)
    if bridges(key_type, large_groups):
        return bridge_reason(large_groups)
    return None


def reason(kind: str, n: int) -> str:
    """The reason text of a status the batch linker computed (``kind`` as in its
    ``rt_statuses`` table)."""
    return {
        "generic": generic_reason,
        "uncorroborated": uncorroborated_reason,
        "bridge": bridge_reason,
    }[kind](n)


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
