"""The role each occurrence of an indicator plays, and where it came from.

Only the offender's evidence links reports. An occurrence is, by its **source**:

* ``structured``: an ``offender_identifiers`` field; ``payment``: an account the victim was
  told to pay into; ``apk``: an app's code, resources or signing certificate; ``analyst``;
* ``narrative``, ``message`` or ``attachment``: free text (strong when the clause says the
  victim was made to install from it or pay into it, when it links to an ``.apk``, or when
  it is a wallet, account or voucher: where victims are told to pay).

and by its **role**:

* ``offender``: the offender's own (the default);
* ``reference``: a page the report cites (an analysis, an article, a police site);
* ``help``: an official, police, crisis or bank fraud line the victim called;
* ``victim``: the victim's own contact details, by their context ("my number is …");
* ``word``: a bare word after a platform's name ("Telegram: Fake crowdsale site"), not shown
  to be a handle by an ``@``, a label, a profile link or a pattern no dictionary word has.

An indicator links when at least one of its occurrences is the offender's; otherwise it
stays on the report with the reason. **Strong** evidence (structured fields, payments, the
app, or free text that says the victim was made to install from it or pay into it) links
on its own; other free-text evidence is *uncertain* (docs/linking.md).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from ringtrace.domain.models import FIRM_SOURCES
from ringtrace.indicators import helplines, quoted, references

OFFENDER, REFERENCE, HELP, VICTIM, WORD = "offender", "reference", "help", "victim", "word"
STRUCTURED, PAYMENT, NARRATIVE, MESSAGE, ATTACHMENT, APK, ANALYST = (
    "structured", "payment", "narrative", "message", "attachment", "apk", "analyst",
)  # fmt: skip
STRONG_SOURCES = FIRM_SOURCES  # structured, payment, apk, analyst
WORD_REASON = (
    "a bare word after a platform's name, not shown to be a handle (no @, label, profile "
    "link or handle-like pattern)"
)
VICTIM_REASON = "the victim's own contact details, by what the report says around them"
_HOST_TYPES = frozenset({"url", "domain", "email", "page"})
_PAYMENT_KEYS = frozenset(
    {"crypto_wallet", "iban", "bank_account", "upi", "paynow", "fps", "giftcard", "money_transfer"}
)


@dataclass(frozen=True, slots=True)
class Role:
    role: str
    reason: str | None = None
    strong: bool = False


@lru_cache(maxsize=4096)
def source_of(field: str) -> str:
    """The kind of source a report field is."""
    head = field.split(".", 1)[0]
    return {
        "offender_identifiers": STRUCTURED,
        "payments": PAYMENT,
        "narrative": NARRATIVE,
        "platform_first_contact": NARRATIVE,
        "messages": MESSAGE,
        "text": NARRATIVE,
        "attachments": APK,
        "apk": APK,
        "analyst": ANALYST,
    }.get(head, ATTACHMENT if "attachment" in head else NARRATIVE)


def host_of(type_: str, value: str, attributes: dict[str, str]) -> str | None:
    if type_ == "domain":
        return attributes.get("host") or value
    if type_ == "url":
        return urlsplit(value).hostname
    if type_ == "email":
        return value.rsplit("@", 1)[-1]
    if type_ == "page":
        return value.split("/", 1)[0]
    return None


def value_role(type_: str, value: str, attributes: dict[str, str]) -> Role | None:
    """A role the value has wherever it is written: a help line, a cited site."""
    if type_ != "phone" and type_ not in _HOST_TYPES:
        return None
    return _value_role(type_, value, attributes.get("host"))


def written_role(type_: str, raw: str) -> Role | None:
    """A help line of another region written in its national form: a listed SG line in an
    Indian reporter's text is a help line, whatever the reporter's country made of it."""
    if type_ != "phone" or sum(c.isdigit() for c in raw) not in helplines.written_lengths():
        return None
    found = helplines.written(raw)
    return None if found is None else Role(HELP, helplines.reason(found[1]))


@lru_cache(maxsize=65536)
def _value_role(type_: str, value: str, host_attr: str | None) -> Role | None:
    attributes = {"host": host_attr} if host_attr else {}
    if type_ == "phone":
        entry = helplines.helpline(value)
        if entry is not None:
            return Role(HELP, helplines.reason(entry))
        return None
    if type_ in _HOST_TYPES:
        host = host_of(type_, value, attributes)
        why = references.site_reason(host) if host else None
        if why is None and host and type_ in ("url", "page"):
            path = urlsplit(value).path if type_ == "url" else "/" + value.partition("/")[2]
            why = references.thread_reason(host, path)
        if why is not None:
            return Role(REFERENCE, f"a cited reference ({why}), not the offender's")
    return None


# Around a value, in the same clause: the victim was made to install from it or pay into it
# (strong evidence); verbs only, so that "a post about the same app" is not one. Stems match
# anywhere ("installed"); words and phrases match whole words. CJK stems are two characters
# or more: one character (轉) is part of unrelated words (轉介, 轉告).
_STRONG_STEMS = (
    "install", "download", "transfer", "deposit", "下載", "下载", "安裝", "安装", "轉帳",
    "轉賬", "转账", "转帐", "轉錢", "转钱", "匯錢", "汇钱", "付錢", "付钱", "打錢", "打钱",
    "俾錢", "畀錢", "入錢", "入钱", "付款", "匯款", "汇款", "入數", "pasang", "muat turun",
    "bayar", "pindah", "इंस्टॉल", "भेजो", "설치", "보내", "நிறுவ",
    # The app's server: "the app connected to …", "sends data to …", "個app連去…".
    "connect", "server", "send data", "sends data", "sent data", "sending data", "upload",
    "連去",
    "連到", "連接", "连接", "连到", "連線", "连线", "傳資料", "传资料", "傳送資料", "发送数据",
    "上傳到", "上传到", "hantar data", "kirim data", "terhubung", "kumokonekta",
    "nagpapadala", "data bhej",
    # A phishing page: the victim gave it their credentials, or calls it the fake site.
    "key in", "keyed in", "log in", "login", "logged in", "sign in", "signed in", "enter my",
    "entered my", "my bank details", "my password", "my otp", "phishing", "fake website",
    "fake site", "fake page", "website palsu", "laman palsu", "web palsu", "masukkan",
    "log masuk", "輸入", "输入", "登入", "登录", "登錄", "假網站", "假网站", "釣魚", "钓鱼",
    # Paid, with the aspect particle between ("在…上付了钱", "俾咗錢").
    "付了钱", "付了錢", "付咗", "俾咗錢", "转了钱", "轉了錢", "匯了", "汇了",
)  # fmt: skip
_STRONG_WORDS = ("pay", "paid", "send money", "send the money")
# What a text cue can make strong: what can be the thing paid into or installed from (a
# link, a page, a bare domain written as such). A phone number, an email or a handle near
# "pay" or "download" is how the offender talked, not where the money or the app went: it
# stays uncertain (corroboration decides). Payment keys are strong without a cue.
_CUE_STRONG_TYPES = frozenset({"url", "page", "domain", "ip"})
# What an offender's own message gives as the way to reach the offender.
_CONTACT_TYPES = frozenset(
    {"phone", "email", "whatsapp", "telegram", "instagram", "facebook", "snapchat", "tiktok",
     "wechat", "line", "kakaotalk", "skype", "discord", "x"}
)  # fmt: skip
# A cue negated just before it ("says not to pay", "jangan bayar", "不要下載") is no cue.
_NEGATED = re.compile(
    r"(?:(?<![a-z])(?:not|never|no|don't|dont|didn't|didnt|won't|wont|without|jangan|tidak|tak|"
    r"bukan|huwag|wag|hindi|नहीं|मत)(?:\s+[a-z']+){0,2}\s*|(?:不要|不用|不必|別|别|勿|沒有|没有|"
    r"未|不|莫|拒絕|拒绝|唔好|唔使)\s*)$"
)
_VICTIM_STEMS = (
    "我的電話", "我的电话", "我的手機", "我的手机", "我嘅", "我的號碼", "我的号码", "मेरा नंबर",
    "내 번호", "என் எண்",
)  # fmt: skip
_VICTIM_WORDS = (
    *(
        f"my {own}{what}"
        for own in ("", "own ")
        for what in (
            "number",
            "phone",
            "mobile",
            "cell",
            "whatsapp",
            "email",
            "e-mail",
            "contact",
            "line",
        )
    ),
    *("i gave", "me at", "reach me", "nombor saya", "telefon saya", "emel saya"),
)
_APK_LINK = re.compile(r"\.apk(?![a-z0-9])")
# Sentence ends; in CJK text written without punctuation, a space after a CJK character
# (unless it is the space just before the value, at the window's end); and words that start
# a new clause ("then", "tapos", "lalu", "然後").
_CLAUSE_ENDS = (
    r"[.!?。！？\n;；]\s|[。！？\n]|(?<=[\u2e80-\u9fff\uac00-\ud7af\uff00-\uffef])\s+(?=\S)"
    r"|(?<![a-z])(?:then|after that|afterwards|tapos|pagkatapos|lalu|kemudian|lepas tu|lepastu"
    r"|pastu|selepas itu|setelah itu|habis tu)\s"
    r"|然後|然后|之後|之后|後來|后来|接著|接着"
)
_CLAUSE_END = re.compile(  # the lookahead: a match's first characters, to reject others fast
    rf"(?=[.!?。！？\n;；\s\u3000tplksah然之後后接])(?:{_CLAUSE_ENDS})"
)
# Before a value, also the victim starting a new clause as its subject ("… ask me install it
# after that i use <url> to delete it", "让我安装，我按照<url>"): in run-on text that is where
# what the offender made them do ends and what they did themselves begins. The clause starts
# at the pronoun (a zero-width end), so "i downloaded it from <url>" keeps its cue; 我 is not
# cut in 我們/我们/我哋 (we) or 我的 (my). Not after a value: "<url>，让我马上付款" is the
# offender's demand.
_CLAUSE_START = re.compile(
    rf"(?=[.!?。！？\n;；\s\u3000tplksiah我然之後后接])(?:{_CLAUSE_ENDS}"
    r"|(?<![a-z'])(?=(?:i|saya|aku)\s)|(?=我(?![們们哋的])))"
)


def last_end(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """A pattern whose ``match`` ends where the last match of ``pattern`` in a string ends:
    the greedy ``.*`` backs off from the string's end to the rightmost place ``pattern``
    matches, one match in C instead of a match object per clause boundary. It can end
    later than ``finditer``'s last match only by whitespace that match left unread ("。"
    then "  ": ``\\s+`` matched from inside the space ``finditer``'s match consumed), so
    a clause cut there starts at its first word either way."""
    return re.compile(f"(?s:.*)(?:{pattern.pattern})")


_LAST_CLAUSE_START = last_end(_CLAUSE_START)
# Removing the app ("i use <url> to uninstall", "按照<url>的教程卸载", "untuk buang app"):
# a link beside it is where the victim found help, not where the offender sent them.
_REMOVAL = re.compile(
    r"uninstall|delete the app|remove the app|deleting the app|removing the app|卸載|卸载"
    r"|删除了软件|删除软件|刪除軟件|刪除了軟件|删除app|刪除app|删掉app|buang app|buang aplikasi"
    r"|padam app|padam aplikasi|hapus app|hapus aplikasi|nyahpasang|i-uninstall"
)
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def trie_pattern(items: list[str], end: str = "") -> str:
    """One regex for a list of literals, factored as a trie ("se(?:e|nt)" for "see" and
    "sent"), each followed by ``end``. An alternation of plain literals costs a try of every
    literal at each position; a trie, one path. What it can match is the same."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for item in items:
        node = root
        for ch in item:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        alts = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if "" in node:
            alts.append(end)  # the literal ends here (last: longer ones are tried first)
        return alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"

    return emit(root)


