"""Turning a whole report into indicators with provenance."""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar, cast

from ringtrace.domain.models import Indicator, LinkKey, Occurrence
from ringtrace.indicators import roles
from ringtrace.indicators.collector_pause import paused
from ringtrace.indicators.registry import (
    Candidate,
    Contained,
    ContainerAwareExtractor,
    Context,
    forget_lowered,
    identifier_normaliser_for,
    payment_extractors,
    text_extractors,
)
from ringtrace.indicators.warninglist import Warninglist, builtin
from ringtrace.intake.schema import ReportDocument

OWN_CONTACT_REASON = "the reporter's own contact details"

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


def _guarded(kind: str, name: str, run: Callable[..., Iterable[_T]], *args: object) -> list[_T]:
    """What one extractor found in one piece of a report; when it fails, nothing, with a log
    line naming the extractor and the error's type only (never the text or the value: they
    are a victim's report). One bad report must not abort an import or an evaluation."""
    try:
        return list(run(*args))
    except Exception as e:  # any extractor bug: skip its output, keep going
        _skipped(kind, name, e)
        return []


def _skipped(kind: str, name: str, e: Exception) -> None:
    logger.error("%s extractor %r failed on one report (%s); its output skipped",
                 kind, name, type(e).__name__)  # fmt: skip


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
    extractors = [ex for ex in text_extractors() if only is None or ex.name in only]
    per: list[list[tuple[Candidate, str, str]]] = [[] for _ in extractors]
    later = []
    for i, ex in enumerate(extractors):
        if getattr(ex, "after_containers", False):
            later.append(i)  # told what the others' containers hold (phones skip their digits)
        else:
            try:  # inline, not through _guarded: this runs for every extractor and text
                per[i] = [(c, ex.name, ex.version) for c in ex.extract(text, ctx)]
            except Exception as e:
                _skipped("text", ex.name, e)
    for i in later:
        aware = cast(ContainerAwareExtractor, extractors[i])
        inside = _containment([k for p in per for k in p], aware.name)
        try:
            per[i] = [(c, aware.name, aware.version) for c in aware.extract(text, ctx, inside)]
        except Exception as e:
            _skipped("text", aware.name, e)
    # In registration order, whichever order they ran in: the first to find a value names it.
    return _resolve_overlaps([k for p in per for k in p])


def _containment(found: list[tuple[Candidate, str, str]], name: str) -> Contained:
    """Whether a span lies inside a container found by an extractor other than ``name``:
    what ``_resolve_overlaps`` drops from ``name``'s plain (non-container) candidates."""
    boxes = sorted((c.start, c.end) for c, n, _ in found if c.container and n != name)
    starts = [s for s, _ in boxes]
    max_end: list[int] = []
    for _, e in boxes:
        max_end.append(max(e, max_end[-1]) if max_end else e)

    def contained(start: int, end: int) -> bool:
        j = bisect_right(starts, start) - 1
        return j >= 0 and max_end[j] >= end

    return contained


