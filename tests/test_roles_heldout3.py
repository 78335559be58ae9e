"""Classes found by the third held-out probe (issue 23): run-on text where an install or
pay cue of one clause was read for a link in the next (the victim's own actions, a tutorial
followed to uninstall the app), and a crowd value that a few reports' words make strong
outvoted by the many that only mention it. Extraction alone, then linking on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ringtrace.domain.models import Indicator
from ringtrace.indicators import extract_text
from ringtrace.linking import specificity as rules
from ringtrace.store import Store
from ringtrace.store.tables import indicators
from tests.test_roles_heldout2 import _add, _cluster


def _of_type(text: str, country: str, type_: str) -> list[Indicator]:
    """What ``extract_text`` finds of one type."""
    return [i for i in extract_text(text, country) if i.type == type_]


def _strong_links(text: str, country: str = "SG") -> dict[str, bool]:
    return {i.value: i.strong for i in extract_text(text, country) if i.type == "url"}


@pytest.mark.parametrize(
    "text",
    [
        # the victim starts a new clause: what they did, not what the offender made them do
        "she send link ask me install BabyGo after that i use https://youtu.be/p9Zr4TqL1Xs to",
        "they told me to download the app and i joined https://t.me/+victimsgroupAbc to ask",
        "对方发了链接让我安装，我按照https://www.youtube.com/watch?v=h7Fk2Lq9WcM的教程",
        # removing the app: where the victim found help
        "ask me to install it, then follow https://safe-guide.github.io/android/steps to uninstall",
        "她叫我安装 跟着https://www.youtube.com/watch?v=h7Fk2Lq9WcM卸载了",
        "dia suruh pasang, ikut https://panduan-demo.blogspot.com/cara untuk buang app",
        # "uninstall" is no install cue
        "I followed https://help-demo.example.net/uninstall-guide to uninstall it",
        # a tutorial or guide is a publication the victim followed
        "he made me install it, this tutorial https://removal-demo.netlify.app/steps helped",
    ],
)
def test_a_cue_of_another_clause_or_a_removal_makes_no_link_strong(text: str) -> None:
    links = _strong_links(text, "CN" if "对方" in text or "她" in text else "SG")
    assert links and not any(links.values()), links


@pytest.mark.parametrize(
    "text",
    [
        "he told me to install the app from https://ring-demo.top/x and i paid",
        "i was told to download https://ring-demo.top/y",
        "叫我喺 https://ring-demo.top/z 下載",
        "他叫我下载一个app，链接是https://ring-demo.top/w",
        "下載我們的app https://ring-demo.top/v",
        "i downloaded it from https://ring-demo.top/u because she asked",
        "对方给了https://ring-demo.top/t，让我马上付款",
    ],
)
def test_the_offenders_install_and_pay_links_stay_strong(text: str) -> None:
    links = _strong_links(text, "CN")
    assert links and all(links.values()), links


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("i call BDO 8631-8000 they say make report", "PH"),
        ("打过BPI 889-10000 他们说报警", "PH"),
        ("the Chase 713-262-1679 ask me report here", "US"),
    ],
)
def test_a_banks_line_after_its_name_is_no_account(text: str, country: str) -> None:
    assert not _of_type(text, country, "bank_account")


_PAGE = "https://crowd-demo-help.net/remove-spy-app"


def _cue_rows(store: Store) -> dict[int, bool]:
    with store.engine.connect() as conn:
        return {
            int(rid): bool(st)
            for rid, st in conn.execute(
                select(indicators.c.report_id, indicators.c.strong).where(
                    indicators.c.type == "url",
                    indicators.c.value == _PAGE,
                    indicators.c.cue_strong.is_(True),
                )
            )
        }


@pytest.mark.parametrize("cue_first", [True, False])
def test_a_crowd_link_that_a_few_words_make_strong_is_outvoted(
    store: Store, cue_first: bool
) -> None:
    """One victim's words read the page everyone mentions as where they installed from:
    outvoted by the four who only mention it, whichever report came first, so nobody
    links; the status says why."""
    plain = [f"Then I went to {_PAGE} to remove it ({n})." for n in range(4)]
    cued = [f"She made me download it from {_PAGE}"]
    texts = cued + plain if cue_first else plain + cued
    ids = [_add(store, narrative=t) for t in texts]
    assert all(_cluster(store, r) == r for r in ids)
    assert _cue_rows(store) == {ids[0] if cue_first else ids[-1]: False}
    with store.engine.connect() as conn:
        reasons = set(
            conn.execute(
                select(indicators.c.excluded_reason).where(indicators.c.value == _PAGE)
            ).scalars()
        )
    assert len(reasons) == 1 and rules.is_uncorroborated(reasons.pop())


def test_a_rings_link_most_victims_were_made_to_install_from_links(store: Store) -> None:
    ring = [
        _add(store, narrative=f"She made me download it from {_PAGE}"),
        _add(store, narrative=f"he told me to install the app from {_PAGE} first"),
        _add(store, narrative=f"叫我喺 {_PAGE} 下載"),
        _add(store, narrative=f"the app came from {_PAGE}"),
    ]
    assert {_cluster(store, r) for r in ring} == {ring[0]}
    assert set(_cue_rows(store).values()) == {True}


def test_a_firm_row_keeps_a_crowd_link_strong(store: Store) -> None:
    """A structured field (not words read from text) says it is the offender's: the cues
    are not outvoted, and the key links."""
    reports = [_add(store, narrative=f"Then I went to {_PAGE} to remove it ({n}).") for n in "ab"]
    reports.append(_add(store, narrative=f"She made me download it from {_PAGE}"))
    reports.append(_add(store, offender_identifiers=[{"type": "url", "value": _PAGE}]))
    assert {_cluster(store, r) for r in reports} == {reports[0]}
    assert set(_cue_rows(store).values()) == {True}


def test_the_outvote_turns_back_when_more_victims_say_it(store: Store) -> None:
    """Two plain mentions and one cue: outvoted; two more cues make it the majority (3 of
    5), and the holders link, the first cue row strong again."""
    first = [
        _add(store, narrative=f"Then I went to {_PAGE} to remove it (a)."),
        _add(store, narrative=f"Then I went to {_PAGE} to remove it (b)."),
        _add(store, narrative=f"She made me download it from {_PAGE}"),
    ]
    assert all(_cluster(store, r) == r for r in first)
    more = [_add(store, narrative=f"he told me to install it from {_PAGE} ({n})") for n in "cd"]
    assert {_cluster(store, r) for r in first + more} == {first[0]}
    assert set(_cue_rows(store).values()) == {True}


@pytest.mark.parametrize(
    ("text", "country", "key"),
    [
        ("telegram nina7151 is her", "SG", ("telegram", "nina7151")),
        ("tele @daisy_14 ok", "SG", ("telegram", "daisy_14")),
        ("sc: cindy_sharma", "US", ("snapchat", "cindy_sharma")),
        ("WeChat ID tina5116", "CN", ("wechat", "tina5116")),
        ("Line id cindy1363", "TW", ("line", "cindy1363")),
        ("@nina7151 on telegram", "SG", ("telegram", "nina7151")),
        ("ig xx_bella_vip", "SG", ("instagram", "xx_bella_vip")),
        ("the scammer no +852 5566 9329", "HK", ("phone", "+85255669329")),
        ("＋６２ ８２２－８８３５－９３１８", "ID", ("phone", "+6282288359318")),
        ("PayNow UEN 202219412K", "SG", ("paynow", "202219412K")),
    ],
)
def test_more_written_forms_of_handles_numbers_and_proxies(
    text: str, country: str, key: tuple[str, str]
) -> None:
    assert key in {(i.type, i.value) for i in extract_text(text, country)}


@pytest.mark.parametrize(
    "text",
    ["I use telegram daily.", "on telegram 3 times", "line 2 of the form", "snap 2024 was",
     "Telegram WhatsApp both", "order no 91234567"],
)  # fmt: skip
def test_a_word_or_a_number_after_a_platform_or_a_label_is_no_handle(text: str) -> None:
    assert not [i for i in extract_text(text, "SG") if i.linkable]


_BTC = "bc1qxlajfjmls8l0attpg0r7esgcqh0xlrkcdxfaf5"


@pytest.mark.parametrize(
    "text",
    [
        f"everyone sharing post say dont pay to {_BTC} ok",
        f"Saw on Facebook the wallet {_BTC} is a scam!",
        f"ada post https://www.facebook.com/share/p/1BqK7zXcV9/ kata {_BTC} wallet scammer tapos",
        f"Online people say the address {_BTC} is a scam, see https://blog-demo.top/w",
        f"有人转发说不要给{_BTC}转账",
        f"网上有帖子说{_BTC}是骗子的钱包",
        f"Sab share kar rahe {_BTC} pe paisa mat bhejo",
        f"I found a warning post https://www.facebook.com/share/p/1BqK7zX/ that lists {_BTC} as",
        f"This warning https://www.facebook.com/share/p/1BqK7zX/ says {_BTC} belongs to them",
        f"so fb post say {_BTC} scammer but mine different",
        f"網上有帖文https://www.facebook.com/share/p/1BqK7zX/話{_BTC}係騙徒錢包",
    ],
)
def test_a_wallet_in_a_warning_not_to_pay_is_a_reference(text: str) -> None:
    (wallet,) = _of_type(text, "SG", "crypto_wallet")
    assert wallet.role == "reference" and not wallet.linkable, wallet


@pytest.mark.parametrize(
    "text",
    [
        f"he told me to pay to {_BTC} now",
        f"I paid 0.05 BTC to {_BTC} and he still posted it",
        f"叫我转账到{_BTC}",
        f"dia suruh bayar ke {_BTC} segera",
    ],
)
def test_a_wallet_the_victim_paid_into_stays_strong(text: str) -> None:
    (wallet,) = _of_type(text, "SG", "crypto_wallet")
    assert wallet.strong and wallet.linkable, wallet


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("I called the Chase at 713-262-1679.", "US"),
        ("I called the PDRM CCID Scam Response Centre on 03-2610 1598 and", "MY"),
        ("I rang (02) 7213-9999 for advice.", "PH"),
        ("I have called 03-7844 3696 (Maybank fraud line) already", "MY"),
        ("go call police +63 2 8523 8231 lol", "PH"),  # the offender taunting
        ("打咗去中心 2382 0000 求助", "HK"),
    ],
)
def test_a_line_the_victim_called_for_help_is_a_help_line_listed_or_not(
    text: str, country: str
) -> None:
    (phone,) = _of_type(text, country, "phone")
    assert phone.role == "help" and not phone.linkable


@pytest.mark.parametrize(
    "text",
    [
        "I called the police and gave them the scammer's number +65 9123 4567",
        "he called me from +65 9123 4567",
        "I called him at +65 9123 4567",
        "I called +65 9123 4567 and she answered",
    ],
)
def test_the_offenders_number_near_a_call_word_stays_the_offenders(text: str) -> None:
    (phone,) = _of_type(text, "SG", "phone")
    assert phone.role == "offender" and phone.linkable


@pytest.mark.parametrize(
    "url",
    ["https://www.binance.com/en", "https://www.binance.com/zh-HK/", "https://www.okx.com/login"],
)
def test_a_services_front_page_in_a_language_is_its_bare_address(url: str) -> None:
    found = {i.type: i for i in extract_text(f"I bought USDT on {url} to pay them", "SG")}
    assert not found["url"].linkable


def test_a_services_specific_page_still_links() -> None:
    found = {i.type: i for i in extract_text("pay to https://www.binance.com/en/trade/x1", "SG")}
    assert found["url"].linkable


def test_a_banks_number_is_no_account() -> None:
    text = "The BDO number 8631-8000 told me to make a police report"
    assert not _of_type(text, "PH", "bank_account")


def test_a_passing_mention_never_merges_two_rings(store: Store) -> None:
    """Two rings, each linked by the app link its victims were made to install from; one
    victim of each mentions the same unlisted number in passing (a line both called): the
    rings stay apart, the number is a suggestion, and the online linker and the batch
    linker (DuckDB) agree."""
    from ringtrace.store import components

    number = "+6562345678"
    a = [_add(store, narrative=f"she made me install it from https://ring-a.top/app.apk {n}")
         for n in "12"]  # fmt: skip
    b = [_add(store, narrative=f"he made me install it from https://ring-b.top/app.apk {n}")
         for n in "12"]  # fmt: skip
    a.append(_add(store, narrative=f"she made me install it from https://ring-a.top/app.apk and "
                                   f"later I called {number}"))  # fmt: skip
    b.append(_add(store, narrative=f"he made me install it from https://ring-b.top/app.apk, I "
                                   f"called {number} twice"))  # fmt: skip
    assert {_cluster(store, r) for r in a} == {a[0]} and {_cluster(store, r) for r in b} == {b[0]}
    with store.engine.connect() as conn:
        (reason,) = set(
            conn.execute(
                select(indicators.c.excluded_reason).where(indicators.c.value == number)
            ).scalars()
        )
    assert rules.is_uncorroborated(reason)
    result, _, _ = components.batch_recompute(store.read)
    assert {r: result.assignments.get(r, r) for r in a + b} == {
        r: _cluster(store, r) for r in a + b
    }
    assert any(v == number for _, v, _, _ in result.statuses)


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("i key in my bank details at dbs-update-demo.vercel.app/login and i try call", "SG"),
        ("website palsu http://dbs-update-demo.vercel.app/login bcoz", "MY"),
        ("上周有个女的在Facebook加我在https://dbs-update-demo.vercel.app/上付了钱我加了", "CN"),
        ("they send link https://gcash-demo.000webhostapp.com/verify.html ask me login so", "SG"),
    ],
)
def test_a_phishing_page_the_victim_gave_credentials_to_is_strong(text: str, country: str) -> None:
    links = _strong_links(text, country)
    assert links and all(links.values()), links


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("I have called +91 22 2216 0080 (cyber cell Mumbai) already!", "+912222160080"),
        ("我打+91 22 2216 0080咨询过。", "+912222160080"),
        ("打过CCID WhatsApp 60132111222。", "+60132111222"),
    ],
)
def test_agencies_called_for_help_by_their_names(text: str, phone: str) -> None:
    found = {i.value: i.role for i in extract_text(text, "MY") if i.type == "phone"}
    assert found == {phone: "help"}


# -- the fourth probe (officer summaries, caseworker notes, phone typing, chat pastes) --------


@pytest.mark.parametrize(
    ("text", "country", "key", "strong"),
    [
        ("a friend who checked the app said it uploads contacts to api.demo-c2.live", "SG",
         ("domain", "demo-c2.live"), True),
        ("further contact was via telegram user https://t.me/lily.demo249", "SG",
         ("telegram", "lily.demo249"), False),
        ("They demanded 800 USD to wallet TBJbUgXsxMN5psGcNsyvUDAtTo6zvGiGAa i dont pay yet",
         "SG", ("crypto_wallet", "TBJbUgXsxMN5psGcNsyvUDAtTo6zvGiGAa"), True),
        ("they gave account cimb 930583248433 for the money", "MY",
         ("bank_account", "930583248433"), True),
        ("transfer to 2587238938 (Chase) now", "US", ("bank_account", "2587238938"), True),
        ("payment was to be made to 0460889563 (bofa)", "PH", ("bank_account", "0460889563"),
         True),
        ("The Instagram profile was @kelly.demo_.", "SG", ("instagram", "kelly.demo_"), False),
        ("telegram user amy_demo793", "SG", ("telegram", "amy_demo793"), False),
        ("the instagram profile was nicole.demo", "SG", ("instagram", "nicole.demo"), False),
    ],
)  # fmt: skip
def test_the_offenders_values_in_officers_and_victims_words(
    text: str, country: str, key: tuple[str, str], strong: bool
) -> None:
    found = {(i.type, i.value): i for i in extract_text(text, country)}
    assert key in found and found[key].linkable, found
    assert found[key].strong is strong


def test_a_trailing_underscore_is_part_of_the_handle() -> None:
    a = {i.value for i in extract_text("Instagram: @kelly.demo_", "SG") if i.type == "instagram"}
    b = {i.value for i in extract_text("Instagram: @kelly.demo", "SG") if i.type == "instagram"}
    assert a == {"kelly.demo_"} and b == {"kelly.demo"}


@pytest.mark.parametrize(
    "text",
    [
        f"saw a forwarded warning listing {_BTC} as a sextortion wallet; reported",
        f"Me: saw a forwarded warning listing {_BTC} as a sextortion wallet | u have 30 min",
    ],
)
def test_a_forwarded_warning_listing_a_wallet_is_a_reference(text: str) -> None:
    (wallet,) = _of_type(text, "AU", "crypto_wallet")
    assert wallet.role == "reference"


def test_a_number_called_with_a_bank_in_brackets_is_no_account() -> None:
    assert not _of_type("i called 2587238938 (Chase)", "US", "bank_account")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("they gave account 0242305561 (commbank) for the money", ("bank_account", "0242305561")),
        ("payment was to be made to cimb 930583248433 !!!", ("bank_account", "930583248433")),
        ("on a video call they gave account cimb a/c no. 930583248433",
         ("bank_account", "930583248433")),
        ("they gave account cathay 4103426336 for the money", ("bank_account", "4103426336")),
        ("account sofia.demo_ on instagram followed me", ("instagram", "sofia.demo_")),
        ("user amy_x12 on telegram", ("telegram", "amy_x12")),
    ],
)  # fmt: skip
def test_accounts_and_handles_in_phone_typing(text: str, key: tuple[str, str]) -> None:
    assert key in {(i.type, i.value) for i in extract_text(text, "PH")}


def test_account_settings_on_a_platform_is_no_handle() -> None:
    assert not extract_text("I changed my account settings on instagram", "PH")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("download VidBuddy2 from rosoltri-demo dot xyz/download/vidbuddy2.apk",
         ("url", "http://rosoltri-demo.xyz/download/vidbuddy2.apk")),
        ("log in at secure-demo dot firebaseapp.com/login",
         ("domain", "secure-demo.firebaseapp.com")),
        ("the site was ring-demo DOT top", ("domain", "ring-demo.top")),
    ],
)  # fmt: skip
def test_a_spelled_out_dot_is_refanged(text: str, key: tuple[str, str]) -> None:
    assert key in {(i.type, i.value) for i in extract_text(text, "PH")}


@pytest.mark.parametrize("text", ["the dot com era", "a polka dot dress", "I love my dog dot"])
def test_a_dot_in_prose_is_no_host(text: str) -> None:
    assert not extract_text(text, "PH")


def test_the_offenders_turns_of_a_chat_pasted_into_a_narrative() -> None:
    """A pasted chat's turns name their speaker: what the offender's turn gives is the
    offender's contact (strong), the victim's turn keeps the victim's own."""
    text = (
        "08:32 Me: hi | 08:33 Offender: add me on telegram @daniel.demo916 | 08:37 Me: ok\n"
        "Offender: whatsapp me +1-646-296-0770\nMe: my number is +65 9123 4567"
    )
    found = {i.value: (i.role, i.strong) for i in extract_text(text, "SG")}
    assert found["daniel.demo916"] == ("offender", True)
    assert found["+16462960770"] == ("offender", True)
    assert found["+6591234567"] == ("victim", False)


def test_a_time_in_prose_is_no_speaker() -> None:
    found = {i.value: i.strong for i in extract_text("At 10:30: I called +65 9123 4567", "SG")}
    assert found == {"+6591234567": False}
