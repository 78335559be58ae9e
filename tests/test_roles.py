"""Evidence roles: help lines, cited references, hosting platforms, handle-like words and
unknown-format structured identifiers. Extraction on its own, then linking on SQLite and
PostgreSQL, then the scenario's floors with each class switched on alone and all at once."""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers
import pytest

from ringtrace.demo import generate
from ringtrace.demo.scenario import CLASSES
from ringtrace.evaluate import load_truth, score
from ringtrace.indicators import extract_report, extract_text
from ringtrace.indicators.helplines import helplines
from ringtrace.indicators.network import registrable_domain
from ringtrace.intake.received import receive
from ringtrace.intake.schema import ReportDocument
from ringtrace.services import decisions, erasure, relink, suggestion_finder
from ringtrace.services.intake import import_lines, ingest
from ringtrace.store import Store
from tests.factories import line, report

_FULL = str.maketrans("+0123456789", "＋０１２３４５６７８９")


def _forms(e164: str) -> list[str]:
    num = phonenumbers.parse(e164)
    intl = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    natl = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
    return [e164, intl, intl.replace(" ", "-"), natl, natl.replace(" ", ""), natl.translate(_FULL)]


def _one(text: str, country: str | None, type_: str) -> list[tuple[str, str | None]]:
    return [(i.value, i.excluded_reason) for i in extract_text(text, country) if i.type == type_]


# -- help lines --------------------------------------------------------------------------


def test_help_line_data_covers_the_regions_with_sources() -> None:
    data = helplines()
    for region in ("HK", "SG", "MY", "TW", "CN", "IN", "PH", "ID", "AU", "GB", "US"):
        assert region in data.versions
    assert len(data.by_e164) > 40


@pytest.mark.parametrize("e164", sorted(helplines().by_e164))
def test_every_help_line_is_recognised_in_every_written_form(e164: str) -> None:
    region = helplines().by_e164[e164].region
    for i, written in enumerate(_forms(e164)):
        found = _one(f"I called {written} for help.", region, "phone")
        # A local form of six digits or fewer ("13 11 14") is no phone number to the
        # extractor at all, so it cannot link either; every other form is found.
        if i >= 3 and sum(c.isdigit() for c in written) < 7:
            assert found == []
            continue
        assert [v for v, _ in found] == [e164], written
        assert found[0][1] is not None and "help line" in found[0][1], written


def test_a_help_line_in_a_structured_field_does_not_link_either() -> None:
    doc = ReportDocument.model_validate(
        report(offender_identifiers=[{"type": "phone", "value": "+65 1800 722 6688"}])
    )
    [ind] = extract_report(doc)
    assert ind.role == "help" and not ind.linkable


# -- cited references --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "See https://www.virustotal.com/gui/file/5f2b7c1e for the analysis.",
        "According to https://some-unknown-blog.net/2024/apk-family this app is malware.",
        "根據 https://news-site-unknown.com.hk/article/1 的報道",
        "Menurut https://laman-berita.my/artikel/2 ini penipuan.",
        "The police website https://www.police.gov.hk/ppp_en/ says not to pay.",
        "A researcher's post: https://x.com/someresearcher/status/1790000000000000000",
    ],
)
def test_cited_references_do_not_link(text: str) -> None:
    found = extract_text(text, "HK")
    assert found
    for ind in found:
        assert not ind.linkable, (ind.type, ind.value)
        assert ind.role == "reference"


def test_a_link_the_victim_was_told_to_install_from_is_the_offenders() -> None:
    [url, domain] = extract_text("See, she made me install it from http://ring-apk.top/a.apk", "HK")
    assert url.linkable and domain.linkable and url.strong


# -- hosting platforms -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("someone.000webhostapp.com", "someone.000webhostapp.com"),
        ("www.x.tumblr.com", "x.tumblr.com"),
        ("y.blogspot.com", "y.blogspot.com"),
        ("z.netlify.app", "z.netlify.app"),
        ("ring.github.io", "ring.github.io"),
        ("a.wordpress.com", "a.wordpress.com"),
    ],
)
def test_a_user_host_on_a_hosting_platform_is_its_own_key(host: str, key: str) -> None:
    assert registrable_domain(host) == key


def test_a_hosting_platforms_own_domain_never_links() -> None:
    found = {i.value: i for i in extract_text("https://www.tumblr.com/ and forms.gle", "HK")}
    assert not found["tumblr.com"].linkable