# A single word matches where it is one of the clause's words (roles._ASCII_WORD's tokens):
# no letter, digit or "x-" just before it, no letter, digit or "-x" just after it.
_TOKEN_START, _TOKEN_END = r"(?<![a-z0-9])(?<![a-z0-9]-)", r"(?![a-z0-9])(?!-[a-z0-9])"


@dataclass(frozen=True)
class _Cues:
    kind: str
    words: frozenset[str]  # single ASCII words: whole words of the clause
    phrases: tuple[str, ...]  # ASCII phrases: whole words
    stems: tuple[str, ...]  # matched anywhere (the non-ASCII ones only in non-ASCII text)
    ascii: re.Pattern[str] | None  # the words, phrases and ASCII stems, as one trie
    other: re.Pattern[str] | None  # the other stems, tried only on text that is not all ASCII

    @staticmethod
    def of(kind: str, ascii_cues: list[str], stems: tuple[str, ...]) -> _Cues:
        words = [c for c in ascii_cues if " " not in c and _ASCII_WORD.fullmatch(c)]
        phrases = [c for c in ascii_cues if c not in words]
        plain = [s for s in stems if s.isascii()]
        other = [s for s in stems if not s.isascii()]
        parts = []
        if words:
            parts.append(_TOKEN_START + trie_pattern(words, _TOKEN_END))
        if phrases:
            parts.append(r"(?<![a-z])" + trie_pattern(phrases, r"(?![a-z])"))
        if plain:
            parts.append(trie_pattern(plain))
        return _Cues(
            kind,
            frozenset(words),
            tuple(phrases),
            tuple(stems),
            _alternation(parts, words + phrases + plain),
            _alternation([trie_pattern(other)] if other else [], other),
        )

    def last(self, text: str) -> int:
        """Where the last cue of this kind in ``text`` starts (-1: none)."""
        at = -1
        for pattern in (self.ascii, None if text.isascii() else self.other):
            if pattern is not None:
                for m in pattern.finditer(text):
                    at = max(at, m.start())
        return at

    def found(self, text: str) -> bool:
        if self.ascii is not None and self.ascii.search(text):
            return True
        return self.other is not None and not text.isascii() and bool(self.other.search(text))


