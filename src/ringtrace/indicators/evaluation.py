"""Scoring extraction per type, and the mapping of ioc-finder's output onto our types.

Used by the conformance tests and by ``benchmarks/extract.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ringtrace.indicators.crypto import normalise_wallet
from ringtrace.indicators.network import (
    normalise_email,
    normalise_ip,
    normalise_url,
    registrable_domain,
)

Label = tuple[str, str]

# ioc-finder output key -> our type. Keys not listed (ssdeeps, xmpp_addresses, ipv4_cidrs,
# cves, ...) are types ringtrace does not extract; see docs/extraction.md.
IOC_FINDER_TYPES: dict[str, str] = {
    "bitcoin_addresses": "crypto_wallet",
    "monero_addresses": "crypto_wallet",
    "domains": "domain",
    "urls": "url",
    "urls_complete": "url",
    "email_addresses": "email",
    "ipv4s": "ip",
    "ipv6s": "ip",
    "md5s": "file_hash",
    "sha1s": "file_hash",
    "sha256s": "file_hash",
    "sha512s": "file_hash",
    "imphashes": "file_hash",
    "authentihashes": "file_hash",
}


def normalise_as(type_: str, value: str) -> str | None:
    """Our link-key form of a value another tool reported, or None if it is not valid."""
    if type_ == "domain":
        return registrable_domain(value)
    if type_ == "url":
        norm = normalise_url(value)
        return norm[0] if norm else None
    if type_ == "email":
        return normalise_email(value)
    if type_ == "ip":
        return normalise_ip(value)
    if type_ == "crypto_wallet":
        wallet = normalise_wallet(value)
        return wallet[0] if wallet else None
    if type_ == "file_hash":
        return value.lower()
    return value


@dataclass
class TypeScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Scores:
    by_type: dict[str, TypeScore] = field(default_factory=lambda: defaultdict(TypeScore))
    errors: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # (doc, kind, type, value)

    def add(
        self,
        doc_id: str,
        expected: Iterable[Label],
        got: Iterable[Label],
        types: set[str] | None = None,
    ) -> None:
        exp = {x for x in expected if types is None or x[0] in types}
        found = {x for x in got if types is None or x[0] in types}
        for t, _ in exp & found:
            self.by_type[t].tp += 1
        for t, v in found - exp:
            self.by_type[t].fp += 1
            self.errors.append((doc_id, "extra", t, v))
        for t, v in exp - found:
            self.by_type[t].fn += 1
            self.errors.append((doc_id, "missing", t, v))

    def table(self) -> str:
        lines = [f"{'type':16} {'precision':>9} {'recall':>7} {'tp':>6} {'fp':>5} {'fn':>5}"]
        for t in sorted(self.by_type):
            s = self.by_type[t]
            lines.append(f"{t:16} {s.precision:9.3f} {s.recall:7.3f} {s.tp:6} {s.fp:5} {s.fn:5}")
        return "\n".join(lines)


def ioc_finder_expected(expected: Mapping[str, list[str]]) -> tuple[set[Label], dict[Label, Label]]:
    """ioc-finder's expected output as our labels, and equivalent readings.

    ioc-finder reports a link twice: ``urls`` (cut at trailing text such as ``,False``) and
    ``urls_complete``. Finding either reading counts; the second value maps a complete
    reading to the one that is scored.
    """
    required: set[Label] = set()
    for key, values in expected.items():
        t = IOC_FINDER_TYPES.get(key)
        if t is None or key == "urls_complete":
            continue
        for v in values:
            norm = normalise_as(t, v)
            required.add((t, norm if norm is not None else f"(invalid) {v}"))
    short = [u for _, u in sorted(x for x in required if x[0] == "url")]
    equivalents: dict[Label, Label] = {}
    for v in expected.get("urls_complete", []):
        norm = normalise_as("url", v)
        if norm is None or ("url", norm) in required:
            continue
        for u in short:
            if norm.startswith(u):
                equivalents[("url", norm)] = ("url", u)
    return required, equivalents


def score_ioc_finder_cases(lines: Iterable[str]) -> Scores:
    """ringtrace's extraction graded against ioc-finder's public test cases (JSON Lines:
    ``text``, ``expected`` and ``options`` per case; tests/data/ioc-finder-cases)."""
    import json

    from ringtrace.indicators.report import extract_text

    scores = Scores()
    for line in lines:
        case = json.loads(line)
        required, equivalents = ioc_finder_expected(case["expected"])
        types = set(IOC_FINDER_TYPES.values())
        opts = case["options"]
        if (
            opts.get("parse_domain_from_url") is False
            or opts.get("parse_domain_from_email_address") is False
        ):
            types.discard("domain")  # ioc-finder was asked not to report these
        got = {
            equivalents.get((i.type, i.value), (i.type, i.value))
            for i in extract_text(case["text"])
        }
        scores.add(case["id"], required, got, types)
    return scores