@pytest.mark.parametrize(
    ("url", "page"),
    [
        ("https://forms.gle/AbC123xyz", "forms.gle/AbC123xyz"),
        ("http://bit.ly/3xYz9", "bit.ly/3xYz9"),
        ("https://docs.google.com/forms/d/e/1FAIpQL/viewform", "docs.google.com/forms/d/e/1FAIpQL"),
        ("https://drive.google.com/file/d/1aBc/view?usp=sharing", "drive.google.com/file/d/1aBc"),
        ("https://www.dropbox.com/s/k3y/video.mp4?dl=0", "dropbox.com/s/k3y"),
    ],
)
def test_a_page_on_a_path_platform_is_keyed_by_its_path(url: str, page: str) -> None:
    found = {i.type: i for i in extract_text(f"he sent {url} to me", "HK")}
    assert found["page"].value == page and found["page"].linkable
    domains = [i for i in extract_text(f"he sent {url} to me", "HK") if i.type == "domain"]
    assert all(not d.linkable for d in domains)


# -- handle-like words -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Telegram: Fake crowdsale site", "Instagram: Beautiful girl profile", "微信：lovely"],
)
def test_a_bare_word_after_a_platform_is_not_a_handle(text: str) -> None:
    [ind] = extract_text(text, "HK")
    assert not ind.linkable and ind.role == "word"


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ("Telegram: @fake", "fake"),
        ("Telegram ID: lovely", "lovely"),
        ("Telegram: Lily_889", "lily_889"),
        ("Telegram: JohnDoe", "johndoe"),
        ("微信：abc123", "abc123"),
        ("t.me/plainword", "plainword"),
    ],
)
def test_a_handle_with_support_links(text: str, handle: str) -> None:
    found = [i for i in extract_text(text, "HK") if i.value == handle]
    assert found and found[0].linkable


# -- unknown-format structured identifiers ------------------------------------------------


def test_an_unknown_wallet_in_a_structured_field_is_kept_unvalidated() -> None:
    wallet = "rPEPPER7kfTD9w2To4CQk6UCfuHM9c6GDY"
    doc = ReportDocument.model_validate(
        report(offender_identifiers=[{"type": "crypto_wallet", "value": f" {wallet} "}])
    )
    [ind] = extract_report(doc)
    assert (ind.type, ind.value, ind.linkable) == ("crypto_wallet", wallet, True)
    assert ind.attributes == {"validated": "false"} and ind.strong


@pytest.mark.parametrize("value", ["unknown", "n/a", "see above", "abc", "1234"])
def test_short_or_wordy_structured_values_are_not_kept(value: str) -> None:
    doc = ReportDocument.model_validate(
        report(offender_identifiers=[{"type": "crypto_wallet", "value": value}])
    )
    assert extract_report(doc) == []


# -- text cues: same clause, not negated, not about a publication, only payable things -----


def _strong(text: str, country: str, type_: str) -> list[bool]:
    return [i.strong for i in extract_text(text, country) if i.type == type_]


@pytest.mark.parametrize(
    "text",
    [
        "Bank page https://fraudhelp-demo.top/g says never pay.",
        "Their FAQ: don't download from https://safety-demo.top/faq",
        "Polis kata https://amaran-demo.top/a jangan bayar apa-apa",
        "官方網頁 https://jingshi-demo.top/x 說不要下載任何軟件",
    ],
)
def test_a_negated_install_or_pay_cue_makes_nothing_strong(text: str) -> None:
    assert _strong(text, "SG", "url") == [False]


@pytest.mark.parametrize(
    "text",
    [
        "This article shows how they get victims to install apps: https://dailypaper-demo.top/n/77",
        "A warning explained how they make you pay: https://bulletin-demo.top/w/5",
        "新聞說他們會叫你安裝程式 https://xinwen-demo.top/a/1",
        "Berita ni cerita macam mana diorang suruh bayar https://akhbar-demo.top/b/2",
    ],
)
def test_a_clause_about_a_publication_cites_its_link_even_with_a_cue(text: str) -> None:
    [url] = [i for i in extract_text(text, "MY") if i.type == "url"]
    assert url.role == "reference" and not url.linkable and not url.strong