def _alternation(parts: list[str], literals: list[str]) -> re.Pattern[str] | None:
    """``parts`` as one pattern, behind a lookahead for the literals' first characters that
    lets the engine pass over other positions at once."""
    if not parts:
        return None
    first = "".join(sorted({re.escape(c[0]) for c in literals}))
    return re.compile(f"(?=[{first}])(?:{'|'.join(parts)})")


@lru_cache(maxsize=1)
def _cue_kinds() -> dict[str, _Cues]:
    def split(cues: tuple[str, ...]) -> tuple[list[str], tuple[str, ...]]:
        plain = [c.strip(" :") for c in cues]
        return [c for c in plain if c.isascii()], tuple(c for c in plain if not c.isascii())

    refs = references.references()
    return {
        "cite": _Cues.of("cite", *split(refs.cues)),
        "about": _Cues.of("about", *split(refs.about)),
        "cited_after": _Cues.of("cited_after", *split(refs.after)),
        "victim": _Cues.of("victim", list(_VICTIM_WORDS), _VICTIM_STEMS),
        # Unions, read first so that a clause with none of their cues (most) costs one
        # reading instead of two or three: a clause has a cue of the union exactly when it
        # has one of some kind in it.
        "about_or_cite": _Cues.of("about_or_cite", *split(refs.about + refs.cues)),
        # What makes a payment key "cited": every cue but the warning words, which an
        # offender's threat has too ("he sent me a warning: pay into …"); a published
        # warning is read by quoted.warning_before instead.
        "citation": _Cues.of(
            "citation",
            *split(tuple(c for c in refs.cues + refs.about + refs.after if c not in _THREATS)),
        ),
        # After the value the warning words cite again: "I searched the wallet in my email
        # (<wallet>) and found a warning about it" is the victim's own lead.
        "citation_after": _Cues.of("citation_after", *split(refs.cues + refs.about + refs.after)),
    }


