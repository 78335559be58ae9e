"""Values quoted from a public warning: a scam alert, an advisory, a bulletin, a post or a
thread that lists a ring's number, handle, wallet or link, repeated by whoever read it.

The ring's own victims often give such a value in structured fields, so it is strong and
links everyone who holds it as the offender's: a stranger who repeats the warning would join
the ring. Read in the victim's words before the value (the sentence, lowered):

* a publication that lists it: "a scam alert page quotes …", "the ScamShield alert this
  week listed …", "Reddit warning thread mentions …", "the bank's scam bulletin …", a PSA,
  an advisory, "通告", "提醒大家";
* a warning word with where it was published or shared: "amaran di Facebook …", "share info
  waspada …", "babala sa FB", "Twitter pe alert tha ki …", "netizens shared a warning: …";

ending close before the value with nobody else's words in between ("I saw a police advisory
last year and then this guy messaged me from …" is the offender's number). A warning word
alone is never enough: an offender's threat is one ("he gave me a warning", "他警告我",
"dia bagi amaran"), and so is a bank's alert of the victim's own transfer. After the value,
a warning to keep away from it ("… se bachke rehna").
"""

from __future__ import annotations

import re

# Nouns of a publication that lists values, and the verbs it lists them with.
_NOUNS = r"(?:warning|alert|advisory|advisories|bulletin|psa|notice|news|thread|article|broadcast)"
_LISTING = (
    r"(?:lists|listed|listing|mentions|mentioned|mentioning|names|named|naming|quotes|quoted"
    r"|quoting|flags|flagged|flagging|warns|warned|identifies|identified|menyebut\w*|isinya"
    r"|nagsasabing)"
)
# A warning word that alone may be a threat, and where a published one was seen or shared.
_WARNING_WORD = r"(?:warning|alert|amaran|peringatan|babala|paalala|waspada|警告|警示|提醒)"
_PUBLISHED = (
    r"(?:facebook|fb|twitter|instagram|ig|tiktok|reddit|youtube|threads|weibo|微博|forum"
    r"|group|grup|kumpulan|page|website|site|news|berita|balita|网上|網上|新闻|新聞|群組|群组"
    r"|posts?|postingan|posting|shared?|sharing|forward(?:ed|s)?|posted|circulat\w+|kongsi|viral"
    r"|nag-share|ibinahagi"
    # a friend passing it on: "kawan hantar amaran …", "my cousin forwarded …"
    r"|friends?|kawan|teman|cousin|pinsan|kaibigan|colleague|朋友|同事)"
)
PUBLISHED_WARNING = re.compile(
    rf"(?<![a-z]){_NOUNS}s?(?![a-z])[^.!?。\n]{{0,40}}?(?<![a-z]){_LISTING}(?![a-z])"
    r"|(?<![a-z])(?:warning|alert|advisory)s?\s+(?:post|page|thread|list|article|notice|video)s?"
    r"(?![a-z])"
    r"|(?<![a-z])(?:scam|fraud|public|police|official|community|government)\s+"
    r"(?:warning|alert|advisory|bulletin|notice|psa)"
    r"|(?<![a-z])(?:advisory|advisories|bulletin|psa)(?![a-z])|通告|公告|警方提醒|提醒大家|提醒市民"
    rf"|(?<![a-z]){_WARNING_WORD}(?![a-z])[^.!?。\n]{{0,30}}?(?<![a-z]){_PUBLISHED}(?![a-z])"
    rf"|(?<![a-z]){_PUBLISHED}(?![a-z])[^.!?。\n]{{0,30}}?(?<![a-z]){_WARNING_WORD}(?![a-z])"
)
# How far before the value the warning's words may end (the rest of the sentence, as in
# "… a public warning post on Facebook listing <value>").
REACH = 60
# Between the warning and the value, somebody's own words: the offender's ("… then this guy
# messaged me from …") or the victim's ("the bulletin listed my own transfer to …"). Not
# "scammer": a warning names its values as the scammers' ("… na scammer daw ang …").
_SOMEONE = re.compile(
    r"(?<![a-z])(?:caller|guy|girl|man|woman|his|her|their|him"
    r"|them|he|she|they|dia|siya|niya|usne|uska|uski|woh|own|sendiri)(?![a-z])"
    r"|對方|对方|他|她|佢|自己"
)
KEEP_AWAY_AFTER = re.compile(r"^\W{0,3}(?:se bach|se saavdhan|se savdhan|से बच|से सावधान)")


def warning_before(before: str, pattern: re.Pattern[str] | None = None) -> bool:
    """Whether ``before`` (the lowered sentence that ends at a value) quotes the value from
    a public warning: warning words that end within :data:`REACH` characters of the value,
    with nobody's own words after them. ``pattern``: other warning words, read the same way
    (the payment keys' own, in :mod:`ringtrace.indicators.roles`)."""
    # Every match, overlapping ones too ("scam alert" and "alert … lists" in "a scam alert
    # shared in a group lists …"): the sentence is short, and this runs only when one exists.
    pattern = pattern or PUBLISHED_WARNING
    pos = 0
    while (m := pattern.search(before, pos)) is not None:
        if len(before) - m.end() <= REACH and _SOMEONE.search(before, m.end()) is None:
            return True
        pos = m.start() + 1
    return False


def keep_away_after(text: str, end: int) -> bool:
    """Whether the words just after ``text[:end]`` warn to keep away from it."""
    return KEEP_AWAY_AFTER.match(text[end : end + 16].lower()) is not None
