"""Classes of real input planted in the scenario, each where a linker goes wrong on it.

Each planter adds what real reports carry, in the ring reports and in the background alike,
so that a linker that mishandles the class joins strangers (precision) or misses a ring
(recall). Values are synthetic, except the help lines and cited sites, which are the public
ones of ``ringtrace.indicators.data``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import phonenumbers

from ringtrace.indicators.helplines import helplines

if TYPE_CHECKING:
    from ringtrace.demo.scenario import _Builder, _Uniq

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_FULL = str.maketrans("+0123456789", "＋０１２３４５６７８９")


def _append(doc: dict[str, Any], sentence: str) -> None:
    doc["narrative"] = ((doc.get("narrative") or "") + " " + sentence).strip()


def _lang(doc: dict[str, Any]) -> str:
    return str(doc["reporter"].get("language") or "en")


def _written(e164: str, style: int) -> str:
    """A number the ways victims write it: local, E.164, spaced, dashed, full-width."""
    num = phonenumbers.parse(e164)
    intl = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    natl = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
    forms = [natl, e164, intl, intl.replace(" ", "-"), natl.translate(_FULL), natl.replace(" ", "")]
    return str(forms[style % len(forms)])


_HELP_SENTENCES = {
    "en": "I called the {name} on {num} and they told me to report it.",
    "zh-Hant": "我打咗{num}（{name}）求助。",
    "zh-Hans": "我打了{num}（{name}）求助。",
    "ms": "Saya telefon {name} di {num} untuk bantuan.",
}


def helplines_class(rng: random.Random, uniq: _Uniq, b: _Builder) -> dict[str, list[str]]:
    """Official, police, crisis and bank numbers that victims of every ring and of none
    mention, in every written form; and short codes ("I called 999")."""
    data = helplines()
    by_region: dict[str, list[tuple[str, str]]] = {}
    for e164, entry in sorted(data.by_e164.items()):
        by_region.setdefault(entry.region, []).append((e164, entry.name))
    for doc in b.reports:
        country = doc["reporter"]["country"]
        if country not in by_region or rng.random() > 0.35:
            continue
        e164, name = rng.choice(by_region[country])
        text = _HELP_SENTENCES.get(_lang(doc), _HELP_SENTENCES["en"])
        _append(doc, text.format(name=name, num=_written(e164, rng.randrange(12))))
        if rng.random() < 0.3:
            _append(doc, "I also called 999.")
    return {}


_CITED = [
    "https://www.virustotal.com/gui/file/5f2b7c1e9a0d4b3c8e6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
    "https://www.scmp.com/news/hong-kong/law-and-crime/article/3251234/sextortion-apps",
    "https://www.straitstimes.com/singapore/courts-crime/sextortion-cases-rise",
    "https://www.police.gov.hk/ppp_en/04_crime_matters/adcc/",
    "https://www.scamshield.gov.sg/",
    "https://x.com/malwarehunterteam/status/1790000000000000000",
    "https://medium.com/@threat-notes/privatechat-apk-analysis-2024",
    "https://scam-research-notes.net/2024/05/sextortion-apk-family",
    "https://www.bbc.co.uk/news/technology-68000000",
    "https://urlscan.io/result/0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e/",
]
_CITE_SENTENCES = {
    "en": [
        "See {url} for the analysis.",
        "According to {url}, this is a known scam.",
        "There is a news article about it: {url}",
        "A researcher's post about the same app: {url}",
    ],
    "zh-Hant": ["參考 {url}", "根據 {url} 的報道，這是詐騙。"],
    "zh-Hans": ["参考 {url}", "根据 {url} 的报道，这是诈骗。"],
    "ms": ["Menurut {url}, ini penipuan.", "Lihat {url}"],
}


def references_class(rng: random.Random, uniq: _Uniq, b: _Builder) -> dict[str, list[str]]:
    """Analysis pages, news articles, researchers' posts and police sites that reports of
    every ring and of none cite."""
    for doc in b.reports:
        if rng.random() > 0.3:
            continue
        sentences = _CITE_SENTENCES.get(_lang(doc), _CITE_SENTENCES["en"])
        _append(doc, rng.choice(sentences).format(url=rng.choice(_CITED)))
    return {}


_PLATFORMS = [
    "000webhostapp.com", "tumblr.com", "blogspot.com", "netlify.app", "github.io",
    "wordpress.com", "weebly.com",
]  # fmt: skip


def hosting_class(rng: random.Random, uniq: _Uniq, b: _Builder) -> dict[str, list[str]]:
    """A ring whose only shared key is its site on a free host; background offenders with
    their own sites on the same platforms, and their own shortened links, forms and files."""
    host = f"{uniq.token(_LOWER, 6)}-pay.000webhostapp.com"
    for i in range(6):
        country = ["HK", "SG", "MY"][i % 3]
        doc = b.base(country, "ring-hosted")
        path = rng.choice(["/pay.html", "/app.apk", "/", "/index.php?id=" + str(i)])
        url = rng.choice([f"https://{host}{path}", f"http://{host}{path}", f"{host}{path}"])
        where = rng.choice(["told me to pay on {u}", "made me install the app from {u}"])
        doc["narrative"] = "The woman " + where.format(u=url) + "."
        doc["offender_identifiers"] = [{"type": "phone", "value": uniq.phone(country)}]
    shared = [
        "https://forms.gle/{t}", "https://bit.ly/{t}", "https://docs.google.com/forms/d/e/{t}/viewform",
        "https://drive.google.com/file/d/{t}/view", "https://www.dropbox.com/s/{t}/video.mp4",
    ]  # fmt: skip
    for doc in b.reports:
        if b.truth[(doc["source"], doc["external_id"])] is not None or rng.random() > 0.5:
            continue
        site = f"{uniq.token(_LOWER, 8)}.{rng.choice(_PLATFORMS)}"
        link = rng.choice(shared).format(t=uniq.token(_B58, 12))
        _append(doc, f"His page was https://{site}/ and he sent {link} to me.")
    return {"ring-hosted": [host]}


_WORDS = [
    "Telegram: Fake crowdsale site", "Instagram: Beautiful girl profile",
    "WeChat: Lovely lady", "Line: Investment group chat", "Snapchat: Private videos",
    "Telegram: Scam investment group", "TikTok: Dance videos",
]  # fmt: skip


def handle_words_class(rng: random.Random, uniq: _Uniq, b: _Builder) -> dict[str, list[str]]:
    """Platform names followed by ordinary words in unrelated reports; and a ring whose
    handle is written after the platform's name with what shows it is a handle."""
    for doc in b.reports:
        if b.truth[(doc["source"], doc["external_id"])] is None and rng.random() < 0.3:
            _append(doc, rng.choice(_WORDS) + ".")
    handle = f"Lily_{uniq.token('0123456789', 3)}"
    for i in range(5):
        country = ["IN", "MY"][i % 2]
        doc = b.base(country, "ring-handle")
        written = [f"Telegram: {handle}", f"Telegram @{handle.lower()}", f"t.me/{handle}"][i % 3]
        doc["narrative"] = f"She added me on {written} and asked for a video call."
        if i % 2 == 0:
            doc["offender_identifiers"] = [{"type": "telegram", "value": handle}]
    return {"ring-handle": [handle.lower()]}


