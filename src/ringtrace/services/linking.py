"""Analysts' questions and decisions about links: why two reports are together, and marking
two reports unrelated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ringtrace.domain.models import LinkKey, ReportRef
    from ringtrace.store import Store


def explain_chain(store: Store, a: ReportRef, b: ReportRef) -> list[dict[str, Any]] | None:
    """The shortest chain of shared keys (or analyst merges) from ``a`` to ``b``, each hop as
    ``{"from", "to", "key", "merge_reason"}``; None when they are not in one cluster."""
    chain = store.clusters.explain(a, b)
    if chain is None:
        return None
    refs = store.reports.refs([h.from_report for h in chain] + [h.to_report for h in chain])
    return [
        {
            "from": refs[h.from_report].to_dict(), "to": refs[h.to_report].to_dict(),
            "key": h.key.to_dict() if h.key else None, "merge_reason": h.merge_reason,
        }
        for h in chain
    ]  # fmt: skip


def mark_unrelated(
    store: Store, a: ReportRef, b: ReportRef, reason: str
) -> tuple[list[LinkKey], bool]:
    """Cut every key the two reports share directly; say whether they are still linked
    through other reports."""
    from ringtrace.services import decisions

    cut = decisions.unrelated(store, a, b, reason=reason)
    return cut, store.clusters.explain(a, b) is not None
