"""A seeded, deterministic synthetic scenario with ground truth.

Modelled on the investigation this project is named for: one ring of about 34 victims in
Hong Kong and Singapore who were all made to install the same "PrivateChat" app, were
threatened from two phone numbers, and were told to pay into a few accounts, each victim
writing those details in their own way and language. Around it: smaller rings elsewhere and
unrelated background reports that mention the same big platforms, private router addresses,
documentation examples and the reporters' own contact details, none of which may link.

Every value is synthetic. Phone numbers are random valid-format numbers, accounts and
wallets are random (wallets with correct checksums), domains use invented names.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import phonenumbers

# Classes of real input the scenario can plant (ringtrace.demo.classes).
CLASSES = (
    "helplines", "references", "hosting", "handle_words", "unknown_ids", "crowd", "cue_context",
    "warnings",
)  # fmt: skip

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58check(payload: bytes) -> str:
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


@dataclass(frozen=True)
class Scenario:
    """Report documents (report-v1) and each report's true ring (None: unrelated)."""

    seed: int
    reports: list[dict[str, Any]]
    truth: dict[tuple[str, str], str | None]
    rings: dict[str, list[str]] = field(default_factory=dict)  # ring -> its planted key values

    def ring_sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for ring in self.truth.values():
            if ring is not None:
                sizes[ring] = sizes.get(ring, 0) + 1
        return sizes


_COUNTRIES: dict[str, dict[str, Any]] = {
    "HK": {"source": "hk-police", "tz": 8, "prefix": "HK", "langs": ["en", "zh-Hant"]},
    "SG": {"source": "sg-police", "tz": 8, "prefix": "SG", "langs": ["en", "zh-Hans", "ms", "ta"]},
    "MY": {"source": "my-helpline", "tz": 8, "prefix": "MY", "langs": ["ms", "en"]},
    "IN": {"source": "in-cybercell", "tz": 5.5, "prefix": "IN", "langs": ["hi", "en", "ta"]},
    "KR": {"source": "kr-police", "tz": 9, "prefix": "KR", "langs": ["ko"]},
    "GB": {"source": "gb-helpline", "tz": 0, "prefix": "GB", "langs": ["en"]},
    "US": {"source": "us-tipline", "tz": -5, "prefix": "US", "langs": ["en"]},
    "TW": {"source": "tw-165", "tz": 8, "prefix": "TW", "langs": ["zh-Hant"]},
}

# The demo's public page sends each country's reports to that country's agency, and the
# rest (no country given, or one without an agency here) to a regional intake helpline.
PUBLIC_ROUTES: dict[str, str] = {country: c["source"] for country, c in _COUNTRIES.items()}
INTAKE_AGENCY = "intake-helpline"

# How a mobile number of each country is drawn: (country code, first digits, total length).
_MOBILE: dict[str, tuple[str, list[str], int]] = {
    "HK": ("852", ["5", "6", "9"], 8),
    "SG": ("65", ["8", "9"], 8),
    "MY": ("60", ["12", "13", "16", "17", "19"], 9),
    "IN": ("91", ["98", "97", "96", "88", "70"], 10),
    "KR": ("82", ["10"], 10),
    "GB": ("44", ["74", "75", "78", "79"], 10),
    "US": ("1", ["212", "415", "646", "718"], 10),
    "TW": ("886", ["9"], 9),
}

# The ring's first message, before the video call (no identifier in it).
_HELLO: dict[str, str] = {
    "en": "Hi handsome, I saw your profile. Free for a video call tonight?",
    "zh-Hant": "你好呀，睇到你嘅資料，今晚得唔得閒視像傾偈？",
    "zh-Hans": "你好呀，看到你的资料，今晚有空视频聊天吗？",
    "ms": "Hai, saya nampak profil awak. Free untuk video call malam ni?",
}

