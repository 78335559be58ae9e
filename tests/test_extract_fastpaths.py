"""The shortcuts that make extraction fast give exactly what the plain way gives.

Each shortcut (phones skipping digit runs inside other containers, refusing hosts before
tldextract, refusing names before ``ipaddress``, the role cues' first-character lookahead) is
compared here with the plain computation it replaces, on the generated corpus, on mangled
copies of it and on hand-picked edge cases.
"""

from __future__ import annotations

import ipaddress
import random
import re

import pytest
import tldextract

from ringtrace.demo.extraction_corpus import generate_corpus
from ringtrace.indicators import (
    crypto,
    gated,
    handles,
    hashes,
    network,
    packages,
    payments,
    phones,
    quoted,
    registry,
    report,
    roles,
)
from ringtrace.indicators.hosting import user_host
from ringtrace.indicators.registry import Context

_JUNK = list(" .-:/@()[]{}0123456789abcXYZ+＋。．１２３\n\t#%_~'\"你好가나")


def _texts(seed: int, n: int) -> list[str]:
    """Corpus documents, whole and spliced together with random junk inserted."""
    rng = random.Random(seed)
    docs = [d.text for d in generate_corpus(n=n, seed=seed)]
    out = list(docs)
    for _ in range(n):
        text = "".join(rng.sample(docs, 2))
        for _ in range(rng.randint(1, 6)):
            p = rng.randrange(len(text) + 1)
            text = (
                text[:p] + "".join(rng.choice(_JUNK) for _ in range(rng.randint(1, 4))) + text[p:]
            )
        out.append(text)
    # Runs of digits next to containers: an IP or IBAN followed by more digits, a run cut
    # short by its length limit, digits right after a URL.
    out += [
        "call 70.38.211.202 1234 5678 now",
        "IBAN DE89 3704 0044 0532 0130 00 or +49 30 1234567",
        "DE89370400440532013000 6123 4567 8901 2345 6789 0123 4567 8901",
        "http://70.38.211.202/x 91234567 and 1.2.3.4. 91234567",
        "1.2.3.4 5.6.7.8 9.10.11.12 13.14.15.16 +65 9123 4567",
        "MTCN 1234567890 then 9123 4567",
        "see http://x.com/a/6123.4567.8901.2345.6789.0123 9123 4567 ok",
        "see http://x.com/a/6123.4567.8901.2345.6789.0123.4567 9123 4567 ok",
        "see http://x.com/a/9123-4567-8901-2345-6789-0123-4567 8123 4567 ok",
        "mail 6123.4567.8901.2345.6789.0123.4567@example.com 9123 4567",
    ]
    return out


def _plain_scan(text: str, ctx: Context) -> list[tuple[registry.Candidate, str, str]]:
    """Every extractor on its own, in registration order, then overlap resolution: the
    computation ``report.scan_text`` shortens."""
    found = [
        (c, ex.name, ex.version) for ex in registry.text_extractors() for c in ex.extract(text, ctx)
    ]
    return report._resolve_overlaps(found)


def _rows(found: list[tuple[registry.Candidate, str, str]]) -> list[tuple[object, ...]]:
    return [
        (c.type, c.value, c.raw, c.start, c.end, tuple(c.attributes.items()), n)
        for c, n, _ in found
    ]


@pytest.mark.parametrize("country", ["SG", "HK", None])
def test_scan_with_phone_shortcut_equals_plain_scan(country: str | None) -> None:
    texts = _texts(seed=31, n=150)
    ctx = Context(country=country)
    differ = [t for t in texts if _rows(report.scan_text(t, ctx)) != _rows(_plain_scan(t, ctx))]
    assert differ == []


def test_phone_shortcut_skips_digits_inside_containers() -> None:
    """It does skip: the digits of an IP address are never handed to phonenumbers."""
    seen: list[str] = []
    original = phones._parse

    def spy(raw: str, country: str | None) -> object:
        seen.append(raw)
        return original(raw, country)

    phones._parse = spy  # type: ignore[assignment]
    try:
        report.scan_text("server 70.38.211.202 then call 9123 4567", Context(country="SG"))
    finally:
        phones._parse = original
    assert seen == ["9123 4567"]


_TLDEXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)


def _plain_registrable(host: str) -> str | None:
    """registrable_domain without the last-label shortcut."""
    host = host.lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    parts = _TLDEXTRACT(host)  # tldextract itself, the reference
    if not parts.suffix or not parts.domain:
        return None
    domain = f"{parts.domain}.{parts.suffix}"
    return user_host(host, domain) or domain


def test_registrable_domain_shortcut_equals_tldextract() -> None:
    hosts = {
        "e.g", "i.e", "u.s", "report.pdf", "report.zip", "bigoj.ycf38", "v12.1.1.1", "foo.com",
        "a.b.ck", "www.ck", "x.blogspot.com", "a..com", "-a.com", "x.xn--p1ai", "x.рф",
        "例子.中国", "a.com.", "ab.c-d", "x.co.uk", "1.2.3.4", "x.local", "x.onion", "a.b",
        "user.000webhostapp.com", "a" * 70 + ".com", "x." + "b" * 70, "x.com:80", "a@b.com",
    }  # fmt: skip
    for text in _texts(seed=37, n=200):
        hosts.update(m.group("host").lower() for m in network._BARE_RE.finditer(text))
    network.registrable_domain.cache_clear()
    differ = {h for h in hosts if network.registrable_domain(h) != _plain_registrable(h)}
    assert differ == set()
    assert len(hosts) > 300


def _plain_ip(value: str) -> str | None:
    try:
        return ipaddress.ip_address(network.refang(value).strip("[] ")).compressed
    except ValueError:
        return None


def test_normalise_ip_shortcut_equals_ipaddress() -> None:
    rng = random.Random(5)
    alphabet = "0123456789abcdefABCDEF:.[]% x١٢"
    values = ["", " ", "1.2.3.4", "[::1]", "::", "1::", "fe80::1%eth0", "01.2.3.4", "١.٢.٣.٤"]
    values += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 20))) for _ in range(20000)
    ]
    for text in _texts(seed=41, n=100):
        values += re.findall(r"[^\s/]+", text)
    assert [network.normalise_ip(v) for v in values] == [_plain_ip(v) for v in values]


def _plain_found(cues: roles._Cues, text: str) -> bool:
    """A cue kind found the plain way: the clause's words, each phrase as whole words,
    each stem anywhere."""
    if not cues.words.isdisjoint(roles._ASCII_WORD.findall(text)):
        return True
    if any(re.search(rf"(?<![a-z]){re.escape(p)}(?![a-z])", text) for p in cues.phrases):
        return True
    return any(s in text for s in cues.stems)


def test_role_cues_equal_plain_search() -> None:
    rng = random.Random(9)
    kinds = roles._cue_kinds()
    words = [w for k in kinds.values() for w in k.words]
    words += ["send money", "send the money", "muat turun", "according to", "my number", "我的電話"]
    words += ["installed", "pay-off", "x-pay", "paid.", "prepaid", "see", "seen", "根據", "下載"]
    words += ["-see", "see-", "a-see", "see-x", "--see", "news-", "artic", "sees", "e-mail"]
    filler = [*"abc xyz-.,:;!?0123 ", "我", "的", "。"]
    clauses = []
    for _ in range(20000):
        parts = [rng.choice(words) if rng.random() < 0.4 else rng.choice(filler) for _ in range(8)]
        clauses.append("".join(p if rng.random() < 0.5 else p + " " for p in parts).lower())
    for kind in kinds.values():
        assert [kind.found(c) for c in clauses] == [_plain_found(kind, c) for c in clauses]


def _gated_patterns() -> list[tuple[str, gated.Gated]]:
    """Every gated scan of the text extractors, found by type so that a new one is tested."""
    mods = (network, phones, hashes, crypto, payments, packages)
    found = [
        (f"{m.__name__}.{n}", v)
        for m in mods
        for n, v in vars(m).items()
        if isinstance(v, gated.Gated)
    ]
    assert len(found) >= 9
    return found


