"""Indicator extraction: normalisation, spans, exclusions and extension by registration."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from ringtrace.indicators import extract_report, extract_text, registry
from ringtrace.indicators.crypto import normalise_wallet, segwit_decode
from ringtrace.indicators.registry import Candidate, Context
from ringtrace.intake.schema import parse_report
from tests.conftest import DATA
from tests.factories import report


def keys(
    text: str, country: str | None = None, *, linkable_only: bool = True
) -> set[tuple[str, str]]:
    return {
        (i.type, i.value) for i in extract_text(text, country) if i.linkable or not linkable_only
    }


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("WhatsApp +852 6123 4567 now", None, ("phone", "+85261234567")),
        ("call 6123-4567", "HK", ("phone", "+85261234567")),
        ("請加我 ＋８５２ ６１２３ ４５６７ 謝謝", None, ("phone", "+85261234567")),
        ("號碼00852 6123 4567。", "SG", ("phone", "+85261234567")),
        ("下載hxxp://chat-priv[.]top/app.apk謝謝", None, ("url", "http://chat-priv.top/app.apk")),
        ("get it at chat-priv[.]top/app.apk", None, ("domain", "chat-priv.top")),
        (
            "https://API.Chat-Priv.top:443/up?id=1#x",
            None,
            ("url", "https://api.chat-priv.top/up?id=1"),
        ),
        ("send to bad.guy[at]chat-priv.top", None, ("email", "bad.guy@chat-priv.top")),
        ("server 45.77.102[.]16 port 80", None, ("ip", "45.77.102.16")),
        ("v6 2a01:4f8:c17:1::1 seen", None, ("ip", "2a01:4f8:c17:1::1")),
    ],
)
def test_extracts_and_normalises(text: str, country: str | None, expected: tuple[str, str]) -> None:
    assert expected in keys(text, country)


def test_spans_point_at_the_raw_text() -> None:
    text = "她说 +852 6123 4567，下載 hxxp://chat-priv[.]top/app.apk 或 00852 9876 5432"
    found = extract_text(text)
    assert found
    for ind in found:
        for occ in ind.occurrences:
            assert text[occ.start : occ.end] == occ.raw


def test_same_value_twice_is_one_indicator_with_two_spans() -> None:
    found = [i for i in extract_text("+852 6123 4567 ... +852-6123-4567") if i.type == "phone"]
    assert len(found) == 1
    assert [o.raw for o in found[0].occurrences] == ["+852 6123 4567", "+852-6123-4567"]


@pytest.mark.parametrize(
    "text",
    [
        "paid 5000 SGD on 2024-07-02 at 21:14:00",  # amounts, dates, times
        "order id 1234567890123 and ref 99887766",
        "version 1.2.3 and file report.zip",
    ],
)
def test_hard_negatives_give_nothing_linkable(text: str) -> None:
    assert keys(text, "SG") == set()


def test_region_hint_comes_only_from_the_reporter_country() -> None:
    assert keys("call 6123 4567") == set()  # no country: a national number is not guessed
    assert ("phone", "+85261234567") in keys("call 6123 4567", "HK")


@pytest.mark.parametrize(
    ("text", "value", "reason"),
    [
        ("chat on https://www.whatsapp.com/", "whatsapp.com", "platform"),
        ("my router 192.168.1.1", "192.168.1.1", "private"),
        ("see http://203.0.113.7/", "203.0.113.7", "documentation"),
        ("profile at example.com", "example.com", "reserved"),
    ],
)
def test_warninglisted_values_are_kept_but_never_link(text: str, value: str, reason: str) -> None:
    found = {i.value: i for i in extract_text(text)}
    assert value in found
    assert not found[value].linkable
    assert reason in (found[value].excluded_reason or "")


def test_specific_page_on_a_platform_links_but_bare_platform_does_not() -> None:
    found = {(i.type, i.value): i for i in extract_text("t.me/ringboss and https://t.me/")}
    assert found[("url", "http://t.me/ringboss")].linkable
    assert not found[("url", "https://t.me/")].linkable


def test_report_fields_identifiers_and_payments() -> None:
    doc = parse_report(
        report(
            reporter={"country": "SG", "contact": "+65 8123 4567"},
            narrative="He asked for my number, I gave +65 8123 4567. Then +852 6123 4567 called.",
            offender_identifiers=[
                {"type": "telegram", "value": "https://t.me/Sweet_Lily"},
                {"type": "whatsapp", "value": "wa.me/85261234567"},
                {"type": "instagram", "value": "@Lily.Rose"},
                {"type": "other", "value": "also chat-priv[.]top"},
            ],
            payments=[
                {"kind": "demanded", "method": "bank_transfer", "account": "DBS 123-45678-9"},
                {
                    "kind": "paid",
                    "method": "crypto",
                    "account": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                },
                {
                    "kind": "demanded",
                    "method": "bank_transfer",
                    "account": "GB82 WEST 1234 5698 7654 32",
                },
            ],
        )
    )
    found = {(i.type, i.value): i for i in extract_report(doc)}
    assert ("telegram", "sweet_lily") in found
    assert ("instagram", "lily.rose") in found
    assert ("domain", "chat-priv.top") in found
    phone = found[("phone", "+85261234567")]
    assert {o.field for o in phone.occurrences} == {"narrative", "offender_identifiers.1.value"}
    bank = found[("bank_account", "123456789")]
    assert bank.attributes == {"bank": "DBS"}
    assert ("crypto_wallet", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") in found
    assert ("iban", "GB82WEST12345698765432") in found
    own = found[("phone", "+6581234567")]
    assert own.excluded_reason == "the reporter's own contact details"


def test_segwit_vectors() -> None:
    data = json.loads((DATA / "segwit-vectors" / "addresses.json").read_text())
    assert len(data["valid"]) >= 8 and len(data["invalid"]) >= 15
    for addr in data["valid"]:
        assert normalise_wallet(addr) is not None, addr
        hrp = addr.lower().rsplit("1", 1)[0]
        assert segwit_decode(hrp, addr) is not None, addr
    for addr in data["invalid"]:
        assert normalise_wallet(addr) is None, addr


def test_wallet_checksums() -> None:
    assert normalise_wallet("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") == (
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        {"chain": "bitcoin"},
    )
    assert normalise_wallet("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3") is None  # one character off
    assert normalise_wallet("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed") is not None  # EIP-55
    assert normalise_wallet("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD") is None


def test_a_new_type_is_one_registered_extractor() -> None:
    class GiftCardCode:
        name = "test-giftcard"
        version = "1"

        def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
            at = text.find("GC-")
            if at >= 0:
                yield Candidate("giftcard", text[at + 3 : at + 9], text[at : at + 9], at, at + 9)

    registry.text_extractor(GiftCardCode)
    try:
        found = extract_text("card GC-ABC123 please")
        assert [(i.type, i.value, i.extractor) for i in found] == [
            ("giftcard", "ABC123", "test-giftcard")
        ]
    finally:
        registry._TEXT.pop()


# -- issue 23: held-out failure classes ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("加我 https://line.me/ti/p/~mei.demo22 聊天", ("line", "mei.demo22")),
        ("line.me/ti/p/kira_demo5", ("line", "kira_demo5")),
    ],
)
def test_every_profile_link_host_names_a_platform(text: str, expected: tuple[str, str]) -> None:
    assert expected in keys(text, "TW")


def test_a_failing_extractor_skips_its_output_and_logs_no_text(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        name, version = "broken-demo", "1"

        def extract(self, text: str, ctx: Context) -> Iterable[Candidate]:
            raise KeyError(text)

    monkeypatch.setattr(registry, "_TEXT", [*registry.text_extractors(), Broken()])
    secret = "call me on +852 6123 4567 secret-victim-words"
    found = keys(secret, "HK")
    assert ("phone", "+85261234567") in found
    assert "broken-demo" in caplog.text and "KeyError" in caplog.text
    assert "secret-victim-words" not in caplog.text and "6123" not in caplog.text


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ("Telegram id - mira_sg41", ("telegram", "mira_sg41")),
        ("TG username — kai.demo9", ("telegram", "kai.demo9")),
        ("wechat id – wx_demo_88", ("wechat", "wx_demo_88")),
        ("line ID = nana.demo", ("line", "nana.demo")),
    ],
)
def test_a_handle_label_may_end_with_a_dash_or_equals(text: str, handle: tuple[str, str]) -> None:
    assert handle in keys(text, "SG")


def test_a_hyphenated_platform_word_is_no_label() -> None:
    assert not any(t == "telegram" for t, _ in keys("the telegram-bot replied", "SG"))


@pytest.mark.parametrize(
    ("url", "page"),
    [
        ("https://m.youtube.com/watch?v=Zx9Demo4Qw1&t=30", "youtube.com/watch?v=Zx9Demo4Qw1"),
        ("https://www.reddit.com/r/Sextortion/comments/q1demo/title/", None),
        ("https://reddit.com/r/Sextortion/comments/q1demo/title/", None),
        ("https://mega.nz/#!DemoFi1e!k3yPart", "mega.nz/#!DemoFi1e"),
        (
            "https://pan.baidu.com/share/init?surl=DemoShare42",
            "pan.baidu.com/share/init?surl=DemoShare42",
        ),
        ("https://www.youtube.com/channel/UCdemoChannel9", "youtube.com/channel/UCdemoChannel9"),
        ("https://form.typeform.com/to/Dm0Form7", "form.typeform.com/to/Dm0Form7"),
        ("https://tally.so/r/w4DemoX", "tally.so/r/w4DemoX"),
        ("https://1024terabox.com/s/1DemoBox77", "1024terabox.com/s/1DemoBox77"),
        ("https://lynk.id/demo.shop", "lynk.id/demo.shop"),
        ("https://t.cn/A6Demo9x", "t.cn/A6Demo9x"),
    ],
)
def test_a_page_key_names_the_item_not_the_section(url: str, page: str | None) -> None:
    pages = {v for t, v in keys(url, "SG", linkable_only=page is not None) if t == "page"}
    if page is None:  # reddit: the post, whatever the host's www (a forum thread: cited)
        page = "reddit.com/r/Sextortion/comments/q1demo"
        assert not {v for t, v in keys(url, "SG") if t == "page"}
    assert pages == {page}


@pytest.mark.parametrize(
    "url",
    [
        "https://pan.quark.cn/s/demo12ab",
        "https://form.typeform.com/to/Dm0Form7",
        "https://docs.qq.com/form/page/DemoForm1",
        "https://heylink.me/demo.profile/",
        "https://wjx.cn/vm/Demo7Qx.aspx",
    ],
)
def test_a_path_platform_gives_no_parent_domain(url: str) -> None:
    doc = parse_report(report(offender_identifiers=[{"type": "url", "value": url}]))
    types = {i.type for i in extract_report(doc)}
    assert "domain" not in types and {"url", "page"} <= types


@pytest.mark.parametrize(
    ("text", "country", "phone"),
    [
        ("she called from +60 12-345\n6789 twice", "SG", "+60123456789"),
        ("chat https://api.whatsapp.com/send?phone=6591234567&text=hi", None, "+6591234567"),
        ("https://web.whatsapp.com/send/?phone=85261234567", None, "+85261234567"),
    ],
)
def test_numbers_across_a_line_break_and_in_whatsapp_send_links(
    text: str, country: str | None, phone: str
) -> None:
    assert ("phone", phone) in keys(text, country)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("h**ps://ring-demo.top/a", "https://ring-demo.top/a"),
        ("ring-demo [.] top/b", "http://ring-demo.top/b"),
        ("hxxps://ring-demo [.] top/c", "https://ring-demo.top/c"),
    ],
)
def test_more_defanged_forms_are_refanged(text: str, url: str) -> None:
    assert ("url", url) in keys(text)


def test_one_type_reading_gives_what_the_public_calls_give(monkeypatch: pytest.MonkeyPatch) -> None:
    """phones reads a number's type once (libphonenumber's private type reader) for its
    validity, region and line type: the same as is_valid_number, region_code_for_number and
    number_type, on every region's example numbers of every type, their neighbours (most
    invalid) and the public fallback used if the private reader is ever renamed."""
    import phonenumbers

    from ringtrace.indicators import phones

    def public(n: phonenumbers.PhoneNumber) -> tuple[str, str, str | None] | None:
        if not phonenumbers.is_valid_number(n):
            return None
        e164 = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
        line = phones.SHARED_LINE_TYPES.get(phonenumbers.number_type(n))
        return (e164, phonenumbers.region_code_for_number(n), line)

    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(11):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            numbers.append(example)
            nsn = phonenumbers.national_significant_number(example)
            for changed in (nsn[:-1], nsn + "5", nsn[:-1] + str((int(nsn[-1]) + 3) % 10)):
                numbers.append(phonenumbers.parse(f"+{example.country_code}{changed}", None))
    assert len(numbers) > 3000
    shared = 0
    for fallback in (False, True):
        if fallback:
            monkeypatch.setattr(phones, "_TYPE_OF", None)
        for n in numbers:
            got = phones._valid(n)
            assert (None if got is None else tuple(got)) == public(n), n
            shared += got is not None and got.line is not None
    assert shared > 100  # toll-free, shared-cost and UAN lines were among them
