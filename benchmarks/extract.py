"""Extraction throughput and quality: ringtrace beside ioc-finder and iocextract.

All three run in this process on the same labelled synthetic corpus
(ringtrace.demo.extraction_corpus: multilingual narratives with hard negatives). Prints MB/s
of text processed and, per type each tool supports, precision and recall against the labels.
Install the alternatives with `pip install -e '.[bench]'`.

What each side does: ``ringtrace`` is the whole of ``extract_text`` (all 17 types, validation,
overlap resolution, evidence roles, warninglist); ``ringtrace-shared`` the same limited to the
extractors of ioc-finder's types (URL, domain, email, IP, hash, wallet); ``ioc-finder`` is
``find_iocs`` asked for those types (wallets included). Rounds interleave the tools, so a
busy machine slows them alike, and time is the process's CPU time (other processes on a
shared machine do not count); the fastest round counts, and every memo cache is cleared
before each timed pass.

Exits non-zero when ringtrace with all its types is below ``--floor`` times ioc-finder's
throughput (issue 23: 3x), or when ringtrace limited to ioc-finder's types does not find
exactly what the full run finds of those types.

Usage: python benchmarks/extract.py [--docs N] [--seed S] [--repeat R] [--langs L,...]
                                   [--large-kb K] [--floor X]
                                   [--tools ringtrace,ringtrace-shared,ioc-finder,iocextract]

``--langs`` keeps documents in those languages (default: English, Chinese and Malay);
``--large-kb`` adds one large document of about that size (default 1000 KB; 0 for none)
made of the same languages' documents, as a long chat export would be.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Iterable

from ringtrace.demo.extraction_corpus import LabelledDoc, generate_corpus
from ringtrace.indicators import extract_text
from ringtrace.indicators.evaluation import Label, Scores, ioc_finder_expected, normalise_as
from ringtrace.indicators.phones import normalise_phone

Extractor = Callable[[LabelledDoc], set[Label]]


def clear_caches() -> None:
    """Forget every memoised result (not loaded data), so that no timed pass profits from
    an earlier one."""
    from ringtrace.indicators import network, phones, roles

    phones._parse.cache_clear()
    network.registrable_domain.cache_clear()
    roles._value_role.cache_clear()
    roles.source_of.cache_clear()


def ours(doc: LabelledDoc) -> set[Label]:
    return {(i.type, i.value) for i in extract_text(doc.text, doc.country)}


# ringtrace's extractors for the types ioc-finder also extracts: the like-for-like figure.
SHARED_EXTRACTORS = frozenset({"url", "domain", "email", "ip", "hash", "wallet"})


def ours_shared(doc: LabelledDoc) -> set[Label]:
    return {(i.type, i.value) for i in extract_text(doc.text, doc.country, only=SHARED_EXTRACTORS)}


# ioc-finder leaves wallets out by default; ask for every type we compare.
IOC_FINDER_INCLUDED = [
    "urls", "email_addresses", "domains", "ipv4s", "ipv6s", "md5s", "sha1s", "sha256s",
    "sha512s", "bitcoin_addresses", "monero_addresses",
]  # fmt: skip


def ioc_finder(doc: LabelledDoc) -> set[Label]:
    from ioc_finder import find_iocs

    # The same mapping onto our types that the conformance tests use.
    found, _ = ioc_finder_expected(find_iocs(doc.text, included_ioc_types=IOC_FINDER_INCLUDED))
    return found


def iocextract_(doc: LabelledDoc) -> set[Label]:
    import iocextract

    out: set[Label] = set()
    groups: list[tuple[str, Iterable[str]]] = [
        ("url", iocextract.extract_urls(doc.text, refang=True)),
        ("email", iocextract.extract_emails(doc.text, refang=True)),
        ("ip", iocextract.extract_ips(doc.text, refang=True)),
        ("file_hash", iocextract.extract_hashes(doc.text)),
    ]
    for t, values in groups:
        for v in values:
            norm = normalise_as(t, v)
            out.add((t, norm if norm is not None else f"(invalid) {v}"))
    for v in iocextract.extract_telephone_nums(doc.text):
        phone = normalise_phone(v, doc.country)
        out.add(("phone", phone[0] if phone else f"(invalid) {v}"))
    return out


TOOLS: dict[str, tuple[Extractor, set[str] | None]] = {
    "ringtrace": (ours, None),
    "ringtrace-shared": (
        ours_shared,
        {"domain", "url", "email", "ip", "file_hash", "crypto_wallet"},
    ),
    "ioc-finder": (ioc_finder, {"domain", "url", "email", "ip", "file_hash", "crypto_wallet"}),
    "iocextract": (iocextract_, {"url", "email", "ip", "file_hash", "phone"}),
}


def timed(fn: Extractor, docs: list[LabelledDoc]) -> tuple[float, list[set[Label]]]:
    """CPU seconds of one pass over ``docs``, and what it found."""
    clear_caches()  # repeated runs must not profit from memoised results
    t = time.process_time()
    results = [fn(d) for d in docs]
    return time.process_time() - t, results


def run(
    tools: dict[str, tuple[Extractor, set[str] | None]], docs: list[LabelledDoc], repeat: int
) -> dict[str, tuple[float, Scores, list[set[Label]]]]:
    """MB/s (best of ``repeat`` rounds; each round runs every tool once, in turn), scores
    and results per tool."""
    size = sum(len(d.text.encode()) for d in docs)
    for fn, _ in tools.values():
        for d in docs[:20]:  # warm-up: imports, compiled grammars and caches are not measured
            fn(d)
    best = dict.fromkeys(tools, float("inf"))
    results: dict[str, list[set[Label]]] = {}
    for _ in range(repeat):
        for name, (fn, _) in tools.items():
            seconds, results[name] = timed(fn, docs)
            best[name] = min(best[name], seconds)
    out = {}
    for name, (_, types) in tools.items():
        scores = Scores()
        for i, (doc, got) in enumerate(zip(docs, results[name], strict=True)):
            scores.add(str(i), doc.labels, got, types)
        out[name] = (size / best[name] / 1e6, scores, results[name])
    return out


def corpus(n: int, seed: int, langs: list[str], large_kb: int) -> list[LabelledDoc]:
    """``n`` small documents in ``langs`` and, with ``large_kb``, one large one."""
    small: list[LabelledDoc] = []
    batch = seed
    while len(small) < n:
        small += [d for d in generate_corpus(n=n, seed=batch) if d.language in langs]
        batch += 1000
    docs = small[:n]
    if large_kb > 0:
        parts: list[LabelledDoc] = []
        size = 0
        while size < large_kb * 1000:
            for d in generate_corpus(n=500, seed=batch):
                if d.language in langs and d.country == "SG":  # one reporter, one country
                    parts.append(d)
                    size += len(d.text.encode()) + 1
            batch += 1000
        labels = frozenset().union(*(d.labels for d in parts))
        docs.append(LabelledDoc("\n".join(d.text for d in parts), "SG", labels, "mixed"))
    return docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the fastest counts")
    ap.add_argument("--langs", default="en,zh-Hans,zh-Hant,ms")
    ap.add_argument("--large-kb", type=int, default=1000)
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated; all by default")
    ap.add_argument(
        "--floor", type=float, default=3.0, help="least ringtrace / ioc-finder ratio (all types)"
    )
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # iocextract logs every refang
    docs = corpus(args.docs, args.seed, args.langs.split(","), args.large_kb)
    size = sum(len(d.text.encode()) for d in docs)
    print(
        f"corpus: {len(docs)} documents ({args.langs}; the largest {max(len(d.text.encode()) for d in docs) / 1e3:.0f} KB), "
        f"{size / 1e6:.2f} MB UTF-8, seed {args.seed}\n"
    )
    tools = {}
    for name, tool in TOOLS.items():
        if name not in args.tools.split(","):
            continue
        try:
            tool[0](docs[0])
        except ImportError:
            print(f"{name}: not installed (pip install -e '.[bench]')")
            continue
        tools[name] = tool
    measured = run(tools, docs, args.repeat)
    results = {name: (mbps, scores) for name, (mbps, scores, _) in measured.items()}
    for name, (mbps, _) in results.items():
        print(f"{name:16} {mbps:8.3f} MB/s")
    failures = []
    if "ringtrace" in measured and "ringtrace-shared" in measured:
        # The like-for-like run must find exactly what the full run finds of those types.
        shared_types = TOOLS["ringtrace-shared"][1] or set()
        full, limited = measured["ringtrace"][2], measured["ringtrace-shared"][2]
        differ = sum(
            1
            for a, b in zip(full, limited, strict=True)
            if {x for x in a if x[0] in shared_types} != b
        )
        if differ:
            failures.append(f"ringtrace-shared disagrees with ringtrace on {differ} documents")
    if "ioc-finder" in results and "ringtrace" in results:
        base = results["ioc-finder"][0]
        ratio = results["ringtrace"][0] / base
        print(
            f"\nringtrace, all {len(results['ringtrace'][1].by_type)} types / ioc-finder: "
            f"{ratio:.2f}x (floor {args.floor:g}x)"
        )
        if "ringtrace-shared" in results:
            shared = results["ringtrace-shared"][0] / base
            print(f"ringtrace, ioc-finder's types only / ioc-finder: {shared:.2f}x")
        if ratio < args.floor:
            failures.append(
                f"ringtrace is {ratio:.2f}x ioc-finder, below the {args.floor:g}x floor"
            )
    print("\nprecision / recall per type (types each tool supports):")
    types = sorted({t for _, s in results.values() for t in s.by_type})
    print(f"{'type':16}" + "".join(f"{name:>22}" for name in results))
    for t in types:
        row = f"{t:16}"
        for _, scores in results.values():
            s = scores.by_type.get(t)
            row += f"{'-':>22}" if s is None else f"{s.precision:>11.3f} /{s.recall:>6.3f}   "
        print(row)
    if failures:
        raise SystemExit("FAILED: " + "; ".join(failures))


if __name__ == "__main__":
    main()