@pytest.mark.parametrize(
    "text",
    [
        # a cue in the previous CJK phrase, no full stop in between
        "我已經匯款給她 後來她傳了 https://chat-demo.top/room 給我",
        # a connective starts a new clause
        "Nag-transfer ako tapos nagpadala siya ng https://usap-demo.top/r",
        # single-character stems are no cue (轉介 = referral, 转告 = pass on)
        "社工轉介我去 https://help-demo.top/x",
        "朋友转告我 https://note-demo.top/y",
    ],
)
def test_a_cue_outside_the_clause_or_inside_another_word_is_none(text: str) -> None:
    assert _strong(text, "PH", "url") == [False]


@pytest.mark.parametrize(
    "text",
    [
        "she made me download it from https://app-demo.top/get",
        "叫我去 https://pay-demo.top/p 付款",
        "suruh saya bayar di https://bayar-demo.top/q",
        "她叫我轉帳到 https://zhuan-demo.top/t",
    ],
)
def test_an_install_or_pay_cue_on_a_link_in_its_clause_is_strong(text: str) -> None:
    assert _strong(text, "HK", "url") == [True]


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("He told me to pay, then texted from +852 6234 5178.", "phone"),
        ("After I transferred the money she emailed me from ling.demo@example-mail.top", "email"),
        ("Download the app she said, Telegram @mei_demo_77", "telegram"),
    ],
)
def test_a_text_cue_never_makes_a_number_email_or_handle_strong(text: str, type_: str) -> None:
    found = [i for i in extract_text(text, "HK") if i.type == type_]
    assert found and not any(i.strong for i in found)


def test_a_domain_inferred_from_a_structured_url_is_not_strong_alone() -> None:
    doc = ReportDocument.model_validate(
        report(offender_identifiers=[{"type": "url", "value": "https://cdn7.ring-demo.top/a"}])
    )
    strong = {i.type: i.strong for i in extract_report(doc)}
    assert strong == {"url": True, "domain": False}
    doc = ReportDocument.model_validate(
        report(offender_identifiers=[{"type": "url", "value": "https://www.ring-demo.top/a"}])
    )
    assert {i.type: i.strong for i in extract_report(doc)} == {"url": True, "domain": True}


@pytest.mark.parametrize(
    "text",
    [
        "https://blog-demo.top/post/9 - same modus as mine",
        "https://kahani-demo.top/x ke anusaar bahut log phase",
        "我查到 https://chaxun-demo.top/r/4",
    ],
)
def test_a_cite_cue_after_the_link_or_in_another_language_makes_it_a_reference(text: str) -> None:
    [url] = [i for i in extract_text(text, "IN") if i.type == "url"]
    assert url.role == "reference" and not url.linkable


@pytest.mark.parametrize(
    "text", ["Telegram ID: admin", "TG username: Support", "wechat id: helpdesk"]
)
def test_a_role_name_after_a_platform_is_no_handle(text: str) -> None:
    assert not [i for i in extract_text(text, "SG") if i.linkable]


# -- help lines of other regions, and the lines added for issue 23 ----------------------------


@pytest.mark.parametrize(
    ("number", "region", "country"),
    [
        ("6389 2222", "SG", "IN"),  # IMH, written by an Indian reporter
        ("1800 339 6963", "SG", "IN"),  # DBS fraud line: a valid Indian toll-free form too
        ("2886 8868", "HK", "SG"),
        ("03-6204 7788", "MY", "SG"),
        ("0345 734 5345", "GB", "AU"),
        ("62-150-0888", "ID", "ID"),  # Halo BCA's 1500888 with the country code, no "+"
    ],
)
def test_a_listed_line_in_its_national_form_is_help_wherever_the_reporter_is(
    number: str, region: str, country: str
) -> None:
    [(_, reason)] = _one(f"I rang {number} for advice", country, "phone")
    assert reason and "help line" in reason and f", {region})" in reason


def test_every_added_bank_or_crisis_line_has_a_source_and_parses() -> None:
    folder = Path(__file__).parents[1] / "src/ringtrace/indicators/data/helplines"
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        for n in data["numbers"]:
            if "source" in n:
                assert n["source"].startswith("https://") and n["source"] in data["sources"]
                digits = "".join(c for c in n["number"] if c.isdigit())
                assert len(digits) <= 6 or any(
                    h.number == n["number"] for h in helplines().by_e164.values()
                ), n["number"]


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("GDEMOXLMWALLET7QZ4KJ2PHXW9 memo: 55120", "GDEMOXLMWALLET7QZ4KJ2PHXW9"),
        ("(tag 9931) rDemoRipple5kQw8ZzP2mXn4Yt", "rDemoRipple5kQw8ZzP2mXn4Yt"),
        ("BEP20-USDT-address-here", None),
        ("Binance-Pay-ID-2024", None),
    ],
)
def test_an_unvalidated_field_keeps_its_longest_token_and_refuses_labels(
    value: str, kept: str | None
) -> None:
    doc = ReportDocument.model_validate(
        report(offender_identifiers=[{"type": "crypto_wallet", "value": value}])
    )
    assert [i.value for i in extract_report(doc)] == ([kept] if kept else [])


