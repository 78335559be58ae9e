"""Classes found by the fifth held-out probe (issue 23): strangers who quote a public
warning that names a ring's number, handle, wallet or account. The ring's own victims give
the value in structured fields, so the key is strong and links everyone who holds it as the
offender's: the quote must be read as a cited reference. Extraction alone, then linking on
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ringtrace.indicators import extract_text
from ringtrace.store import Store
from tests.test_roles_heldout2 import _add, _cluster
from tests.test_roles_heldout3 import _of_type

_WARNINGS = [
    "I saw a public warning post on Facebook listing {v} as a scammer account, so I checked "
    "mine, it was a different one.",
    "A scam alert page quotes {v} as used by sextortion gangs. Not the same as mine I think.",
    "Reddit warning thread mentions {v}; I never paid anyone.",
    "Netizens shared a warning: do not pay to {v}. I am reporting my own case.",
    "The police advisory circulated on WhatsApp names {v} too.",
    "My cousin forwarded an alert listing {v}, but mine was someone else.",
    # the sixth probe's classes, in wordings of our own: a bulletin, a PSA, an alert that
    # "listed" a value some words later, and the same in Malay, Indonesian, Tagalog,
    # Chinese and Hindi-English
    "The bank's monthly fraud bulletin has {v} in it.",
    "Someone posted a PSA about {v} in the victims forum.",
    "An alert from the anti-scam centre last month flagged {v} as well.",
    "Kawan hantar amaran pasal {v} dalam group.",
    "Ada info waspada di Twitter soal {v}.",
    "May babala sa page ng barangay tungkol sa {v}.",
    "警方通告話{v}係騙徒",
    "Twitter pe alert tha ki {v} fraud hai.",
]
_VALUES = [
    ("phone", "+63 906 124 2739"),
    ("crypto_wallet", "bc1qu7v6etjgwk7nuatupve2084t6vlt6kmeqeug20"),
    ("bank_account", "Hang Seng 598991158185"),
    ("telegram", "telegram @tasha_cruz465"),
    ("email", "ring.demo.pay@example-demo.org"),
]


@pytest.mark.parametrize("template", _WARNINGS)
@pytest.mark.parametrize(("type_", "value"), _VALUES)
def test_a_value_quoted_from_a_public_warning_is_a_reference(
    template: str, type_: str, value: str
) -> None:
    found = _of_type(template.format(v=value), "GB", type_)
    assert found, (template, value)
    assert all(i.role == "reference" and not i.strong for i in found), found
    assert all("warning" in (i.excluded_reason or "") for i in found)


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        # the offender's own words and the victim's account stay the offender's
        ("She gave me her number +63 906 124 2739 and told me to pay.", "phone"),
        ("he sent me a warning: pay or I post it. His telegram @tasha_cruz465", "telegram"),
        ("I got a warning from him on +63 906 124 2739", "phone"),
        ("if I don't pay he will send it, he texted from +63 906 124 2739", "phone"),
        ("pay to bc1qu7v6etjgwk7nuatupve2084t6vlt6kmeqeug20 now", "crypto_wallet"),
        # threat words, a page of theirs, and a warning read long before the offender wrote
        ("He kept sharing my photos, whatsapp him +60 12-345 6789", "phone"),
        ("Her Instagram page names her WhatsApp +60 12-345 6789", "phone"),
        ("他警告我如果唔俾錢就放片，佢嘅WhatsApp係 +852 9447 0011", "phone"),
        ("Dia bagi amaran nak sebar video, WhatsApp dia +60 12-345 6789", "phone"),
        ("Warning thi ki video leak karega, number +91 98765 43210", "phone"),
        ("He said if you don't pay, contact telegram @nina7151", "telegram"),
        ("He gave me a warning on Instagram, his WhatsApp +60 12-345 6789", "phone"),
        (
            "I saw a police advisory about sextortion last year and then this guy messaged me "
            "from +60 12-345 6789",
            "phone",
        ),
    ],
)
def test_an_offenders_threat_or_demand_is_no_public_warning(text: str, type_: str) -> None:
    found = _of_type(text, "GB", type_)
    assert found and all(i.role == "offender" for i in found), found


def test_strangers_quoting_a_warning_stay_out_of_the_ring(store: Store) -> None:
    """A ring whose victims give its number and wallet in structured fields; strangers
    quote a warning post that lists both: the ring links, the strangers stay alone."""
    phone, wallet = "+639061242739", "bc1qu7v6etjgwk7nuatupve2084t6vlt6kmeqeug20"
    ring = [
        _add(
            store,
            narrative=f"She recorded me and asked for money ({n}).",
            offender_identifiers=[{"type": "phone", "value": phone}],
            payments=[{"kind": "paid", "method": "crypto", "account": wallet}],
        )
        for n in "123"
    ]
    strangers = [
        _add(store, narrative=t.format(v=v), reporter={"country": "GB"})
        for t in _WARNINGS[:3]
        for v in ("0063 906 124 2739", wallet)
    ]
    clusters = {_cluster(store, r) for r in ring}
    assert len(clusters) == 1 and None not in clusters
    for s in strangers:
        assert _cluster(store, s) not in clusters


@pytest.mark.parametrize(
    ("text", "country", "phone"),
    [
        ("her whatsapp 852 9447 0011", "HK", "+85294470011"),
        ("her whatsapp 852 94470011", "ID", "+85294470011"),  # not Indonesian 0852…
        ("he used 63 995 544 6405", "GB", "+639955446405"),
        ("number 886 912108407 on line", "ID", "+886912108407"),
        ("msg 91 98765 43210 on whatsapp", "GB", "+919876543210"),
        ("60 12-345 6789 was the number", "MY", "+60123456789"),
        ("65 9123 4567 then 2024 photos", "SG", "+6591234567"),
    ],
)
def test_a_number_written_with_its_country_code_but_no_plus(
    text: str, country: str, phone: str
) -> None:
    assert [i.value for i in _of_type(text, country, "phone")] == [phone]


@pytest.mark.parametrize(
    ("text", "country", "phones"),
    [
        ("0852 9447 0011", "ID", ["+6285294470011"]),  # the trunk prefix: Indonesian
        ("98765 43210", "IN", ["+919876543210"]),  # no calling code first
        ("1 415 555 0100", "US", ["+14155550100"]),
        ("order 852 94470011", "HK", []),  # a labelled id
        ("paid 20 2024 1234 today", "GB", []),  # no mobile reading
        ("on 12 03 2024 at 10", "GB", []),
    ],
)
def test_national_numbers_and_other_digits_are_not_read_as_international(
    text: str, country: str, phones: list[str]
) -> None:
    assert [i.value for i in _of_type(text, country, "phone")] == phones


@pytest.mark.parametrize(
    "text",
    [
        "I posted on https://www.reddit.com/r/Sextortion/comments/643cxq/help_me/ and people "
        "said to block.",
        "Someone on reddit (old.reddit.com/r/Scams/comments/9zz1ab/same_thing) had the same.",
        "same story at https://forums.hardwarezone.com.sg/threads/sextortion-scam.6543210/",
        "有人在 https://www.zhihu.com/question/123456789 说过",
        "ada orang tulis di https://www.kaskus.co.id/thread/5f1demo/sextortion-scam",
    ],
)
def test_a_forum_thread_is_a_cited_reference(text: str) -> None:
    links = [i for i in extract_text(text, "GB") if i.type in ("url", "page")]
    assert links and all(i.role == "reference" for i in links), links


def test_a_profile_on_a_forum_site_is_still_the_offenders() -> None:
    links = [
        i
        for i in extract_text("his profile https://www.reddit.com/user/ring_demo_77", "GB")
        if i.type in ("url", "page")
    ]
    assert links and all(i.role == "offender" for i in links), links


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("X: @tasha_cruz465", ("x", "tasha_cruz465")),
        ("her x @tasha_cruz465 posted it", ("x", "tasha_cruz465")),
        ("tiktok @_clara.yap_", ("tiktok", "_clara.yap_")),
        ("https://instagram.com/_clara.yap_", ("instagram", "_clara.yap_")),
        ("@_bella.vip on instagram", ("instagram", "_bella.vip")),
    ],
)
def test_handles_with_a_leading_underscore_or_after_x(text: str, key: tuple[str, str]) -> None:
    assert key in {(i.type, i.value) for i in extract_text(text, "GB")}


@pytest.mark.parametrize(
    "text", ["Step X: install the app", "she said x @ 5pm", "Telegram: _", "IG: ___", "x ray"]
)
def test_the_letter_x_or_underscores_alone_are_no_handle(text: str) -> None:
    handles = {"x", "telegram", "instagram"}
    assert not [i for i in extract_text(text, "GB") if i.type in handles]


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("My school counsellor gave me the student wellbeing line 6123 4567, I called them.", "SG"),
        ("The fraud line is 6327 2265.", "SG"),
        ("ada kaunselor bagi talian kasih 019-261 5999", "MY"),
        ("the crisis line: (02) 8804-4673", "PH"),
    ],
)
def test_a_number_named_as_a_help_line_is_a_help_line(text: str, country: str) -> None:
    phones = _of_type(text, country, "phone")
    assert phones and all(i.role == "help" for i in phones), phones


@pytest.mark.parametrize(
    "text",
    [
        "she gave me her hotline 9123 4567",
        "the scammer hotline 9123 4567 kept calling",
        "add me on line 9123 4567",
        "A man claiming to be from Maybank gave the fraud line 9123 4567",
        "the caller said the bank's fraud line is 9123 4567",
    ],
)
def test_the_offenders_hotline_is_no_help_line(text: str) -> None:
    phones = _of_type(text, "SG", "phone")
    assert phones and all(i.role == "offender" for i in phones), phones


@pytest.mark.parametrize(
    "text",
    [
        "The anti-scam alert this week listed https://ring-demo.top/dl/app.apk as malware.",
        "WhatsApp group me kisi ne bheja: 'https://ring-demo.top/dl/app.apk se bachke rehna'.",
        "the police bulletin mentions https://ring-demo.top/dl/app.apk",
    ],
)
def test_an_app_link_quoted_from_a_public_warning_is_cited(text: str) -> None:
    links = _of_type(text, "IN", "url")
    assert links and all(i.role == "reference" for i in links), links


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("my bank alert showed the transfer to BCA 3380978251", "bank_account"),
        ("the page says install https://ring-demo.top/dl/app.apk, the news mentions it too", "url"),
        ("he sent me an alert: pay to bc1qu7v6etjgwk7nuatupve2084t6vlt6kmeqeug20", "crypto_wallet"),
        ("she made me install https://ring-demo.top/dl/app.apk", "url"),
    ],
)
def test_a_banks_alert_or_an_offenders_alert_is_no_public_warning(text: str, type_: str) -> None:
    found = _of_type(text, "ID", type_)
    assert found and all(i.role == "offender" and i.strong for i in found), found


@pytest.mark.parametrize(
    ("text", "country", "account"),
    [
        ("Payment was demanded to a BOC HK account, number 104159548986", "HK", "104159548986"),
        ("她要我汇款到BOC HK账户104159548986", "HK", "104159548986"),
        ("a 中國信託 account, number 3943 7205 2042", "TW", "394372052042"),
        ("transfer to Citi SG acct, no. 0123 4567 89", "SG", "0123456789"),
    ],
)
def test_a_bank_with_its_region_and_an_account_number_after_a_comma(
    text: str, country: str, account: str
) -> None:
    found = [i.value for i in _of_type(text, country, "bank_account")]
    assert found == [account]


def test_an_iban_written_with_its_bank_in_a_payment_is_the_iban() -> None:
    from ringtrace.indicators import extract_report
    from ringtrace.intake.received import receive
    from tests.factories import line, report

    doc = report(
        payments=[{"kind": "paid", "method": "bank_transfer",
                   "account": "Revolut IBAN GB15 MVCF 5749 8671 4184 56"}],
    )  # fmt: skip
    keys = {(i.type, i.value) for i in extract_report(receive(line(doc)).doc)}
    assert keys == {("iban", "GB15MVCF57498671418456")}


@pytest.mark.parametrize(
    "text",
    [
        "He sent me a warning: pay 300 USDT into {w} or the video goes to my family.",
        "Final warning from her, transfer to {w} tonight.",
        "佢警告我：轉300 USDT去 {w}，唔係就放片。",
        "Dia bagi amaran, suruh bayar 300 USDT ke {w} malam ni.",
    ],
)
def test_a_wallet_after_the_offenders_threat_is_strong(text: str) -> None:
    wallet = "bc1qu7v6etjgwk7nuatupve2084t6vlt6kmeqeug20"
    found = _of_type(text.format(w=wallet), "MY", "crypto_wallet")
    assert found and all(i.role == "offender" and i.strong for i in found), found