def _xrp(uniq: _Uniq) -> str:
    while True:
        tok = "r" + uniq.token(_B58, 33)
        if any(c.isdigit() for c in tok):
            return tok


def unknown_ids_class(rng: random.Random, uniq: _Uniq, b: _Builder) -> dict[str, list[str]]:
    """A ring whose only shared key is a wallet of a coin no validator covers, given in a
    structured field or as the account to pay into; unrelated reports with their own."""
    wallet = _xrp(uniq)
    for i in range(5):
        country = ["GB", "US"][i % 2]
        doc = b.base(country, "ring-unknown-coin")
        doc["narrative"] = "He threatened to send the video to my family unless I paid in XRP."
        if i % 2 == 0:
            doc["offender_identifiers"] = [{"type": "crypto_wallet", "value": wallet}]
        else:
            doc["payments"] = [
                {"kind": "demanded", "amount": 400, "currency": "XRP", "method": "crypto",
                 "account": wallet}
            ]  # fmt: skip
    for doc in b.reports:
        if b.truth[(doc["source"], doc["external_id"])] is None and rng.random() < 0.1:
            ids = doc.setdefault("offender_identifiers", [])
            ids.append({"type": "crypto_wallet", "value": _xrp(uniq)})
    return {"ring-unknown-coin": [wallet]}


def crowd_class(rng: random.Random, uniq: _Uniq, b: _Builder) -> dict[str, list[str]]:
    """A number and an address that a crowd of unrelated reports mention in passing (a
    spam caller everyone gets, an unlisted bank line), sharing nothing else."""
    number = uniq.phone("SG")
    mail = f"verify@{uniq.token(_LOWER, 7)}-secure.com"
    background = [d for d in b.reports if b.truth[(d["source"], d["external_id"])] is None]
    for doc in rng.sample(background, min(40, len(background))):
        if rng.random() < 0.6:
            _append(
                doc, f"I also keep getting calls from {_written(number, 1 + rng.randrange(3))}."
            )
        else:
            _append(doc, f"Later I got mail from {mail} too.")
    # A page the crowd mentions, which a few reports' words read as where they installed
    # from: their cue is outvoted by the holders that only mention it. Its own random
    # stream, so that the classes planted after this one are the same documents as before.
    own = random.Random(f"crowd-page-{len(background)}")
    page = f"https://{uniq.token(_LOWER, 8)}-help.net/remove-spy-app"
    for i, doc in enumerate(own.sample(background, min(30, len(background)))):
        if i % 6 == 0:
            _append(doc, f"She made me download it from {page}")
        else:
            _append(doc, f"Then I went to {page} to remove it.")
    return {}