# -- linking, on both backends -------------------------------------------------------------


def add(store: Store, **fields: object) -> int:
    return ingest(store, receive(line(report(**fields)))).report_id


def cluster_of(store: Store, report_id: int) -> int | None:
    return store.reports.get(report_id).summary.cluster_id


def test_each_class_links_only_offender_evidence(store: Store) -> None:
    strangers = [
        add(store, reporter={"country": "HK"}, narrative="I called the police hotline 2527 7177."),
        add(
            store,
            reporter={"country": "HK"},
            narrative="Police hotline +852-2527-7177 told me to report.",
        ),
        add(
            store,
            reporter={"country": "SG"},
            narrative="See https://www.virustotal.com/gui/file/abc1",
        ),
        add(
            store,
            reporter={"country": "SG"},
            narrative="see https://www.virustotal.com/gui/file/abc1 too",
        ),
        add(store, narrative="His site http://aa.000webhostapp.com/ was down."),
        add(store, narrative="His site http://bb.000webhostapp.com/ was down."),
        add(store, narrative="Telegram: Fake crowdsale site"),
        add(store, narrative="Telegram: Fake crowdsale site again"),
    ]
    assert all(cluster_of(store, r) == r for r in strangers)
    detail = store.reports.get(strangers[0])
    [phone] = detail.indicators
    assert phone.excluded_reason and "help line" in phone.excluded_reason
    assert phone.occurrences[0].role == "help" and phone.occurrences[0].source == "narrative"
    wallet = "rPEPPER7kfTD9w2To4CQk6UCfuHM9c6GDY"
    a = add(store, offender_identifiers=[{"type": "crypto_wallet", "value": wallet}])
    b = add(
        store,
        payments=[{"kind": "demanded", "method": "crypto", "account": wallet, "currency": "XRP"}],
    )
    c = add(store, narrative="made me pay on https://ring.000webhostapp.com/pay.html")
    d = add(store, narrative="install from http://ring.000webhostapp.com/app.apk")
    assert cluster_of(store, b) == a and cluster_of(store, d) == c
    assert {lk.key.value for lk in store.clusters.get(a).links} == {wallet}


# -- the scenario's floors --------------------------------------------------------------------


def _scenario_score(store: Store, classes: frozenset[str]) -> tuple[float, float]:
    sc = generate(seed=7, background=300, hard=True, classes=classes)
    import_lines(store, [json.dumps(d, ensure_ascii=False) for d in sc.reports])
    predicted = [[(r.source, r.external_id) for r in c.reports] for c in store.clusters.many()]
    refs = [(d["source"], d["external_id"]) for d in sc.reports]
    truth = {k: v for k, v in sc.truth.items() if v is not None}
    result = score(predicted, refs, truth)
    return result.pairwise.precision, result.pairwise.recall


_FLOOR_CLASSES = [c for c in CLASSES if c != "crowd"]  # crowd needs corroboration (next step)


@pytest.mark.parametrize("classes", [*([c] for c in _FLOOR_CLASSES), list(_FLOOR_CLASSES)], ids=str)
def test_floors_hold_with_each_class_and_all(store: Store, classes: list[str]) -> None:
    precision, recall = _scenario_score(store, frozenset(classes))
    assert precision >= 0.99 and recall >= 0.95, (precision, recall)


def test_truth_file_format() -> None:
    truth = load_truth('{"hk-police|HK-1": "ring-a", "sg|x|y": 3, "gb|Z": null}')
    assert truth == {("hk-police", "HK-1"): "ring-a", ("sg", "x|y"): 3}


# -- corroboration -----------------------------------------------------------------------


