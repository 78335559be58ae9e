"""The role each occurrence of an indicator plays, and where it came from.

Only the offender's evidence links reports. An occurrence is, by its **source**:

* ``structured``: an ``offender_identifiers`` field; ``payment``: an account the victim was
  told to pay into; ``apk``: an app's code, resources or signing certificate; ``analyst``;
* ``narrative``, ``message`` or ``attachment``: free text.

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
from dataclasses import dataclass
from urllib.parse import urlsplit

from ringtrace.indicators import helplines, references

OFFENDER, REFERENCE, HELP, VICTIM, WORD = "offender", "reference", "help", "victim", "word"
STRUCTURED, PAYMENT, NARRATIVE, MESSAGE, ATTACHMENT, APK, ANALYST = (
    "structured", "payment", "narrative", "message", "attachment", "apk", "analyst",
)  # fmt: skip
STRONG_SOURCES = frozenset({STRUCTURED, PAYMENT, APK, ANALYST})
WORD_REASON = (
    "a bare word after a platform's name, not shown to be a handle (no @, label, profile "
    "link or handle-like pattern)"
)
VICTIM_REASON = "the victim's own contact details, by what the report says around them"
_HOST_TYPES = frozenset({"url", "domain", "email", "page"})


@dataclass(frozen=True)
class Role:
    role: str
    reason: str | None = None
    strong: bool = False


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
    if type_ == "phone":
        entry = helplines.helpline(value)
        if entry is not None:
            return Role(HELP, helplines.reason(entry))
        return None
    if type_ in _HOST_TYPES:
        host = host_of(type_, value, attributes)
        why = references.site_reason(host) if host else None
        if why is not None:
            return Role(REFERENCE, f"a cited reference ({why}), not the offender's")
    return None


# Around a value, in the same clause: the victim was made to install from it or pay into it
# (strong evidence); verbs only, so that "a post about the same app" is not one.
_STRONG_CUE = re.compile(
    r"install|download|\bpay\b|\bpaid\b|transfer|deposit|send (?:the )?money|"
    r"下載|下载|安裝|安装|轉|转|付款|匯款|汇款|入數|"
    r"pasang|muat turun|bayar|pindah|"
    r"इंस्टॉल|भेजो|설치|보내|நிறுவ"
)
_APK_LINK = re.compile(r"\.apk(?![a-z0-9])")
_VICTIM_CUE = re.compile(
    r"\bmy (?:own )?(?:number|phone|mobile|cell|whatsapp|email|e-mail|contact|line)\b|"
    r"\bi gave\b|\bme at\b|\breach me\b|我的電話|我的电话|我的手機|我的手机|我嘅電話|我嘅|"
    r"我的號碼|我的号码|nombor saya|telefon saya|emel saya|मेरा नंबर|내 번호|என் எண்"
)


def text_role(
    type_: str, low: str, start: int, end: int, attributes: dict[str, str], source: str
) -> Role:
    """The role of a candidate found at ``start:end`` in free text (``low``: the lowered
    text). Cites and the victim's own are read before the value; install and pay cues on
    either side ("叫我喺{url}下載", "install from {url}")."""
    clause = references.clause_before(low, start)
    after = references.clause_after(low, end)
    if attributes.get("support") == "none":
        return Role(WORD, WORD_REASON)
    linkish = type_ in _HOST_TYPES or attributes.get("from_link") == "true"
    if linkish and references.cited_in_context(clause) and not _STRONG_CUE.search(clause):
        return Role(REFERENCE, "a cited reference (the report points to it), not the offender's")
    if type_ in ("phone", "email") and _VICTIM_CUE.search(clause):
        return Role(VICTIM, VICTIM_REASON)
    strong = _STRONG_CUE.search(clause) is not None or _STRONG_CUE.search(after) is not None
    # A link to an Android package is the app the victim was made to install.
    if type_ == "url" and _APK_LINK.search(low, start, end):
        strong = True
    return Role(OFFENDER, None, strong=strong)
