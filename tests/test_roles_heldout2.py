"""Classes found by the second held-out probe (issue 23): public services named beside an
install or pay cue, store listings of widely used apps, SDK and CDN domains, wallets copied
from warnings, timestamps read as numbers, hosts read as package names, payment URIs, the
app's server named in free text, the offender's own messages, and evaluation of collections
that attach apps. Extraction alone, then linking on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ringtrace.indicators import extract_report, extract_text
from ringtrace.intake.received import receive
from ringtrace.intake.schema import ReportDocument
from ringtrace.services.evaluation import evaluate_file
from ringtrace.services.intake import ingest
from ringtrace.store import Store
from tests.factories import line, report


def _found(text: str, country: str | None = None) -> dict[tuple[str, str], tuple[bool, str | None]]:
    return {(i.type, i.value): (i.strong, i.excluded_reason) for i in extract_text(text, country)}


# -- public services, store listings, SDK domains: named by everyone ----------------------


@pytest.mark.parametrize(
    "text",
    [
        "I downloaded the app from apkpure.com",
        "she said search it on uptodown.com and install",
        "bought USDT on okx.com and sent it",
        "transferred the money via westernunion.com",
        "saya bayar guna maybank2u.com.my",
        "The app connected to firebaseio.com",
        "after installing, the phone sent data to app-measurement.com",
        "個app連去 cdnjs.cloudflare.com",
        "the app talks to server agora.io and qiniu.com",
    ],
)
def test_a_public_services_domain_beside_a_cue_never_links(text: str) -> None:
    domains = [(k, v) for k, v in _found(text).items() if k[0] == "domain"]
    assert domains and all(reason is not None for _, (_, reason) in domains), domains


@pytest.mark.parametrize(
    "url",
    [
        "https://play.google.com/store/apps/details?id=com.whatsapp",
        "play.google.com/store/apps/details?id=jp.naver.line.android&hl=en",
        "https://play.google.com/store/apps/details?id=org.telegram.messenger&hl=zh_HK&gl=US",
    ],
)
def test_the_store_listing_of_a_widely_used_app_never_links(url: str) -> None:
    found = _found(f"She told me to install {url} first so we can video call")
    assert found and all(reason is not None for _, reason in found.values()), found


def test_the_store_listing_of_any_other_app_still_links() -> None:
    url = "https://play.google.com/store/apps/details?id=com.privatevid.demo"
    found = _found(f"She told me to install {url} first")
    page = found[("page", "play.google.com/store/apps/details?id=com.privatevid.demo")]
    assert page == (True, None)


def test_a_customer_host_on_an_sdk_platform_is_not_its_bare_domain() -> None:
    found = _found("the app connected to https://ring-demo-77.firebaseio.com/contacts.json")
    assert found[("url", "https://ring-demo-77.firebaseio.com/contacts.json")] == (True, None)


# -- the app's server in free text ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "My friend who works in IT checked the app, it connected to svr.tadi-demo.cn",
        "After install the app sends data to svr.tadi-demo.cn",
        "朋友幫我查，這個App連到 svr.tadi-demo.cn 上傳通訊錄",
        "kawan saya periksa, app tu hantar data ke svr.tadi-demo.cn",
    ],
)
def test_the_server_the_app_connects_to_is_strong(text: str) -> None:
    assert _found(text)[("domain", "tadi-demo.cn")] == (True, None)


def test_a_host_starting_with_a_package_root_is_a_domain_not_a_package() -> None:
    found = _found("the app talks to server app.yajo-demo.com")
    assert ("domain", "yajo-demo.com") in found
    assert not any(t == "android_package" for t, _ in found)
    assert ("android_package", "com.privatechat.app") in _found("package com.privatechat.app")


# -- wallets: payment URIs, and addresses copied from a warning -----------------------------

_BTC = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"


@pytest.mark.parametrize("written", [f"bitcoin:{_BTC}", f"bitcoin:{_BTC}?amount=0.01", _BTC])
def test_a_payment_uri_is_its_address(written: str) -> None:
    doc = ReportDocument.model_validate(
        report(payments=[{"kind": "demanded", "method": "crypto", "account": written}])
    )
    assert [(i.type, i.value) for i in extract_report(doc)] == [("crypto_wallet", _BTC)]


@pytest.mark.parametrize(
    "text",
    [
        f"this article https://news-demo.top/x lists the bitcoin address {_BTC} from the emails",
        f"I searched the wallet in my email ({_BTC}) and found a warning about it.",
        f"download dari demo-apps.top I searched the wallet ({_BTC}) and found a warning",
    ],
)
def test_a_wallet_copied_from_a_warning_is_uncertain(text: str) -> None:
    assert _found(text)[("crypto_wallet", _BTC)] == (False, None)


def test_a_wallet_the_victim_was_told_to_pay_stays_strong() -> None:
    assert _found(f"He demanded 500 USDT to {_BTC}")[("crypto_wallet", _BTC)] == (True, None)


# -- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Lost RM 3,000 on 13-07-2024 21:45.", "2024-09-21 02:14:55 paid", "08/02/2024 11:05 PM"],
)
def test_a_date_and_time_is_no_phone_number(text: str) -> None:
    for country in ("GB", "US", "IN", "TW", "MY"):
        assert not [k for k in _found(text, country) if k[0] == "phone"], country


def _doc(**fields: object) -> ReportDocument:
    return ReportDocument.model_validate(report(**fields))


def test_the_offenders_own_message_gives_the_offenders_contact() -> None:
    doc = _doc(
        reporter={"country": "SG"},
        messages=[
            {
                "from": "offender",
                "text": "this my new number +63 917 555 0123 add me Snapchat @elro_80",
            },
            {"from": "victim", "text": "my number is +65 9123 4567"},
        ],
    )
    found = {(i.type, i.value): i for i in extract_report(doc)}
    phone = found[("phone", "+639175550123")]
    assert phone.linkable and phone.occurrences[0].role == "offender" and phone.strong
    assert found[("snapchat", "elro_80")].strong
    assert found[("phone", "+6591234567")].occurrences[0].role == "victim"


def test_a_help_line_in_the_offenders_message_is_still_a_help_line() -> None:
    doc = _doc(
        reporter={"country": "SG"},
        messages=[{"from": "offender", "text": "call 1800 255 0000 lol"}],
    )
    [phone] = extract_report(doc)
    assert phone.occurrences[0].role == "help" and not phone.linkable


# -- linking, on both backends -------------------------------------------------------------


def _add(store: Store, **fields: object) -> int:
    return ingest(store, receive(line(report(**fields)))).report_id


def _cluster(store: Store, report_id: int) -> int | None:
    return store.reports.get(report_id).summary.cluster_id


def test_strangers_naming_the_same_services_stay_apart_and_a_server_ring_links(
    store: Store,
) -> None:
    strangers = [
        _add(store, narrative="I downloaded the app from apkpure.com and paid via okx.com"),
        _add(
            store,
            narrative="had to install https://play.google.com/store/apps/details?id=com.whatsapp",
        ),
        _add(store, narrative="I downloaded it from apkpure.com, then bought USDT on okx.com"),
        _add(
            store,
            narrative="install https://play.google.com/store/apps/details?id=com.whatsapp&hl=en",
        ),
        _add(store, narrative=f"this article https://a-demo.top/x lists the address {_BTC}"),
        _add(store, narrative=f"the address {_BTC} is a scam, see https://b-demo.top/y"),
        _add(store, narrative=f"found a warning about the wallet {_BTC} online."),
        _add(store, narrative="On 13-07-2024 21:45 I sent RM 500"),
        _add(store, narrative="13-07-2024 21:45 she called"),
    ]
    assert all(_cluster(store, r) == r for r in strangers)
    ring = [
        _add(store, narrative="the app connected to api.ring-demo-c2.top and uploaded my contacts"),
        _add(store, narrative="朋友幫我查，個app連去 api.ring-demo-c2.top"),
        _add(store, narrative="network log shows the app sends data to api.ring-demo-c2.top"),
        _add(store, narrative="app tu connect ke server api.ring-demo-c2.top"),
    ]
    assert {_cluster(store, r) for r in ring} == {ring[0]}


def test_a_ring_giving_its_handle_in_its_own_messages_links(store: Store) -> None:
    ring = [
        _add(store, messages=[{"from": "offender", "text": f"add me Snapchat @elro_80 {n}"}])
        for n in ("now", "pls", "baby", "ok")
    ]
    assert {_cluster(store, r) for r in ring} == {ring[0]}


# -- evaluation reads a collection as the importer does -------------------------------------


def test_evaluate_reads_attachment_paths_and_analyses_the_apps(
    tmp_path: Path, apks: dict[str, Path]
) -> None:
    """Two reports share nothing but an app signed by the same ring's key (built from source
    in tests/apk_build.py, never run): one attaches it by path, the other inline."""
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "app.apk").write_bytes(apks["stealer"].read_bytes())
    inline = base64.b64encode(apks["sibling"].read_bytes()).decode()
    docs = [
        report(
            narrative="she sent an app",
            attachments=[{"filename": "a.apk", "path": "files/app.apk"}],
        ),
        report(
            narrative="installed the app",
            attachments=[{"filename": "b.apk", "content_base64": inline}],
        ),
        report(narrative="unrelated"),
    ]
    (tmp_path / "r.jsonl").write_text("".join(line(d) + "\n" for d in docs))
    truth = {f"{d['source']}|{d['external_id']}": "ring" for d in docs[:2]}
    (tmp_path / "t.json").write_text(json.dumps(truth))
    result = evaluate_file(tmp_path / "r.jsonl", tmp_path / "t.json").result
    assert result.pairwise.recall == 1.0 and result.pairwise.precision == 1.0


# -- toll-free and shared-cost lines: run by businesses and help services ----------------


@pytest.mark.parametrize(
    ("text", "country", "value"),
    [
        ("I called RAINN at 800-656-4673 and they helped", "US", "+18006564673"),
        ("the helpline at 1-800-222-1222 answered", "US", "+18002221222"),
        ("rang 0800 123 4567 about it", "GB", "+448001234567"),
        ("打咗 0800-000-123 問", "TW", "+886800000123"),
    ],
)
def test_a_toll_free_line_in_free_text_never_links(text: str, country: str, value: str) -> None:
    [phone] = [i for i in extract_text(text, country) if i.type == "phone"]
    assert phone.value == value and phone.role == "help" and not phone.linkable
    assert "toll-free" in (phone.excluded_reason or "")
    assert "line_type" not in phone.attributes  # read by the roles, never stored


def test_a_mobile_number_in_free_text_still_links() -> None:
    [phone] = extract_text("he whatsapped me from +65 9123 4567", "SG")
    assert phone.role == "offender" and phone.linkable


def test_a_toll_free_line_in_a_structured_field_is_the_reporters_claim() -> None:
    doc = _doc(
        reporter={"country": "US"},
        offender_identifiers=[{"type": "phone", "value": "1-800-555-0199"}],
    )
    found = [i for i in extract_report(doc) if i.type == "phone"]
    assert found and all(i.role == "offender" for i in found)


def test_strangers_who_called_the_same_unlisted_toll_free_line_stay_apart(store: Store) -> None:
    strangers = [
        _add(store, narrative="after the threat I called 800-656-4673 for advice"),
        _add(store, narrative="the counsellor at (800) 656-4673 told me to report it"),
    ]
    assert all(_cluster(store, r) == r for r in strangers)


# -- a help community victims join is cited, even after a pay cue in run-on text ----------


@pytest.mark.parametrize(
    "text",
    [
        "pay now I joined the victim support group https://t.me/ScamVictimsDemo and they said",
        "he said pay 500 so i went to a support group t.me/HelpDemoGroup for advice",
        "我加入咗受害者互助群 https://t.me/DemoMutualAid 問人",
        "saya masuk kumpulan sokongan mangsa https://t.me/DemoSokongan lepas dia suruh bayar",
    ],
)
def test_a_victim_support_group_is_cited_not_the_rings(text: str) -> None:
    found = _found(text, "SG")
    links = {k: v for k, v in found.items() if k[0] in ("url", "telegram")}
    assert links and all(reason is not None for _, reason in links.values()), found


def test_strangers_in_the_same_support_group_stay_apart(store: Store) -> None:
    strangers = [
        _add(store, narrative=f"{lead} joined the victim support group https://t.me/DemoSupport")
        for lead in ("he said pay now i", "after I paid i", "they told me to pay so i")
    ]
    assert all(_cluster(store, r) == r for r in strangers)


# -- bank accounts written only in free text ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "country", "account", "bank"),
    [
        ("He told me to pay into BCA 3380978251 by tonight", "ID", "3380978251", "BCA"),
        ("transfer RM500 to Maybank 5641 2233 8890 now", "MY", "564122338890", "Maybank"),
        ("dia suruh bayar ke akaun 7012345678 segera", "MY", "7012345678", None),
        ("轉帳到中國信託 822-5401-2233-45 他說", "TW", "8225401223345", "中國信託"),
        ("他叫我汇款到招商银行账号 6214 8312 3456 7890", "CN", "6214831234567890", "招商银行"),
        ("send to acc no: 0123456789 BDO", "PH", "0123456789", None),
        ("rekening BRI 0123-01-012345-50-1 atas nama Budi", "ID", "012301012345501", "BRI"),
        ("BCA 3380978251 500000 rupiah", "ID", "3380978251", "BCA"),  # the amount is not in it
    ],
)
def test_a_bank_account_in_free_text_is_a_strong_payment_key(
    text: str, country: str, account: str, bank: str | None
) -> None:
    found = {(i.type, i.value): i for i in extract_text(text, country) if i.type == "bank_account"}
    assert list(found) == [("bank_account", account)], found
    ind = found[("bank_account", account)]
    assert ind.strong and ind.excluded_reason is None
    assert ind.attributes == ({"bank": bank} if bank else {})


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("I called Maybank 1300 88 6688 to block my card", "MY"),  # the bank's line
        ("I called Maybank 03-7844 3696 to block it", "MY"),  # a phone, with its trunk 0
        ("called DBS 6327 2265 hotline", "SG"),
        ("my Facebook account 100012345678 was hacked", "SG"),  # a profile id
        ("Chase routing 021000021 then", "US"),  # every customer's branch code
        ("the account 12345678 amount", "GB"),
        ("bringing 12345678 things", "AU"),  # "ing" in a word is not ING
        ("Order 12345678 from Chase", "US"),
    ],
)
def test_what_is_not_a_bank_account(text: str, country: str) -> None:
    assert not [i for i in extract_text(text, country) if i.type == "bank_account"]


@pytest.mark.parametrize(
    "text",
    [
        "i transferred from my Maybank 164012345678 to them",
        "akaun saya 1640123456 dah kena sekat",
        "我的户口 6214831234567890 被冻结",
    ],
)
def test_the_victims_own_bank_account_never_links(text: str) -> None:
    (own,) = [i for i in extract_text(text, "MY") if i.type == "bank_account"]
    assert own.role == "victim" and own.excluded_reason is not None


def test_an_account_in_a_narrative_links_with_the_same_account_in_a_payment(
    store: Store,
) -> None:
    ring = [
        _add(
            store,
            reporter={"country": "ID"},
            narrative="dia minta transfer ke BCA 3380978251 malam ini",
        ),
        _add(
            store,
            country="ID",
            payments=[{"kind": "demanded", "method": "bank_transfer", "account": "BCA 3380978251"}],
        ),
        _add(
            store,
            reporter={"country": "ID"},
            narrative="told me pay rekening 338-097-8251 or video viral",
        ),
    ]
    assert {_cluster(store, r) for r in ring} == {ring[0]}
    strangers = [
        _add(
            store, reporter={"country": "MY"}, narrative="i sent from my Maybank 164012345678, help"
        ),
        _add(
            store, reporter={"country": "MY"}, narrative="from my Maybank 164012345678 i paid him"
        ),
        _add(store, reporter={"country": "MY"}, narrative="I called Maybank 1300 88 6688 to block"),
        _add(store, reporter={"country": "MY"}, narrative="I called Maybank 1300 88 6688 after"),
    ]
    assert all(_cluster(store, r) == r for r in strangers)


def test_a_banks_line_is_read_in_the_banks_region_when_the_reporter_gives_none() -> None:
    for text in ("I called Maybank 1300 88 6688 to block", "I called Maybank 03-7844 3696"):
        assert not [i for i in extract_text(text) if i.type == "bank_account"]