def test_a_key_mentioned_in_passing_by_unrelated_reports_is_a_suggestion(store: Store) -> None:
    passing = [
        add(store, narrative=f"I keep getting calls from +65 8123 4567. Case {i}.")
        for i in range(3)
    ]
    assert all(cluster_of(store, r) == r for r in passing)
    [phone] = store.reports.get(passing[0]).indicators
    assert phone.excluded_reason and "until corroborated" in phone.excluded_reason
    assert suggestion_finder.refresh(store) == 2
    rows = [s for s in store.suggestions.find() if s["kind"] == "shared_key"]
    assert {s["score"] for s in rows} == {0.5}
    assert all(s["key"] == {"type": "phone", "value": "+6581234567"} for s in rows)
    decisions.decide_suggestion(store, rows[0]["id"], accept=True, reason="same caller, checked")
    assert cluster_of(store, passing[0]) == cluster_of(store, passing[1]) or cluster_of(
        store, passing[0]
    ) == cluster_of(store, passing[2])
    # One report that names the number as the offender's corroborates it: all link.
    strong = add(store, offender_identifiers=[{"type": "phone", "value": "+65 8123 4567"}])
    assert {cluster_of(store, r) for r in [*passing, strong]} == {passing[0]}


def test_two_reports_sharing_a_number_in_passing_still_link(store: Store) -> None:
    a = add(store, narrative="He called me from +65 8123 9999.")
    b = add(store, narrative="The caller used +65 8123 9999 too.")
    assert cluster_of(store, b) == a


def test_holders_tied_by_other_evidence_corroborate_a_key(store: Store) -> None:
    server = "install the app from http://45.77.1.2/app.apk"
    ids = [
        add(store, narrative=f"{server}. Later he wrote from +65 8111 222{i % 2}.")
        for i in range(4)
    ]
    # Each number is held by two reports; the server ties every report together anyway.
    assert {cluster_of(store, r) for r in ids} == {ids[0]}


def test_a_ring_sharing_nothing_but_the_apps_server_links(store: Store) -> None:
    ids = [
        add(
            store,
            reporter={"country": "MY"},
            narrative=f"Dia suruh saya pasang aplikasi dari hxxp://185.244.30.71/v{i}/app.apk",
        )
        for i in range(5)
    ]
    assert {cluster_of(store, r) for r in ids} == {ids[0]}


# -- local recompute ---------------------------------------------------------------------


def test_cuts_and_withdrawals_recompute_locally_as_a_rebuild_would(store: Store) -> None:
    from ringtrace.domain.models import LinkKey, ReportRef

    sc = generate(seed=3, background=200, hard=True, classes=frozenset(CLASSES))
    import_lines(store, [json.dumps(d, ensure_ascii=False) for d in sc.reports])
    ring = [ref for ref, g in sc.truth.items() if g == "ring-privatechat"]
    decisions.cut(store, LinkKey("domain", "chat-priv.top"), reason="checking local recompute")
    decisions.cut(
        store, LinkKey("ip", "185.244.30.71"), reason="the rotator's server, for the test"
    )
    erasure.withdraw(store, ReportRef(*ring[0]), reason="the reporter asked")
    decisions.merge(store, ReportRef(*ring[1]), ReportRef(*ring[-1]), reason="undercover chat")
    local = store.clusters.assignments()
    relink.rebuild(store, extract_report)
    assert store.clusters.assignments() == local


def test_a_wallet_written_in_free_text_is_strong_evidence(store: Store) -> None:
    wallet = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    ids = [add(store, narrative=f"Case {i}: the wallet was {wallet}.") for i in range(4)]
    assert {cluster_of(store, r) for r in ids} == {ids[0]}


def test_evaluate_scores_a_collection_given_as_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ringtrace.cli import app

    docs = [
        report(external_id="A1", offender_identifiers=[{"type": "phone", "value": "+85261234567"}]),
        report(external_id="A2", narrative="pay to +852 6123 4567 now"),
        report(external_id="B1", narrative="I called the police hotline +852 2527 7177."),
        report(external_id="B2", narrative="police hotline 2527 7177", reporter={"country": "HK"}),
    ]
    (tmp_path / "r.jsonl").write_text("\n".join(line(d) for d in docs))
    truth = {"test-agency|A1": "ring", "test-agency|A2": "ring"}  # B1, B2: alone
    (tmp_path / "t.json").write_text(json.dumps(truth))
    args = ["evaluate", "--reports", str(tmp_path / "r.jsonl"), "--truth", str(tmp_path / "t.json")]
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["reports"] == 4 and out["rings"] == {"ring": 2}
    assert out["pairwise"]["precision"] == 1.0 and out["pairwise"]["recall"] == 1.0
    res = CliRunner().invoke(app, ["evaluate", "--reports", str(tmp_path / "r.jsonl")])
    assert res.exit_code != 0