_THREATS = frozenset({"warning", "warned", "warns", "amaran", "peringatan", "babala", "警告"})


class _Clause:
    """A short piece of lowered text, read for every cue kind."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def has(self, kind: str) -> bool:
        """Whether it has a cue of ``kind`` (one trie search, two in non-ASCII text)."""
        return bool(self.text) and _cue_kinds()[kind].found(self.text)


# A chat pasted into a narrative: each line (or "|"-separated turn) starts with its speaker,
# after an optional time ("09:08 Offender: add me on telegram @…", "Me: ok").
_SPEAKER_TURN = (
    r"[ \t]*(?:\[?\d{1,2}:\d{2}(?::\d{2})?\]?[ \t]*)?"
    r"(?P<who>offender|scammer|suspect|blackmailer|extortionist|she|he|her|him|me|i|victim"
    r"|對方|对方|我)[ \t]*[:：]"
)
# A turn at the text's start, and one after a line break or a "|" (the pattern starts with
# them, so the engine passes over other positions at once; the turn starts after it).
_FIRST_SPEAKER = re.compile(_SPEAKER_TURN, re.IGNORECASE)
_SPEAKER = re.compile(rf"[\n|](?P<turn>{_SPEAKER_TURN})", re.IGNORECASE)
_OFFENDER_SPEAKERS = frozenset(
    {"offender", "scammer", "suspect", "blackmailer", "extortionist", "she", "he", "her", "him",
     "對方", "对方"}
)  # fmt: skip


class TextCues:
    """The text whose values' roles are read; the clause around each value is read (and
    lowered) on its own, a few dozen characters, so the cost grows with the values, not
    the text. ``offender``: the text is a message the offender sent; otherwise the turns of
    a chat pasted into it that the offender speaks ("Offender: whatsapp me +1 …")."""

    __slots__ = ("_turns", "offender", "text")

    # Characters of the clause read before and after a value: enough for one long clause
    # ("this news explains how they make you download the app: {url}"), cut at its start.
    BEFORE, AFTER = 80, 16

    def __init__(self, text: str, *, offender: bool = False) -> None:
        self.text = text
        self.offender = offender
        self._turns: list[tuple[int, bool]] | None = None

    def offender_at(self, pos: int) -> bool:
        """Whether the offender is speaking at ``pos``: the whole text is their message,
        or a pasted chat's turn there is theirs."""
        if self.offender:
            return True
        if self._turns is None:
            turns = []
            if ":" in self.text or "：" in self.text:
                first = _FIRST_SPEAKER.match(self.text)
                if first is not None:
                    turns.append((0, first.group("who").lower() in _OFFENDER_SPEAKERS))
                turns += [
                    (m.start("turn"), m.group("who").lower() in _OFFENDER_SPEAKERS)
                    for m in _SPEAKER.finditer(self.text)
                ]
            self._turns = turns
        i = bisect_right(self._turns, (pos, True)) - 1
        return i >= 0 and self._turns[i][1]

    def before(self, start: int) -> str:
        """The clause that ends at ``start`` (at most :attr:`BEFORE` characters), lowered."""
        text = self.text[max(0, start - self.BEFORE) : start].lower()
        m = _LAST_CLAUSE_START.match(text)
        return text[m.end() :] if m else text

    def after(self, end: int) -> str:
        """The clause that starts at ``end`` (at most :attr:`AFTER` characters), lowered."""
        text = self.text[end : end + self.AFTER].lower()
        m = _CLAUSE_END.search(text)
        return text[: m.start()] if m else text