class _Collector:
    """Indicators merged per link key, each occurrence with its source and role."""

    def __init__(self) -> None:
        # Keyed by (type, value), the link key's fields: a plain tuple hashes faster.
        self.by_key: dict[tuple[str, str], Indicator] = {}
        self.reasons: dict[tuple[str, str], str] = {}  # the first non-offender occurrence's

    def add(
        self, field: str, cand: Candidate, extractor: str, version: str, role: roles.Role
    ) -> None:
        key = (cand.type, cand.value)
        ind = self.by_key.get(key)
        if ind is None:
            # A fresh dict, the indicator's own (most candidates have no attributes).
            attrs = (
                {k: v for k, v in cand.attributes.items() if k not in _TRANSIENT}
                if cand.attributes
                else {}
            )
            ind = Indicator(cand.type, cand.value, extractor, version, attributes=attrs)
            self.by_key[key] = ind
        fixed = roles.value_role(cand.type, cand.value, ind.attributes) or roles.written_role(
            cand.type, cand.raw
        )
        if fixed is not None:  # a help line or a cited site, wherever it is written
            role = fixed
        if role.reason is not None:
            self.reasons.setdefault(key, role.reason)
        occ = Occurrence(
            field, cand.raw, cand.start, cand.end, roles.source_of(field), role.role, role.strong
        )
        if not ind.occurrences or occ not in ind.occurrences:
            ind.occurrences.append(occ)

    def add_text(
        self,
        field: str,
        text: str,
        ctx: Context,
        only: frozenset[str] | None = None,
        *,
        offender: bool = False,
    ) -> None:
        found = scan_text(text, ctx, only)
        if not found:
            return
        cues = roles.TextCues(text, offender=offender)
        # What lies inside a link (its host, the handle of a profile link) takes the link's
        # role: the words around the link decide for all of it.
        links = sorted(
            (c.start, c.end, roles.text_role(c.type, cues, c.start, c.end, c.attributes))
            for c, _, _ in found
            if c.type == "url"
        )
        starts = [s for s, _, _ in links]
        for cand, name, version in found:
            role = _inside(links, starts, cand)
            if role is None:
                role = roles.text_role(cand.type, cues, cand.start, cand.end, cand.attributes)
            elif role.strong:
                role = roles.inherited(role, cand.type, cand.attributes, in_text=True)
            self.add(field, cand, name, version, role)

    def add_structured_text(self, field: str, text: str, ctx: Context) -> int:
        """Scan a structured offender field as text: what is found there is strong evidence
        (the field says whose it is); returns how many values were found."""
        found = scan_text(text, ctx)
        strong = roles.Role(roles.OFFENDER, None, strong=True)
        for cand, name, version in found:
            self.add(
                field,
                cand,
                name,
                version,
                roles.inherited(strong, cand.type, cand.attributes, in_text=False),
            )
        return len(found)

    def add_all(self, field: str, cands: Sequence[Candidate], name: str, version: str) -> None:
        strong = roles.Role(roles.OFFENDER, None, strong=True)
        for c in cands:
            self.add(
                field,
                c,
                name,
                version,
                roles.inherited(strong, c.type, c.attributes, in_text=False),
            )


def _inside(
    links: list[tuple[int, int, roles.Role]], starts: list[int], cand: Candidate
) -> roles.Role | None:
    """The role of the link that contains ``cand`` (links are sorted and do not nest)."""
    i = bisect_right(starts, cand.start) - 1
    if i >= 0 and cand.end <= links[i][1]:
        return links[i][2]
    return None


# Candidate attributes that say how a value was found, not what it is.
_TRANSIENT = frozenset({"support", "from_link", "inferred", "line_type", "own"})


def extract_text(
    text: str, country: str | None = None, *, only: frozenset[str] | None = None
) -> list[Indicator]:
    """Indicators in one piece of free text (what `ringtrace extract` prints). ``only`` names
    the extractors to run (all by default)."""
    try:
        with paused(len(text)):
            col = _Collector()
            col.add_text("text", text, Context(country=country), only)
            return _finish(col.by_key.values(), builtin(), set(), col.reasons)
    finally:
        forget_lowered()  # the text is a victim's words: not kept past its extraction


def extract_report(doc: ReportDocument, warninglist: Warninglist | None = None) -> list[Indicator]:
    """Every indicator in a report, merged per link key, with exclusions applied."""
    chars = len(doc.narrative or "") + sum(len(m.text) for m in doc.messages)
    try:
        with paused(chars):
            return _extract_report(doc, warninglist)
    finally:
        forget_lowered()