_CUE_SENTENCES = {
    "en": [
        "The advice page {url} says never to pay them.",
        "This article explains how they make you install the app: {url}",
        "After I paid I rang {num} for help.",
    ],
    "zh-Hant": ["網上說會叫你下載程式 {url}", "我已經轉帳 後來打咗去 {num}"],
    "zh-Hans": ["网上说会让你下载软件 {url}", "我已经转账 后来打了 {num}"],
    "ms": [
        "Berita ni terangkan macam mana diorang suruh pasang app: {url}",
        "Selepas bayar saya telefon {num}.",
    ],
}


def cue_context_class(rng: random.Random, uniq: _Uniq, b: _Builder) -> dict[str, list[str]]:
    """Install and pay words near values that are not where the victim paid or installed
    (advice not to pay, an article about the app, a number rung after paying, a cue in the
    previous phrase), in a crowd of unrelated reports that share nothing else."""
    url = f"https://{uniq.token(_LOWER, 7)}-advice.org/sextortion"
    number = uniq.phone("MY")
    background = [d for d in b.reports if b.truth[(d["source"], d["external_id"])] is None]
    for doc in rng.sample(background, min(40, len(background))):
        sentences = _CUE_SENTENCES.get(_lang(doc), _CUE_SENTENCES["en"])
        num = _written(number, 1 + rng.randrange(3))
        _append(doc, rng.choice(sentences).format(url=url, num=num))
    return {}


_WARNING_SENTENCES = {
    "en": [
        "A scam alert shared in my neighbourhood group lists {v}; my case is a different one.",
        "The police advisory on Facebook names {v} as a sextortion contact.",
        "I read a bank bulletin that flagged {v}, but that is not who contacted me.",
    ],
    "zh-Hant": ["警方通告提到{v}係騙徒，但搵我嘅唔係佢。"],
    "zh-Hans": ["新闻提醒大家{v}是诈骗的，我遇到的是别人。"],
    "ms": ["Ada amaran di Facebook pasal {v}, tapi bukan yang kacau saya."],
}


def warnings_class(rng: random.Random, uniq: _Uniq, b: _Builder) -> dict[str, list[str]]:
    """Public warnings that quote a ring's number or payment account, repeated by reports
    of the background: the ring gives the value in structured fields (strong), so a linker
    that reads the quote as the offender's joins every reader of the warning to the ring."""
    quoted: list[str] = []
    for doc in b.reports:
        if b.truth[(doc["source"], doc["external_id"])] is None:
            continue
        quoted += [i["value"] for i in doc.get("offender_identifiers", []) if i["type"] == "phone"]
        quoted += [p["account"] for p in doc.get("payments", []) if p.get("account")]
    if not quoted:
        return {}
    values = sorted(set(quoted))
    background = [d for d in b.reports if b.truth[(d["source"], d["external_id"])] is None]
    for doc in rng.sample(background, min(40, len(background))):
        sentences = _WARNING_SENTENCES.get(_lang(doc), _WARNING_SENTENCES["en"])
        _append(doc, rng.choice(sentences).format(v=rng.choice(values)))
    # And the other side: a ring known only by the wallet its victims were told to pay into,
    # written after the offender's own threat ("he sent me a warning: pay into …"); a linker
    # that reads every "warning" as a published one loses the ring.
    wallet = uniq.tron()
    for i in range(4):
        doc = b.base(["MY", "SG", "HK", "MY"][i], "ring-threat")
        sentences = _THREAT_SENTENCES.get(_lang(doc), _THREAT_SENTENCES["en"])
        _append(doc, sentences[i % len(sentences)].format(w=wallet))
    return {"ring-threat": [wallet]}


_THREAT_SENTENCES = {
    "en": [
        "He sent me a warning: pay 300 USDT into {w} or the video goes to my family.",
        "Final warning from her, transfer to {w} tonight.",
    ],
    "zh-Hant": ["佢警告我：轉300 USDT去 {w}，唔係就放片。"],
    "zh-Hans": ["他警告我：转300 USDT到 {w}，不然就发视频。"],
    "ms": ["Dia bagi amaran, suruh bayar 300 USDT ke {w} malam ni."],
}


PLANT: dict[str, Callable[[random.Random, Any, Any], dict[str, list[str]]]] = {
    "helplines": helplines_class,
    "references": references_class,
    "hosting": hosting_class,
    "handle_words": handle_words_class,
    "unknown_ids": unknown_ids_class,
    "crowd": crowd_class,
    "cue_context": cue_context_class,
    "warnings": warnings_class,
}