_THREATS: dict[str, list[str]] = {
    "en": [
        "Pay {amount} {cur} to {acct} within 24 hours or I send your video to all your contacts.",
        "pay {amount}{cur} to {acct} in 24hrs or i send ur video to all ur contacts!!",
        "You have 24 hours. Transfer {amount} {cur} to {acct}, or every contact in your phone gets the video.",
    ],
    "zh-Hant": ["24小時內轉{amount}{cur}到{acct}，否則我會把你的影片發給你所有的聯絡人。"],
    "zh-Hans": ["24小时内转{amount}{cur}到{acct}，否则我会把你的视频发给你所有的联系人。"],
    "ms": ["Bayar {amount} {cur} ke {acct} dalam 24 jam atau video awak dihantar kepada semua kenalan awak."],
    "ta": ["24 மணி நேரத்தில் {amount} {cur} {acct} க்கு அனுப்பு, இல்லையெனில் உன் வீடியோ எல்லா தொடர்புகளுக்கும் அனுப்பப்படும்."],
    "hi": ["24 घंटे में {amount} {cur} {acct} पर भेजो, वरना तुम्हारा वीडियो सब contacts को भेज दूँगा।"],
    "ko": ["24시간 안에 {acct}로 {amount} {cur} 보내. 안 보내면 네 영상을 연락처 전원에게 보낸다."],
}  # fmt: skip

_INSTALL: dict[str, str] = {
    "en": "She said the video call was broken and asked me to install an app from {url} to fix it.",
    "zh-Hant": "佢話視像通話有問題，叫我喺{url}下載一個app。",
    "zh-Hans": "她说视频通话有问题，让我从{url}下载一个应用。",
    "ms": "Dia suruh saya pasang aplikasi dari {url} untuk betulkan panggilan video.",
    "ta": "வீடியோ அழைப்பை சரிசெய்ய {url} இலிருந்து ஒரு செயலியை நிறுவச் சொன்னாள்.",
    "hi": "उसने वीडियो कॉल ठीक करने के लिए {url} से एक ऐप इंस्टॉल करने को कहा।",
    "ko": "영상통화가 안 된다며 {url} 에서 앱을 설치하라고 했다.",
}

_CONTACT: dict[str, str] = {
    "en": "Then a man messaged me on WhatsApp from {phone} with the video.",
    "zh-Hant": "之後有個男人用WhatsApp {phone} send咗段片俾我。",
    "zh-Hans": "之后一个男人用WhatsApp {phone} 把视频发给了我。",
    "ms": "Kemudian seorang lelaki hantar video itu melalui WhatsApp dari {phone}.",
    "ta": "பின்னர் ஒருவன் WhatsApp {phone} இலிருந்து வீடியோவை அனுப்பினான்.",
    "hi": "फिर एक आदमी ने WhatsApp {phone} से वीडियो भेजा।",
    "ko": "그 후 한 남자가 WhatsApp {phone} 으로 영상을 보냈다.",
}

_BACKGROUND_NARRATIVES = [
    "I met someone on instagram.com who moved the chat to WhatsApp (https://www.whatsapp.com/). "
    "After a video call they demanded money. My router page 192.168.1.1 showed nothing odd.",
    "Someone on Tinder asked me to chat on Telegram (t.me) and later threatened me. "
    "They wanted me to pay, I refused. The site example.com was in their profile.",
    "A profile on facebook.com sent me a friend request, then threatened to post photos. "
    "I blocked them. Their message included http://203.0.113.7/ which looks like a test.",
    "I got an email saying they had recorded me through my webcam and wanted bitcoin. "
    "I use gmail.com; the email said I had visited sites on x.com.",
]


class _Uniq:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def phone(self, country: str) -> str:
        cc, starts, length = _MOBILE[country]
        while True:
            start = self.rng.choice(starts)
            national = start + "".join(
                str(self.rng.randrange(10)) for _ in range(length - len(start))
            )
            e164 = f"+{cc}{national}"
            if e164 in self.used:
                continue
            if phonenumbers.is_valid_number(phonenumbers.parse(e164)):
                self.used.add(e164)
                return e164

    def token(self, alphabet: str, length: int) -> str:
        while True:
            tok = "".join(self.rng.choice(alphabet) for _ in range(length))
            if tok not in self.used:
                self.used.add(tok)
                return tok

    def tron(self) -> str:
        return _b58check(b"\x41" + bytes(self.rng.randrange(256) for _ in range(20)))

    def btc(self) -> str:
        return _b58check(b"\x00" + bytes(self.rng.randrange(256) for _ in range(20)))

    def bank(self) -> str:
        d = self.token("0123456789", 12)
        return f"{d[:3]}-{d[3:9]}-{d[9:]}"