def _quoted(cues: TextCues, start: int, end: int) -> str | None:
    """How a wallet or account is written when it is not where this victim paid:

    * ``"warned"``: in a warning not to pay into it ("dont pay to <wallet>", "不要给<wallet>
      转账", "saw on Facebook the wallet <wallet> is a scam"): the words of everyone who read
      the warning, never one ring's victim saying where they paid, so it is a reference;
    * ``"cited"``: in a sentence that cites or talks about a publication ("this article lists
      the address …", "found a warning about it"): possibly copied from one, so it is
      uncertain (corroboration decides; a ring's wallet in a payment, a structured field or
      another report still links it).

    A pay cue does not overrule either: in run-on text the cue is often the previous
    sentence's. Read only for payment keys, which are rare in text, so the wider window
    costs nothing measurable."""
    text = cues.text
    if quoted.keep_away_after(text, end):
        return "warned"
    head = text[max(0, start - 2 * TextCues.BEFORE) : start].lower()
    m = _LAST_SENTENCE_END.match(head)
    before = _Clause(head[m.end() :] if m else head)
    tail = text[end : end + 4 * TextCues.AFTER].lower()
    m = _SENTENCE_END.search(tail)
    after = _Clause(tail[: m.start()] if m else tail)
    if not _quote_before().search(before.text) and not (
        _QUOTE_AFTER.search(after.text, 0, 40) or after.has("citation_after")
    ):
        return None  # no word of a warning or a citation: the common case, in two searches
    near_before = len(before.text) - 40
    if (
        _warned(before.text, max(0, near_before), len(before.text))
        or _warned(after.text, 0, 40)
        or _WARNING_BEFORE.search(before.text, max(0, near_before))
        or _WARNING_AFTER.search(after.text, 0, 40)
        or quoted.warning_before(before.text, _A_WARNING)
        or quoted.warning_before(before.text)
    ):
        return "warned"
    if before.has("citation") or after.has("citation_after"):
        return "cited"
    return None


def _from_warning(cues: TextCues, start: int, end: int) -> bool:
    """Whether a contact (a number, a handle, an address) is quoted from a public warning
    (:mod:`ringtrace.indicators.quoted`)."""
    if quoted.keep_away_after(cues.text, end):
        return True
    head = cues.text[max(0, start - 2 * TextCues.BEFORE) : start].lower()
    m = _LAST_SENTENCE_END.match(head)
    before = head[m.end() :] if m else head
    return quoted.warning_before(before)  # one search when no warning words are there


# A number the victim called for help, by the words around it, listed or not: "I called the
# Chase at 713-262-1679", "rang the PDRM CCID Scam Response Centre on 03-2610 1599", "go call
# police +63 2 8523 8231", "I rang (02) 7213-9999 for advice", "03-7844 3696 (Maybank fraud
# line)". The organisation must be named close to the number, with nobody else's in between
# ("called the police and gave them the scammer's number …" is the scammer's).
_HELP_ORG = (
    r"(?:bank|police|polis|pulis|hotline|helpline|help line|fraud|scam|centre|center|service"
    r"|support|care|counsel\w*|hopeline|befrienders|lifeline|samaritans|ngo|cyber\w*|ccid"
    r"|nsrc|nbi|pnp|cicc|idcare|scamshield|acorn|ic3|action fraud|kominfo|polri|bareskrim"
    r"|銀行|银行|警\w*|熱線|热线|中心|客服|反詐|反诈|防騙|防骗)"
)
_CALLED = (
    r"(?:(?<![a-z])(?:call|called|calling|rang|ring|phoned|contacted|dialled|dialed|hubungi"
    r"|telefon|tawag|nag-call)(?![a-z])|打咗|打了|打过|打過|致電|致电)"
)