def _extract_report(doc: ReportDocument, warninglist: Warninglist | None) -> list[Indicator]:
    ctx = Context(country=doc.country)
    col = _Collector()
    if doc.narrative:
        col.add_text("narrative", doc.narrative, ctx)
    if doc.platform_first_contact:
        col.add_text("platform_first_contact", doc.platform_first_contact, ctx)
    for i, msg in enumerate(doc.messages):
        col.add_text(f"messages.{i}.text", msg.text, ctx, offender=msg.from_ == "offender")
    for i, ident in enumerate(doc.offender_identifiers):
        field = f"offender_identifiers.{i}.value"
        reg = identifier_normaliser_for(ident.type)
        cands = _guarded("identifier", reg.name, reg.fn, ident.value, ctx) if reg else []
        if cands and reg:
            col.add_all(field, cands, reg.name, reg.version)
            continue
        # Untyped, or not valid as its type: read as text, else kept as typed.
        if not col.add_structured_text(field, ident.value, ctx) and ident.type not in _KNOWN:
            col.add_all(field, unvalidated(ident.type, ident.value), "unvalidated", "1")
    for i, pay in enumerate(doc.payments):
        field = f"payments.{i}.account"
        found_any = False
        for ex in payment_extractors():
            keys = _guarded("payment", ex.name, ex.fn, pay, ctx)
            found_any = found_any or bool(keys)
            col.add_all(field, keys, ex.name, ex.version)
        if not found_any and pay.account:
            kind = "crypto_wallet" if pay.method == "crypto" else "payment_account"
            col.add_all(field, unvalidated(kind, pay.account), "unvalidated", "1")
    own: set[LinkKey] = set()
    if doc.reporter and doc.reporter.contact:
        own = {LinkKey(c.type, c.value) for c, _, _ in scan_text(doc.reporter.contact, ctx)}
    return _finish(col.by_key.values(), warninglist or builtin(), own, col.reasons)


def _finish(
    inds: Iterable[Indicator],
    wl: Warninglist,
    own: set[LinkKey],
    reasons: dict[tuple[str, str], str] | None = None,
) -> list[Indicator]:
    out = []
    for ind in inds:
        if own and ind.key in own:
            ind.excluded_reason = OWN_CONTACT_REASON
        else:
            # What the value is (a documentation address) says more than how it was written.
            ind.excluded_reason = wl.reason(ind.type, ind.value)
            if ind.excluded_reason is None and ind.role != roles.OFFENDER:
                ind.excluded_reason = (reasons or {}).get(
                    (ind.type, ind.value)
                ) or f"not the offender's ({ind.role})"
        out.append(ind)
    out.sort(key=lambda i: (i.occurrences[0].field, i.occurrences[0].start, i.type, i.value))
    return out


# Types with a validator that knows every valid form: a value it rejects is a typo.
_KNOWN = frozenset({"phone", "whatsapp", "email", "url", "domain", "ip"})

# An identifier typed into a structured field in a format no validator knows (a wallet of a
# coin the checksum code does not cover) is still strong evidence when it is long and exact:
# the longest token of the field (a memo or tag may follow it), at least this long, with a
# digit, five distinct characters, and an unbroken run of letters and digits at least
# UNVALIDATED_MIN_RUN long: a label pieced from short words ("USDT-TRC20-network") is not one.
UNVALIDATED_MIN_LENGTH = 12
UNVALIDATED_MIN_RUN = 10
_TOKEN = re.compile(r"[^\s()\[\]{}<>,;\"'“”（）]+")
_RUN = re.compile(r"[A-Za-z0-9]+")


def unvalidated(type_: str, raw: str) -> list[Candidate]:
    """The exact value of a structured identifier no validator accepted, marked unvalidated;
    none when its longest token is too short or looks like a word, a label or a placeholder."""
    tokens = [(m.group(0).strip(".,;:"), m.start()) for m in _TOKEN.finditer(raw)]
    if not tokens:
        return []
    value, at = max(tokens, key=lambda t: len(t[0]))
    if (
        len(value) < UNVALIDATED_MIN_LENGTH
        or len(set(value.lower())) < 5
        or not any(c.isdigit() for c in value)
        or max(map(len, _RUN.findall(value)), default=0) < UNVALIDATED_MIN_RUN
    ):
        return []
    start = raw.find(value, at)
    return [Candidate(type_, value, value, start, start + len(value), {"validated": "false"})]