def _fmt_phone(e164: str, country: str, style: int) -> str:
    """The same number the ways victims write it."""
    num = phonenumbers.parse(e164)
    intl = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    natl = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
    own_country = phonenumbers.region_code_for_number(num) == country
    styles = [
        intl,  # +852 5134 2278
        e164,  # +85251342278
        intl.replace(" ", "-"),  # +852-5134-2278
        "00" + e164[1:],  # 0085251342278
        "00" + intl[1:],  # 00852 5134 2278
    ]
    if own_country:
        styles += [natl, natl.replace(" ", "-"), natl.replace(" ", "")]
    if country in ("HK", "TW") and style % 3 == 0:
        return intl.translate(str.maketrans("+0123456789", "＋０１２３４５６７８９"))
    return styles[style % len(styles)]


def _received(rng: random.Random, country: str, day0: datetime) -> str:
    tz = timezone(timedelta(hours=_COUNTRIES[country]["tz"]))
    at = day0 + timedelta(days=rng.randrange(0, 240), minutes=rng.randrange(0, 1440))
    return at.astimezone(tz).isoformat(timespec="seconds")


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.uniq = _Uniq(self.rng)
        self.counters: dict[str, int] = {}
        self.reports: list[dict[str, Any]] = []
        self.truth: dict[tuple[str, str], str | None] = {}
        self.day0 = datetime(2024, 3, 1, tzinfo=UTC)

    def base(self, country: str, ring: str | None) -> dict[str, Any]:
        c = _COUNTRIES[country]
        n = self.counters[country] = self.counters.get(country, 0) + 1
        rng = self.rng
        lang = rng.choice(c["langs"])
        doc: dict[str, Any] = {
            "format": "ringtrace.report/1",
            "external_id": f"{c['prefix']}-24-{n * 37 + 1000:05d}",
            "source": c["source"],
            "received_at": _received(rng, country, self.day0),
            "reporter": {
                "country": country,
                "language": lang,
                "age_band": rng.choice(["under-18", "18-24", "18-24", "25-34", "25-34", "35-49"]),
                "consent_share": rng.random() < 0.7,
                "consent_contact": rng.random() < 0.5,
            },
            "platform_first_contact": rng.choice(
                ["a dating site", "Tinder", "Bumble", "Tantan", "an adult chat site", "Instagram"]
            ),
            "tlp": rng.choice(["amber", "amber", "green", "amber+strict"]),
        }
        self.reports.append(doc)
        self.truth[(doc["source"], doc["external_id"])] = ring
        return doc