@lru_cache(maxsize=1)
def _help_before() -> re.Pattern[str]:
    """A call verb, then an organisation (a kind of service, or a bank by its name:
    ``data/banks.json``), ending just before the number."""
    from ringtrace.indicators.payments import bank_names

    banks = trie_pattern(sorted(bank_names()), r"(?![a-z])")
    return re.compile(
        rf"{_CALLED}[^.!?。\n]{{0,40}}?(?:{_HELP_ORG}|(?<![a-z]){banks})[^.!?。\n]{{0,24}}$"
    )


_SOMEONE_ELSE = re.compile(
    r"(?<![a-z])(?:scammer|offender|extortionist|his|her|their|him|them|he|she|they)(?![a-z])"
    r"|骗子|騙子|對方|对方|他|她"
)
_HELP_AFTER = re.compile(
    r"^\s*(?:for (?:advice|help|support)|untuk (?:bantuan|nasihat)|求助|求救|咨询|諮詢|查詢|查询"
    r"|[(（][^)）]{0,30}?" + _HELP_ORG + ")"
)

# A number just after the name of a kind of help line ("the student wellbeing line …",
# "Talian Kasih …", "the bank's fraud line is …"), whoever gave it, unless the clause names
# the offender or their own ("she gave me her hotline …").
_HELP_NAMED = re.compile(
    r"(?<![a-z])(?:hotline|helpline|help[ -]line|(?:support|crisis|wellbeing|well-being|"
    r"counsel\w*|fraud|scam|anti-scam|suicide|mental health) (?:line|hotline)|talian "
    r"(?:bantuan|kasih|nur)|熱線|热线|輔導專線|辅导专线)(?:\s+(?:number|no\.?|is|at|on))?"
    r"\s*[:：\-–]?\s*$"
)

# Someone who says they are a bank or the police ("a man claiming to be from Maybank gave the
# fraud line …"): the line they give is theirs, not a help line.
_POSING = re.compile(
    r"(?<![a-z])(?:claim\w*|pretend\w*|posing|posed|impersonat\w*|fake|caller|agent|someone"
    r"|a man|a woman|mengaku|menyamar|nagpanggap|nagpakilala)(?![a-z])|冒充|假扮|假冒|自稱|自称"
)


def _help_context(before: str, text: str, end: int) -> bool:
    """Whether the words around a number say the victim called it for help."""
    m = _help_before().search(before, max(0, len(before) - 70))
    if m is not None and not _SOMEONE_ELSE.search(before, m.start() + 4):
        return True
    named = _HELP_NAMED.search(before)
    if named is not None and not _SOMEONE_ELSE.search(before) and not _POSING.search(before):
        return True
    return _HELP_AFTER.search(text[end : end + 40].lower()) is not None


def _warned(text: str, start: int, end: int) -> bool:
    """A warning not to pay in ``text[start:end]``: not the victim's own "i dont pay yet"."""
    m = _WARNED.search(text, start, end)
    return m is not None and not _SELF.search(text, 0, m.start())


_SELF = re.compile(r"(?<![a-z])(?:i|we|saya|aku|ako)\s+$|我$|我還|我还")
# Not paying, just before or after a payment key: a warning repeated, not a demand.
_WARNED = re.compile(
    r"(?<![a-z])(?:don'?t|do not|never|jangan|tak payah|huwag|wag|mat)\s+(?:[a-z]+\s+){0,2}?"
    r"(?:pay|send|transfer|bayar|hantar|bhejo|magbayad|deposit)"
    r"|(?:不要|別|别|勿|唔好|千萬別|千万别)(?:再)?(?:給|给|俾|向|轉|转|匯|汇|付|打)"
)
# A warning seen and repeated: "saw on Facebook the wallet …", "ada post … kata …" before it;
# "… is a scam", "… wallet scammer", "… 是骗子的钱包" after it.
_WARNING_BEFORE = re.compile(
    r"saw (?:it |this |a post |a warning )?on (?:facebook|fb|twitter|x|tiktok|instagram|ig"
    r"|reddit|threads|the news)|saw a (?:post|warning)|(?<![a-z])(?:ada|a|may|fb|ig|facebook) post"
    r"|post (?:kata|says|said|say)|(?<![a-z])sharing|shared a post|转发|轉發|帖子|貼文|帖文"
)
# A warning named before it in the same sentence ("I found a warning post … that lists
# <wallet> as a scam wallet", "this warning … says <wallet> belongs to sextortion scammers");
# not "a warning" or "last warning" alone, the offender's threat ("he sent me a warning:
# pay into …"), nor one read long before the value or followed by somebody's own words
# (quoted.warning_before reads it with that guard). After it ("I searched the wallet in my email
# (<wallet>) and found a warning about it") the wallet is the victim's own lead: uncertain.
_A_WARNING = re.compile(
    r"(?<![a-z])(?:found|saw|read|police|official|public|bank's|forwarded|shared|viral)\s+"
    r"(?:a |an |the |this )?warning|(?<![a-z])this warning"
    r"|warning (?:post|says|lists|page)|警方提醒|防騙|防骗"
    r"|騙徒錢包|骗徒钱包|騙子的錢包|骗子的钱包|scam(?:mer)?'?s? wallet|belongs to (?:\w+ )?scammers"
    r"|list(?:s|ing|ed)? \S+ as"
)
_WARNING_AFTER = re.compile(
    r"^\W{0,3}(?:(?:is|was) (?:a )?(?:known )?scam|(?:is )?(?:a )?scam(?:mer'?s?)? wallet"
    r"|(?:[a-z]+ )?scammers?(?![a-z])"
    r"|as (?:a |the )?(?:known )?(?:[a-z]+ )?(?:scam|sextortion|fraud)\w* (?:wallet|account)"
    r"|as used by (?:[a-z]+ )?(?:scam|sextortion|fraud)\w*"
    r"|wallet (?:scammer|scam|penipu)|(?:adalah |ialah )?penipu"
    r"|[是係系](?:骗子|騙子|诈骗|詐騙|騙徒|骗徒))"
)


