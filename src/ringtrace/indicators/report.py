"""Turning a whole report into indicators with provenance."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence

from ringtrace.domain.models import Indicator, LinkKey, Occurrence
from ringtrace.indicators.registry import (
    Candidate,
    Context,
    identifier_normaliser_for,
    payment_extractors,
    text_extractors,
)
from ringtrace.indicators.warninglist import Warninglist, builtin
from ringtrace.intake.schema import ReportDocument

OWN_CONTACT_REASON = "the reporter's own contact details"


def _index(items: list[tuple[Candidate, str]]) -> tuple[list[int], list[int]]:
    """Starts (sorted) and running maximum of ends, for interval lookups by bisection."""
    starts = [k.start for k, _ in items]
    max_end: list[int] = []
    for k, _ in items:
        max_end.append(max(k.end, max_end[-1]) if max_end else k.end)
    return starts, max_end


def _covered(
    c: Candidate, name: str, items: list[tuple[Candidate, str]], idx: tuple[list[int], list[int]]
) -> bool:
    """Whether a container of another extractor holds ``c``: strictly larger, or the same
    span while ``c`` is a plain value (the "70.38.211.202" that is an IP, not a phone)."""
    starts, max_end = idx
    j = bisect_right(starts, c.start) - 1
    while j >= 0 and max_end[j] >= c.end:
        k, kname = items[j]
        if k is not c and kname != name and k.end >= c.end:
            same = k.start == c.start and k.end == c.end
            if k.end - k.start > c.end - c.start or (same and not c.container):
                return True
        j -= 1
    return False


def _resolve_overlaps(found: list[tuple[Candidate, str, str]]) -> list[tuple[Candidate, str, str]]:
    """Drop a candidate that lies inside a container (URL, email, IP, IBAN, ...) found by
    another extractor: the ``1.2.3.4`` inside ``http://1.2.3.4/x`` is reported by the URL
    extractor with the URL's provenance; digits inside an IBAN are not a phone number. What an
    extractor says about its own container (a URL's host), or marks ``inside_ok`` (the handle
    in a t.me link), is kept. Sorted intervals keep this near-linear on huge texts."""
    ordered = sorted(((c, n) for c, n, _ in found if c.container), key=lambda x: x[0].start)
    if not ordered:
        return found
    # Two extractors may report the same container (a www. link is a URL to both the URL
    # and the bare-domain extractor): the first registered keeps it.
    seen: set[tuple[int, int, str]] = set()
    containers = []
    for k, n in ordered:
        if (k.start, k.end, k.type) not in seen:
            seen.add((k.start, k.end, k.type))
            containers.append((k, n))
    duplicate = {id(k) for k, _ in ordered} - {id(k) for k, _ in containers}
    # A container inside a bigger one (the "password@example.com" in a URL's userinfo) is
    # dropped first, so that it cannot hide what the bigger one reports.
    idx = _index(containers)
    outer = [(k, n) for k, n in containers if k.inside_ok or not _covered(k, n, containers, idx)]
    idx = _index(outer)
    return [
        (c, n, v)
        for c, n, v in found
        if id(c) not in duplicate and (c.inside_ok or not _covered(c, n, outer, idx))
    ]


def scan_text(
    text: str, ctx: Context, only: frozenset[str] | None = None
) -> list[tuple[Candidate, str, str]]:
    """Candidates in free text with the (extractor name, version) that found them; ``only``
    limits the scan to the named extractors."""
    found = [
        (c, ex.name, ex.version)
        for ex in text_extractors()
        if only is None or ex.name in only
        for c in ex.extract(text, ctx)
    ]
    return _resolve_overlaps(found)


class _Collector:
    def __init__(self) -> None:
        self.by_key: dict[LinkKey, Indicator] = {}

    def add(self, field: str, cand: Candidate, extractor: str, version: str) -> None:
        key = LinkKey(cand.type, cand.value)
        ind = self.by_key.get(key)
        if ind is None:
            attrs = dict(cand.attributes)
            ind = Indicator(cand.type, cand.value, extractor, version, attributes=attrs)
            self.by_key[key] = ind
        occ = Occurrence(field, cand.raw, cand.start, cand.end)
        if occ not in ind.occurrences:
            ind.occurrences.append(occ)

    def add_text(
        self, field: str, text: str, ctx: Context, only: frozenset[str] | None = None
    ) -> None:
        for cand, name, version in scan_text(text, ctx, only):
            self.add(field, cand, name, version)

    def add_all(self, field: str, cands: Sequence[Candidate], name: str, version: str) -> None:
        for c in cands:
            self.add(field, c, name, version)


def extract_text(
    text: str, country: str | None = None, *, only: frozenset[str] | None = None
) -> list[Indicator]:
    """Indicators in one piece of free text (what `ringtrace extract` prints). ``only`` names
    the extractors to run (all by default)."""
    col = _Collector()
    col.add_text("text", text, Context(country=country), only)
    return _finish(col.by_key.values(), builtin(), own=set())


def extract_report(doc: ReportDocument, warninglist: Warninglist | None = None) -> list[Indicator]:
    """Every indicator in a report, merged per link key, with exclusions applied."""
    ctx = Context(country=doc.country)
    col = _Collector()
    if doc.narrative:
        col.add_text("narrative", doc.narrative, ctx)
    if doc.platform_first_contact:
        col.add_text("platform_first_contact", doc.platform_first_contact, ctx)
    for i, msg in enumerate(doc.messages):
        col.add_text(f"messages.{i}.text", msg.text, ctx)
    for i, ident in enumerate(doc.offender_identifiers):
        field = f"offender_identifiers.{i}.value"
        reg = identifier_normaliser_for(ident.type)
        cands = list(reg.fn(ident.value, ctx)) if reg else []
        if cands and reg:
            col.add_all(field, cands, reg.name, reg.version)
        else:
            col.add_text(field, ident.value, ctx)  # untyped, or not valid as its type
    for i, pay in enumerate(doc.payments):
        for ex in payment_extractors():
            col.add_all(f"payments.{i}.account", ex.fn(pay, ctx), ex.name, ex.version)
    own: set[LinkKey] = set()
    if doc.reporter and doc.reporter.contact:
        own = {LinkKey(c.type, c.value) for c, _, _ in scan_text(doc.reporter.contact, ctx)}
    return _finish(col.by_key.values(), warninglist or builtin(), own)


def _finish(inds: Iterable[Indicator], wl: Warninglist, own: set[LinkKey]) -> list[Indicator]:
    out = []
    for ind in inds:
        if ind.key in own:
            ind.excluded_reason = OWN_CONTACT_REASON
        else:
            ind.excluded_reason = wl.reason(ind.type, ind.value)
        out.append(ind)
    out.sort(key=lambda i: (i.occurrences[0].field, i.occurrences[0].start, i.type, i.value))
    return out