def _gate_texts() -> list[str]:
    """The generated corpus, mangled copies and random strings over the characters the
    patterns and their gates turn on (dots in every defanged form, brackets, digits in
    several scripts, hex letters, Latin-extended letters)."""
    rng = random.Random(5)
    alphabet = [
        *"0123456789abcdefxyzABCDEFTLM.:-_/@ [](){}+＋。．１２３éß\n\thwtp",
        "[.]", "(.)", "{.}", "[dot]", "(dot)", " [.] ", " dot ", " DOT ", "hxxp://", "https://",
        "www.", "bc1q",
        "0x", "com.", ".com", "@", "[at]", "(at)", "DE89", "::", "+65 ", "00", "(+",
    ]  # fmt: skip
    out = _texts(seed=41, n=80)
    for _ in range(4000):
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))))
    return out


@pytest.mark.parametrize(("name", "scan"), _gated_patterns(), ids=lambda v: str(v)[:40])
def test_gate_is_a_necessary_condition(name: str, scan: gated.Gated) -> None:
    """The gate matches wherever the pattern matches, so no match is skipped, and the gated
    search finds exactly what the pattern's own finditer and search find."""
    for text in _gate_texts():
        for start in range(len(text)):
            if scan.pattern.match(text, start) is not None:
                assert scan.gate.match(text, start) is not None, (name, text, start)
        plain = [(m.span(), m.group(0)) for m in scan.pattern.finditer(text)]
        assert [(m.span(), m.group(0)) for m in scan.finditer(text)] == plain, (name, text)
        for pos in range(0, len(text) + 1, 7):
            a, b = scan.search(text, pos), scan.pattern.search(text, pos)
            assert (a and a.span()) == (b and b.span()), (name, text, pos)


def test_gate_finds_what_a_pattern_alone_would_miss() -> None:
    """A gate that is not a necessary condition is caught: the test above would fail."""
    loose = gated.Gated(hashes._HASH, r"[0-9a-f](?<![0-9A-Za-z][0-9a-f])[0-9a-f]{31}")
    text = "digest D41D8CD98F00B204E9800998ECF8427E here"
    assert [m.group(0) for m in hashes._HASH.finditer(text)] == ["D41D8CD98F00B204E9800998ECF8427E"]
    assert list(loose.finditer(text)) == []


def _role_texts() -> list[str]:
    """Corpus windows and random strings over what the clause and cue patterns turn on."""
    rng = random.Random(9)
    alphabet = [
        *"ab x.!?;\n\t|:：。！？；我們们的然後之后接中文",
        " ", "  ", "\u3000", "i ", "saya ", "aku ", "then ", "after that ", "lalu ", "pastu ",
        "dont pay to ", "不要给", "saw on facebook ", "is a scam", "warning about ", "see ",
        "this article ", "news ", "scammers", "offender: ", "09:08 she: ", "对方：", "Me: ",
    ]  # fmt: skip
    out = _texts(seed=43, n=60)
    for _ in range(6000):
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))))
    return out


def test_last_clause_start_equals_the_last_finditer_match() -> None:
    """The greedy match gives the clause ``finditer``'s last boundary gives, apart from the
    whitespace it may leave unread before the clause's first word."""
    for pattern in (roles._CLAUSE_START, roles._SENTENCE_END):
        fast = roles.last_end(pattern)
        for text in _role_texts():
            ends = [m.end() for m in pattern.finditer(text)]
            plain = text[ends[-1] :] if ends else text
            m = fast.match(text)
            got = text[m.end() :] if m else text
            assert plain.endswith(got) and got.lstrip() == plain.lstrip(), (text, got)