@lru_cache(maxsize=1)
def _quote_before() -> re.Pattern[str]:
    """What :func:`_quoted` looks for before a value, as one pattern: it matches wherever
    one of its parts would (a part searched from a later position, or only in text that is
    not all ASCII, matches a subset of where it does), so no match means none of them."""
    citation = _cue_kinds()["citation"]
    parts = [
        _WARNED, _WARNING_BEFORE, _A_WARNING, quoted.PUBLISHED_WARNING, citation.ascii,
        citation.other,
    ]  # fmt: skip
    return re.compile("|".join(f"(?:{p.pattern})" for p in parts if p is not None))


# What _quoted looks for in the 40 characters after a value (a warning not to pay, or one
# it repeats: "… is a scam"); searched with that end, as they are.
_QUOTE_AFTER = re.compile(f"(?:{_WARNED.pattern})|(?:{_WARNING_AFTER.pattern})")
_SENTENCE_END = re.compile(r"[.!?。！？\n;；](?:\s|$)|[。！？\n]")
_LAST_SENTENCE_END = last_end(_SENTENCE_END)


@lru_cache(maxsize=1)
def _strong_cue() -> re.Pattern[str]:
    """Install and pay cues: words whole, stems anywhere, each part one trie."""
    words = list(_STRONG_WORDS)
    parts = [r"(?<![a-z])" + trie_pattern(words, r"(?![a-z])"), trie_pattern(list(_STRONG_STEMS))]
    pattern = _alternation(parts, [*words, *_STRONG_STEMS])
    assert pattern is not None
    return pattern


def last_strong_cue(clause: str) -> int:
    """Where the last install or pay cue of :func:`strong_cue` starts (-1: none)."""
    at = -1
    for m in _strong_cue().finditer(clause):
        if not _NEGATED.search(clause, 0, m.start()) and not clause.startswith("un", m.start() - 2):
            at = m.start()
    return at


def strong_cue(clause: str) -> bool:
    """Whether a lowered clause says the victim was made to install or pay: a cue that is
    not negated just before it ("says not to pay", "jangan bayar", "不要下載") and is not
    the "install" of "uninstall"."""
    return any(
        not _NEGATED.search(clause, 0, m.start()) and not clause.startswith("un", m.start() - 2)
        for m in _strong_cue().finditer(clause)
    )


def text_role(type_: str, cues: TextCues, start: int, end: int, attributes: dict[str, str]) -> Role:
    """The role of a candidate found at ``start:end`` in free text. Cites and the victim's
    own are read before the value; install and pay cues on either side ("叫我喺{url}下載",
    "install from {url}"), in the same clause, not negated, and only for what can be the
    thing installed from or paid into (``_CUE_STRONG_TYPES``)."""
    if attributes.get("support") == "none":
        return _WORD_ROLE
    if attributes.get("own") == "victim":
        return _VICTIM_ROLE  # "from my Maybank 1234…", "akaun saya …"
    # A wallet, an account or a voucher in a report is where the victim was told to pay,
    # and far too specific to be mentioned in passing by unrelated people, unless it is
    # copied from a warning or an article that unrelated victims quote alike: then it is
    # uncertain, and corroboration decides.
    if type_ in _PAYMENT_KEYS:
        quoted = _quoted(cues, start, end)
        if quoted == "warned":
            return _WARNED_ROLE
        return _OFFENDER if quoted == "cited" else _STRONG_OFFENDER
    if type_ == "phone" and "line_type" in attributes:
        return _SHARED_LINE  # a toll-free or shared-cost line, in any message
    if type_ in _CONTACT_TYPES and not cues.offender_at(start) and _from_warning(cues, start, end):
        return _WARNED_CONTACT
    linkish = type_ in _HOST_TYPES or attributes.get("from_link") == "true"
    if (
        not linkish
        and type_ not in _CUE_STRONG_TYPES
        and type_ != "phone"
        and not (type_ in _CONTACT_TYPES and cues.offender_at(start))
    ):
        return _OFFENDER  # a hash, a package, a handle: no cue below is read for them
    return _clause_role(type_, linkish, cues, start, end)


