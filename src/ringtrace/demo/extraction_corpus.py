"""A labelled, synthetic, multilingual corpus for indicator extraction.

Each document is a short victim narrative in one of English, Traditional and Simplified
Chinese, Malay, Tamil, Hindi or Korean, with identifiers written the ways people write them
(spacing, ``00`` prefixes, full-width digits, defanged links, labels in the local language)
and hard negatives that must yield nothing: dates, times, amounts, labelled order numbers,
file names, version strings, wallets and IBANs with a wrong check character, mixed-case hex.

Labels are the normalised ``(type, value)`` pairs an extractor should report. Seeded and
deterministic; every value is synthetic.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from Crypto.Hash import keccak
from schwifty import IBAN

from ringtrace.demo.scenario import _MOBILE, _b58check, _fmt_phone
from ringtrace.indicators.crypto import BECH32_CHARSET as _BECH32
from ringtrace.indicators.crypto import bech32_polymod

Label = tuple[str, str]


@dataclass(frozen=True)
class LabelledDoc:
    text: str
    country: str | None
    labels: frozenset[Label]
    language: str


_TEMPLATES: dict[str, list[str]] = {
    "en": ["Please contact {x} now.", "He told me to send money to {x} or else.",
           "The link was {x} and I clicked it.", "I have screenshots showing {x}."],
    "zh-Hant": ["佢叫我聯絡{x}，我好驚。", "請將錢轉到{x}。", "對方話{x}係佢嘅。"],
    "zh-Hans": ["他让我联系{x}，否则就发视频。", "对方给了{x}，让我马上付款。"],
    "ms": ["Dia suruh saya hubungi {x} segera.", "Saya diugut melalui {x} semalam."],
    "ta": ["அவன் {x} தொடர்பு கொள்ளச் சொன்னான்.", "பணத்தை {x} க்கு அனுப்பச் சொன்னான்."],
    "hi": ["उसने कहा {x} पर संपर्क करो।", "पैसे {x} पर भेजने को कहा।"],
    "ko": ["그는 {x} 로 연락하라고 했다.", "상대방이 {x} 을 보냈다."],
}  # fmt: skip
_COUNTRY_OF = {"en": ["SG", "GB", "US", "IN", "MY", "HK"], "zh-Hant": ["HK", "TW"], "zh-Hans": ["SG"],
               "ms": ["MY", "SG"], "ta": ["IN", "SG"], "hi": ["IN"], "ko": ["KR"]}  # fmt: skip
_WORDS = "abcdefghijklmnopqrstuvwxyz"
_TLDS = ["top", "xyz", "site", "online", "live", "club", "info", "net", "com", "co.uk", "com.sg"]


def _bech32_encode(hrp: str, witver: int, prog: bytes) -> str:
    """Encode a segwit address (the inverse of crypto.segwit_decode, for test data)."""
    acc = bits = 0
    data = [witver]
    for b in prog:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    const = 1 if witver == 0 else 0x2BC830A3
    exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = bech32_polymod(exp + data + [0] * 6) ^ const
    return (
        hrp + "1" + "".join(_BECH32[d] for d in data + [(pm >> 5 * (5 - i)) & 31 for i in range(6)])
    )


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def word(self, n: int = 7) -> str:
        return "".join(self.rng.choice(_WORDS) for _ in range(n))

    def domain(self) -> tuple[str, str]:
        name = f"{self.word(self.rng.randint(4, 9))}-{self.rng.choice(['chat', 'vid', 'live', 'app', 'cam'])}"
        tld = self.rng.choice(_TLDS)
        return f"{name}.{tld}", f"{name}.{tld}"

    def defang(self, host: str) -> str:
        return self.rng.choice(
            [
                host,
                host.replace(".", "[.]"),
                host.replace(".", "(dot)", 1),
                host.replace(".", "[.]", 1),
            ]
        )

    # -- entities: each returns (raw text, labels) ------------------------------------

    def phone(self, country: str) -> tuple[str, set[Label]]:
        target = country if self.rng.random() < 0.6 else self.rng.choice(list(_MOBILE))
        cc, starts, length = _MOBILE[target]
        while True:
            start = self.rng.choice(starts)
            e164 = f"+{cc}{start}" + "".join(
                str(self.rng.randrange(10)) for _ in range(length - len(start))
            )
            if phonenumbers.is_valid_number(phonenumbers.parse(e164)):
                break
        raw = _fmt_phone(e164, country if target == country else "ZZ", self.rng.randrange(12))
        return raw, {("phone", e164)}

    def email(self) -> tuple[str, set[Label]]:
        local = f"{self.word(5)}.{self.word(3)}{self.rng.randrange(100)}"
        host, reg = self.domain()
        at = self.rng.choice(["@", "@", "[at]", "(at)"])
        return f"{local}{at}{self.defang(host) if at != '@' else host}", {
            ("email", f"{local}@{host}"),
            ("domain", reg),
        }

    def url(self) -> tuple[str, set[Label]]:
        host, reg = self.domain()
        path = self.rng.choice(
            ["/app.apk", "/download/PrivateChat.apk", "/v/" + self.word(6), "/?ref=" + self.word(4)]
        )
        style = self.rng.randrange(5)
        if style == 0:
            return f"hxxp://{self.defang(host)}{path}", {
                ("url", f"http://{host}{path}"),
                ("domain", reg),
            }
        if style == 1:
            return f"https://{host}{path}", {("url", f"https://{host}{path}"), ("domain", reg)}
        if style == 2:
            return f"{self.defang(host)}{path}", {("url", f"http://{host}{path}"), ("domain", reg)}
        if style == 3:
            return f"www.{host}{path}", {("url", f"http://www.{host}{path}"), ("domain", reg)}
        return f"hxxps[:]//{host.upper()}{path}", {
            ("url", f"https://{host}{path}"),
            ("domain", reg),
        }

    def bare_domain(self) -> tuple[str, set[Label]]:
        host, reg = self.domain()
        return self.defang(host), {("domain", reg)}

    def ip(self) -> tuple[str, set[Label]]:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address
        while True:
            if self.rng.random() < 0.8:
                ip = ipaddress.IPv4Address(self.rng.randrange(1 << 32))
            else:
                ip = ipaddress.IPv6Address((0x2A01 << 112) | self.rng.randrange(1 << 64))
            if ip.is_global:
                break
        raw = str(ip)
        if ip.version == 4 and self.rng.random() < 0.4:
            raw = raw.replace(".", "[.]")
        return raw, {("ip", ip.compressed)}

    def wallet(self) -> tuple[str, set[Label]]:
        kind = self.rng.randrange(5)
        body = bytes(self.rng.randrange(256) for _ in range(20))
        if kind == 0:
            addr = _b58check(b"\x00" + body)
            return addr, {("crypto_wallet", addr)}
        if kind == 1:
            addr = _b58check(b"\x41" + body)
            return addr, {("crypto_wallet", addr)}
        if kind == 2:
            addr = _bech32_encode("bc", 0, body)
            return addr, {("crypto_wallet", addr)}
        hexaddr = body.hex()
        if kind == 3:
            return "0x" + hexaddr, {("crypto_wallet", "0x" + hexaddr)}
        digest = keccak.new(digest_bits=256, data=hexaddr.encode()).hexdigest()
        mixed = "".join(
            c.upper() if c.isalpha() and int(h, 16) >= 8 else c
            for c, h in zip(hexaddr, digest, strict=False)
        )
        return "0x" + mixed, {("crypto_wallet", "0x" + hexaddr)}

    def file_hash(self) -> tuple[str, set[Label]]:
        data = self.word(12).encode()
        h = self.rng.choice([hashlib.md5, hashlib.sha1, hashlib.sha256])(data).hexdigest()
        return (h.upper() if self.rng.random() < 0.3 else h), {("file_hash", h)}

    def iban(self) -> tuple[str, set[Label]]:
        account = "".join(str(self.rng.randrange(10)) for _ in range(10))
        iban = IBAN.generate("DE", bank_code="37040044", account_code=account)
        raw = iban.formatted if self.rng.random() < 0.5 else str(iban.compact)
        return raw, {("iban", str(iban.compact))}

    def upi(self) -> tuple[str, set[Label]]:
        v = f"{self.word(6)}.{self.rng.randrange(100)}@{self.rng.choice(['okaxis', 'ybl', 'paytm', 'oksbi'])}"
        return v, {("upi", v)}

    def handle(self, lang: str) -> tuple[str, set[Label]]:
        name = f"{self.word(6)}_{self.rng.randrange(10, 99)}"
        platform, label = self.rng.choice(
            {"zh-Hant": [("wechat", "微信："), ("telegram", "Telegram: @"), ("line", "LINE ID: ")],
             "zh-Hans": [("wechat", "微信号："), ("telegram", "电报：@")],
             "ko": [("kakaotalk", "카톡 아이디: "), ("telegram", "텔레그램 @")],
             }.get(lang, [("telegram", "Telegram @"), ("instagram", "Instagram: @"), ("snapchat", "Snapchat: ")])
        )  # fmt: skip
        return f"{label}{name}", {(platform, name)}

    def package(self) -> tuple[str, set[Label]]:
        p = f"com.{self.word(6)}.{self.rng.choice(['chat', 'video', 'app'])}"
        return p, {("android_package", p)}

    def giftcard(self) -> tuple[str, set[Label]]:
        code = "-".join(
            "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(4))
            for _ in range(4)
        )
        compact = code.replace("-", "")
        if not (any(c.isdigit() for c in compact) and any(c.isalpha() for c in compact)):
            compact = "A2" + compact[2:]
            code = compact[:4] + "-" + code[5:]
        return f"Steam card code: {code}", {("giftcard", compact)}

    def mtcn(self) -> tuple[str, set[Label]]:
        d = "".join(str(self.rng.randrange(10)) for _ in range(10))
        return f"MTCN {d[:3]}-{d[3:6]}-{d[6:]}", {("money_transfer", d)}

    # -- hard negatives: text that must give nothing -------------------------------------

    def negative(self) -> str:
        r = self.rng
        options: list[Callable[[], str]] = [
            lambda: f"on {r.randint(2019, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
            lambda: f"at {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}",
            lambda: f"{r.randint(1, 28):02d}/{r.randint(1, 12):02d}/{r.randint(2019, 2025)}",
            lambda: f"HKD {r.randint(10_000, 99_999_999)}",
            lambda: f"{r.randint(1000, 99999)} SGD",
            lambda: f"${r.randint(100, 9999)},{r.randint(100, 999)}",
            lambda: f"Order ID {r.randint(10**10, 10**12)}",
            lambda: f"ref {r.choice(['8', '9'])}{r.randint(1000000, 9999999)}",
            lambda: f"report.{r.choice(['zip', 'mov', 'pdf', 'jpg', 'apk'])}",
            lambda: f"version {r.randint(1, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)}",
            lambda: f"v{r.randint(1, 20)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(0, 9)}",
            lambda: _mutate(r, _b58check(b"\x00" + bytes(r.randrange(256) for _ in range(20)))),
            lambda: _bad_iban(r),
            lambda: "".join(r.choice("aAbBcCdDeEfF0123456789") for _ in range(32)),
            lambda: "".join(str(r.randrange(10)) for _ in range(20)),
            lambda: f"@{self.word(8)}",
            lambda: "e.g. i.e. U.S. etc.",
            lambda: "...... @@@ ---- 0000",
            lambda: f"room {r.randint(100, 999)}, floor {r.randint(1, 60)}",
        ]
        return r.choice(options)()


def _bad_iban(r: random.Random) -> str:
    """A German IBAN whose check digits are wrong."""
    account = "".join(str(r.randrange(10)) for _ in range(10))
    good = str(IBAN.generate("DE", bank_code="37040044", account_code=account).compact)
    wrong = (int(good[2:4]) + r.randint(1, 96)) % 97
    wrong = wrong if wrong >= 2 else wrong + 2
    return (
        good[:2] + f"{wrong:02d}" + good[4:]
        if f"{wrong:02d}" != good[2:4]
        else good[:2] + "00" + good[4:]
    )


def _mutate(r: random.Random, s: str) -> str:
    i = r.randrange(1, len(s))
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    return s[:i] + r.choice([c for c in alphabet if c != s[i]]) + s[i + 1 :]


def generate_corpus(n: int = 600, seed: int = 11) -> list[LabelledDoc]:
    """``n`` labelled documents; the same seed always gives the same corpus."""
    g = _Gen(seed)
    r = g.rng
    docs = []
    for _ in range(n):
        lang = r.choice(list(_TEMPLATES))
        country = r.choice(_COUNTRY_OF[lang])
        parts: list[str] = []
        labels: set[Label] = set()
        for _ in range(r.randint(1, 4)):
            kind = r.choice(
                ["phone", "phone", "email", "url", "url", "bare_domain", "ip", "wallet", "file_hash",
                 "iban", "upi", "handle", "package", "giftcard", "mtcn"]
            )  # fmt: skip
            if kind == "phone":
                raw, lab = g.phone(country)
            elif kind == "handle":
                raw, lab = g.handle(lang)
            else:
                raw, lab = getattr(g, kind)()
            parts.append(r.choice(_TEMPLATES[lang]).format(x=raw))
            labels |= lab
        for _ in range(r.randint(1, 3)):
            parts.insert(
                r.randrange(len(parts) + 1), r.choice(_TEMPLATES[lang]).format(x=g.negative())
            )
        sep = "" if lang.startswith("zh") and r.random() < 0.5 else " "
        docs.append(LabelledDoc(sep.join(parts), country, frozenset(labels), lang))
    return docs