def _plain_quoted(cues: roles.TextCues, start: int, end: int) -> str | None:
    """roles._quoted without its one-pattern shortcut: every check in turn."""
    text = cues.text
    head = text[max(0, start - 2 * roles.TextCues.BEFORE) : start].lower()
    ends = [m.end() for m in roles._SENTENCE_END.finditer(head)]
    before = roles._Clause(head[ends[-1] :] if ends else head)
    tail = text[end : end + 4 * roles.TextCues.AFTER].lower()
    m = roles._SENTENCE_END.search(tail)
    after = roles._Clause(tail[: m.start()] if m else tail)
    near = max(0, len(before.text) - 40)
    if (
        roles._warned(before.text, near, len(before.text))
        or roles._warned(after.text, 0, 40)
        or roles._WARNING_BEFORE.search(before.text, near)
        or roles._WARNING_AFTER.search(after.text, 0, 40)
        or roles._A_WARNING.search(before.text)
        or quoted.warning_before(before.text)
        or quoted.keep_away_after(text, end)
    ):
        return "warned"
    if before.has("citation") or after.has("citation_after"):
        return "cited"
    return None


def test_quoted_shortcut_equals_every_check() -> None:
    found = {"warned": 0, "cited": 0, None: 0}
    for text in _role_texts():
        cues = roles.TextCues(text)
        for start in range(0, len(text) + 1, 3):
            end = min(len(text), start + 5)
            want = _plain_quoted(cues, start, end)
            assert roles._quoted(cues, start, end) == want, (text, start)
            found[want] += 1
    assert found["warned"] and found["cited"] and found[None]  # every outcome was tried


_PLAIN_SPEAKER = re.compile(
    r"(?:^|(?<=[\n|]))" + roles._SPEAKER_TURN, re.IGNORECASE
)  # the one-pattern form: a lookbehind tried at every position


def test_chat_turns_equal_a_search_at_every_position() -> None:
    for text in _role_texts():
        cues = roles.TextCues(text)
        turns = [
            (m.start(), m.group("who").lower() in roles._OFFENDER_SPEAKERS)
            for m in _PLAIN_SPEAKER.finditer(text)
        ]
        for pos in range(len(text) + 1):
            j = max((i for i, (s, _) in enumerate(turns) if s <= pos), default=-1)
            want = j >= 0 and turns[j][1]
            assert cues.offender_at(pos) == want, (text, pos)


def test_handle_then_platform_in_lowered_text_equals_ignorecase() -> None:
    """ "@name on <platform>" read in the lowered copy matches where the case-insensitive
    pattern matches in the text itself (same spans, same platform), and only in text with a
    platform word, where the extractor looks for it."""
    plain = re.compile(
        handles._HANDLE_ON.pattern.removeprefix("(?=[@aup])")
        .replace("[a-z0-9._%+-]", "[A-Za-z0-9._%+-]")
        .replace("[a-z0-9]", "[A-Za-z0-9]")
        .replace("[a-z0-9._]", "[A-Za-z0-9._]")
        .replace("(?<![a-z])", "(?<![A-Za-z])")
        .replace("(?![a-z])", "(?![A-Za-z])"),
        re.IGNORECASE,
    )
    texts = _texts(seed=47, n=40) + _role_texts()[-500:] + [
        "add @Nina.K7151 on Telegram", "ACCOUNT sofia.li_ ON Instagram now",
        "@bella.vip di IG", "user Tina_5116 via WeChat", "@x on telegraph", "me@Ab.c on FB",
    ]  # fmt: skip
    hits = 0
    for text in texts:
        low = registry.lowered(text)
        want = [(m.span("h"), m.group("p").lower()) for m in plain.finditer(text)]
        got = [(m.span("h"), m.group("p")) for m in handles._HANDLE_ON.finditer(low)]
        assert got == want, text
        if want:
            assert handles._keyword_hits(low), text
        hits += len(want)
    assert hits >= 4


def test_contact_warning_shortcut_equals_every_check() -> None:
    """roles._from_warning's one-search shortcut decides as the full reading would."""
    seen = set()
    for text in _role_texts():
        cues = roles.TextCues(text)
        for start in range(0, len(text) + 1, 3):
            end = min(len(text), start + 5)
            head = text[max(0, start - 2 * roles.TextCues.BEFORE) : start].lower()
            ends = [m.end() for m in roles._SENTENCE_END.finditer(head)]
            before = head[ends[-1] :] if ends else head
            want = quoted.keep_away_after(text, end) or quoted.warning_before(before)
            assert roles._from_warning(cues, start, end) == want, (text, start)
            seen.add(want)
    assert seen == {True, False}