def _clause_role(type_: str, linkish: bool, cues: TextCues, start: int, end: int) -> Role:
    """:func:`text_role` read from the clause around the value: cites, help lines, the
    offender's own turn, the victim's own, and install, pay and credential cues."""
    before = _Clause(cues.before(start))
    # A clause about a publication cites its link even when it says install or pay: it
    # describes the scam ("this news explains how they make you download the app: …").
    cited = linkish and before.has("about_or_cite")
    if cited and before.has("about"):
        return _CITED
    strong_before = type_ in _CUE_STRONG_TYPES and strong_cue(before.text)
    # The nearer cue governs: "see, she made me install it from <url>" is the offender's,
    # "… paid to TTYv… after that menurut <url>" cites.
    if (
        cited
        and before.has("cite")
        and (
            not strong_before
            or _cue_kinds()["cite"].last(before.text) > last_strong_cue(before.text)
        )
    ):
        return _CITED
    after = _Clause(cues.after(end)) if linkish or type_ in _CUE_STRONG_TYPES else None
    if after is not None and linkish and not strong_before and after.has("cited_after"):
        return _CITED  # "<url> - same modus", "<url> ke anusaar"
    if (
        linkish
        and not strong_before
        and (quoted.warning_before(before.text) or quoted.keep_away_after(cues.text, end))
    ):
        return _CITED  # "the ScamShield alert this week listed <url>", "<url> se bachke rehna"
    if type_ == "phone" and _help_context(before.text, cues.text, end):
        return _HELP_BY_WORDS
    if type_ in _CONTACT_TYPES and cues.offender_at(start):
        # The offender's own message: "my number", "add me" are the offender's, and a
        # number, an address or a handle it gives is how to reach the offender.
        return _STRONG_OFFENDER
    if type_ in ("phone", "email") and before.has("victim"):
        return Role(VICTIM, VICTIM_REASON)
    if type_ not in _CUE_STRONG_TYPES:
        return _OFFENDER
    # A link to an Android package is the app the victim was made to install.
    if type_ == "url" and _APK_LINK.search(cues.text[start:end].lower()):
        return _STRONG_OFFENDER
    if strong_before or (after is not None and strong_cue(after.text)):
        if _REMOVAL.search(before.text) or (after is not None and _REMOVAL.search(after.text)):
            return _OFFENDER  # how the victim removed the app: uncertain, corroboration decides
        return _STRONG_OFFENDER
    return _OFFENDER


def inherited(role: Role, type_: str, attributes: dict[str, str], *, in_text: bool) -> Role:
    """The role of a value found as part of a strong one (the host of a structured URL, the
    handle of a profile link in text): a registrable domain inferred as the parent of the
    link's own host is not strong on its own (the full URL or the page is the offender's
    key); in free text, neither is a handle or a number inside a link a cue made strong."""
    if not role.strong:
        return role
    if attributes.get("inferred") == "true" or (
        in_text and type_ not in _CUE_STRONG_TYPES and type_ not in _PAYMENT_KEYS
    ):
        return Role(role.role, role.reason, strong=False)
    return role


_OFFENDER = Role(OFFENDER, None)
_STRONG_OFFENDER = Role(OFFENDER, None, strong=True)
_WORD_ROLE = Role(WORD, WORD_REASON)
_HELP_BY_WORDS = Role(
    HELP,
    "a line the victim called for help (a bank, the police, a hotline), by the words around "
    "it: unrelated victims call the same lines, so it never links",
)
_WARNED_ROLE = Role(
    REFERENCE,
    "quoted from a warning not to pay into it: everyone who read the warning repeats it, "
    "so it is a cited reference, not where this victim paid",
)
_WARNED_CONTACT = Role(
    REFERENCE,
    "quoted from a public warning that lists it: everyone who read the warning repeats it, "
    "so it is a cited reference, not how the offender reached this victim",
)
_VICTIM_ROLE = Role(VICTIM, VICTIM_REASON)
_SHARED_LINE = Role(
    HELP,
    "a toll-free or shared-cost line (its numbering plan says so): businesses and help "
    "services run them and any victim may call one, so written in free text it never links",
)
_CITED = Role(REFERENCE, "a cited reference (the report points to it), not the offender's")