def _main_ring(b: _Builder, size: int = 34) -> list[str]:
    """The PrivateChat ring: HK and SG victims, one app, two numbers, a few accounts."""
    rng, uniq = b.rng, b.uniq
    phone_a, phone_b = uniq.phone("HK"), uniq.phone("HK")
    hsbc = f"HSBC {uniq.bank()}"
    dbs_digits = uniq.token("0123456789", 10)
    dbs = f"DBS {dbs_digits[:3]}-{dbs_digits[3:8]}-{dbs_digits[8:]}"
    wallet = uniq.tron()
    server_ip = "45.77.102.16"
    urls = [
        "hxxp://chat-priv[.]top/app.apk",
        "http://chat-priv.top/app.apk",
        "chat-priv[.]top/app.apk",
        "https://www.chat-priv.top/app.apk",
        "http://CHAT-PRIV.TOP/app.apk#install",
    ]
    for i in range(size):
        country = "HK" if i % 2 == 0 else "SG"
        doc = b.base(country, "ring-privatechat")
        lang = doc["reporter"]["language"]
        phone = phone_a if i < size * 0.6 else phone_b  # the ring rotates its number
        if size * 0.45 < i < size * 0.7:
            phone = rng.choice([phone_a, phone_b])
        account = hsbc if country == "HK" else dbs
        cur = "HKD" if country == "HK" else "SGD"
        parts: list[str] = []
        ids: list[dict[str, str]] = []
        has_url = rng.random() < 0.55
        has_phone = rng.random() < 0.7 or not has_url
        if has_url:
            parts.append(_INSTALL[lang].format(url=rng.choice(urls)))
        if has_phone:
            written = _fmt_phone(phone, country, rng.randrange(10))
            if rng.random() < 0.5:
                parts.append(_CONTACT[lang].format(phone=written))
            else:
                parts.append(_CONTACT[lang].format(phone="(number below)"))
                ids.append({"type": "whatsapp", "value": written})
        if rng.random() < 0.15:
            ids.append({"type": "ip", "value": server_ip.replace(".", "[.]", 1)})
        pay_wallet = rng.random() < 0.25
        acct = wallet if pay_wallet else account
        amount = rng.choice([3000, 5000, 8000, 10000])
        threat = rng.choice(_THREATS[lang]).format(amount=amount, cur=cur, acct=acct)
        doc["narrative"] = " ".join(parts) or "I was threatened after a video call."
        # The story's times, derived from the report's own (no draw from rng, so the rest of
        # the scenario is unchanged): first contact days before, the threat hours after it,
        # a payment two hours after the threat.
        reported = datetime.fromisoformat(doc["received_at"])
        first = reported - timedelta(days=2 + i % 4, hours=i % 7)
        threatened = first + timedelta(hours=3 + i % 5)
        when = {"first": first, "threat": threatened, "paid": threatened + timedelta(hours=2)}
        stamp = {k: v.isoformat(timespec="seconds") for k, v in when.items()}
        doc["messages"] = [
            {"sent_at": stamp["first"], "from": "offender", "channel": "whatsapp",
             "text": _HELLO.get(lang, _HELLO["en"])},
            {"sent_at": stamp["threat"], "from": "offender", "channel": "whatsapp", "text": threat},
        ]  # fmt: skip
        if ids:
            doc["offender_identifiers"] = ids
        pays = [
            {
                "kind": "demanded", "amount": amount, "currency": "USDT" if pay_wallet else cur,
                "method": "crypto" if pay_wallet else "bank_transfer", "account": acct,
                "at": stamp["threat"],
            }
        ]  # fmt: skip
        if rng.random() < 0.3:
            pays.append({**pays[0], "kind": "paid", "amount": amount // 2, "at": stamp["paid"]})
        doc["payments"] = pays
    return [phone_a, phone_b, hsbc, dbs, wallet, server_ip, "chat-priv.top"]


def _small_ring(b: _Builder, name: str, countries: list[str], size: int) -> list[str]:
    rng, uniq = b.rng, b.uniq
    home = countries[0]
    phone = uniq.phone(home)
    handle = f"{uniq.token('abcdefghijklmnopqrstuvwxyz', 6)}_{uniq.token('0123456789', 2)}"
    platform = {"KR": "kakaotalk", "IN": "telegram", "GB": "instagram", "US": "snapchat"}.get(
        home, "telegram"
    )
    wallet = uniq.btc()
    site = f"{uniq.token('abcdefghijklmnopqrstuvwxyz', 7)}-live.site"
    for i in range(size):
        country = countries[i % len(countries)]
        doc = b.base(country, name)
        lang = doc["reporter"]["language"]
        ids: list[dict[str, str]] = []
        choice = i % 3
        if choice in (0, 1):
            shown = handle if rng.random() < 0.5 else f"@{handle.upper()}"
            ids.append({"type": platform, "value": shown})
        if choice in (1, 2):
            ids.append({"type": "phone", "value": _fmt_phone(phone, country, rng.randrange(10))})
        if rng.random() < 0.4:
            ids.append({"type": "url", "value": f"https://{site}/download"})
        doc["offender_identifiers"] = ids
        doc["narrative"] = (
            _INSTALL[lang].format(url="a link") + " " + rng.choice(_BACKGROUND_NARRATIVES)
        )
        if rng.random() < 0.5 or not ids:
            doc["payments"] = [
                {"kind": "demanded", "amount": 500, "currency": "USD", "method": "crypto",
                 "account": wallet}
            ]  # fmt: skip
    return [phone, handle, wallet, site]


def _background(b: _Builder, count: int) -> None:
    rng, uniq = b.rng, b.uniq
    countries = list(_COUNTRIES)
    for _ in range(count):
        country = rng.choice(countries)
        doc = b.base(country, None)
        own = uniq.phone(country)
        offender = uniq.phone(rng.choice(countries))
        doc["reporter"]["contact"] = own
        doc["narrative"] = (
            rng.choice(_BACKGROUND_NARRATIVES)
            + f" They asked for my number and I gave {own}."
            + f" Their WhatsApp was {_fmt_phone(offender, country, 0)}."
        )
        if rng.random() < 0.5:
            doc["offender_identifiers"] = [
                {"type": "instagram", "value": f"{uniq.token('abcdefghijklmnopqrstuvwxyz', 9)}"},
                {"type": "url", "value": "https://www.instagram.com/"},
            ]
        if rng.random() < 0.4:
            doc["payments"] = [
                {"kind": "demanded", "amount": rng.choice([200, 500, 1000]), "currency": "USD",
                 "method": "crypto", "account": uniq.btc()}
            ]  # fmt: skip


def _rotating_ring(b: _Builder, size: int = 12) -> list[str]:
    """A ring that changes its phone number every two victims but keeps its upload server."""
    rng, uniq = b.rng, b.uniq
    server = "185.244.30.71"
    for i in range(size):
        if i % 2 == 0:
            phone = uniq.phone("MY")
        country = rng.choice(["MY", "SG"])
        doc = b.base(country, "ring-rotator")
        lang = doc["reporter"]["language"]
        where = rng.choice(
            [
                f"hxxp://{server}/upload.apk",
                f"http://{server.replace('.', '[.]')}/v2/app.apk",
                server,
            ]
        )
        doc["narrative"] = (
            _INSTALL[lang].format(url=where)
            + " "
            + _CONTACT[lang].format(phone=_fmt_phone(phone, country, rng.randrange(10)))
        )
    return [server]


def _mule(b: _Builder, rings: dict[str, list[str]]) -> None:
    """One money-mule account that two unrelated rings both use: two victims of the
    PrivateChat ring and two of the rotating ring are told to pay into it."""
    account = f"Maybank {b.uniq.token('0123456789', 12)}"
    hit = {"ring-privatechat": 0, "ring-rotator": 0}
    for doc in b.reports:
        ring = b.truth[(doc["source"], doc["external_id"])]
        if ring in hit and hit[ring] < 2:
            hit[ring] += 1
            doc.setdefault("payments", []).append(
                {
                    "kind": "paid",
                    "amount": 800,
                    "currency": "MYR",
                    "method": "bank_transfer",
                    "account": account,
                }
            )
    rings["mule"] = [account]


def _reports_twice(b: _Builder) -> None:
    """A victim of the PrivateChat ring who reports again to a helpline a week later."""
    first = next(
        d for d in b.reports if b.truth[(d["source"], d["external_id"])] == "ring-privatechat"
    )
    again = json.loads(json.dumps(first))
    again["source"] = "sg-helpline"
    again["external_id"] = first["external_id"].replace("-24-", "-24-R")
    again["narrative"] = (again.get("narrative") or "") + " (I already told the police.)"
    b.reports.append(again)
    b.truth[(again["source"], again["external_id"])] = "ring-privatechat"


def generate(
    seed: int = 2024,
    background: int = 120,
    *,
    hard: bool = False,
    classes: frozenset[str] | None = None,
) -> Scenario:
    """The demo scenario. The same seed always gives the same documents.

    ``hard`` adds the cases a linker most often gets wrong: a ring that rotates its phone
    numbers but keeps its server, a money-mule account used by two unrelated rings (which
    must not merge them), a victim who reports twice, and a large background (use
    ``background`` of a few thousand) whose reports share platform domains.

    ``classes`` switches on classes of real input (:data:`CLASSES`), each planted in
    reports of different rings and of the background: help lines, cited references,
    hosting platforms, handle-like words, unknown-format structured identifiers and keys
    shared by a crowd of unrelated reports.
    """
    unknown = set(classes or ()) - set(CLASSES)
    if unknown:
        raise ValueError(f"unknown scenario classes: {', '.join(sorted(unknown))}")
    b = _Builder(seed)
    rings = {"ring-privatechat": _main_ring(b)}
    rings["ring-kakao"] = _small_ring(b, "ring-kakao", ["KR"], 5)
    rings["ring-telegram-in"] = _small_ring(b, "ring-telegram-in", ["IN", "MY"], 7)
    rings["ring-insta"] = _small_ring(b, "ring-insta", ["GB", "US"], 4)
    rings["ring-snap"] = _small_ring(b, "ring-snap", ["US"], 3)
    if hard:
        rings["ring-rotator"] = _rotating_ring(b)
        _mule(b, rings)
        _reports_twice(b)
    _background(b, background)
    from ringtrace.demo import classes as planted

    for name in CLASSES:  # a fixed order, so that a seed gives the same documents
        if classes and name in classes:
            rings.update(planted.PLANT[name](b.rng, b.uniq, b))
    order = list(range(len(b.reports)))
    b.rng.shuffle(order)  # reports arrive interleaved, as they would
    reports = [b.reports[i] for i in order]
    return Scenario(seed=seed, reports=reports, truth=b.truth, rings=rings)
