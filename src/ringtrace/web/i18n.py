"""The public pages' languages: message catalogues (gettext .po files under locale/, compiled
in memory at start-up), chosen from the browser and switchable.

Every text on the public pages is a msgid in English wrapped in ``_()`` in the templates; the
catalogues translate it. tests/test_public.py checks that every msgid used by a public
template has a translation in every catalogue.
"""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from functools import cache
from importlib import resources
from typing import Any

from starlette.requests import Request

LANGUAGES: dict[str, str] = {
    "en": "English",
    "zh-Hant": "繁體中文",
    "zh-Hans": "简体中文",
    "ms": "Bahasa Melayu",
}
DEFAULT = "en"
COOKIE = "rt_lang"
_current: ContextVar[str] = ContextVar("ringtrace_lang", default=DEFAULT)


@cache
def catalogues() -> dict[str, gettext.GNUTranslations]:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    out = {}
    root = resources.files("ringtrace.web").joinpath("locale")
    for lang in LANGUAGES:
        if lang == DEFAULT:
            continue
        po = root.joinpath(lang, "LC_MESSAGES", "messages.po").read_bytes()
        catalog = read_po(io.BytesIO(po))
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        out[lang] = gettext.GNUTranslations(buf)
    return out


def msgids(lang: str) -> dict[str, str]:
    """msgid -> translation of one catalogue (for the completeness test)."""
    from babel.messages.pofile import read_po

    root = resources.files("ringtrace.web").joinpath("locale")
    catalog = read_po(io.BytesIO(root.joinpath(lang, "LC_MESSAGES", "messages.po").read_bytes()))
    return {str(m.id): str(m.string) for m in catalog if m.id}


def _map(tag: str) -> str | None:
    t = tag.strip().lower()
    if not t:
        return None
    if t.startswith("zh"):
        if any(x in t for x in ("hant", "-tw", "-hk", "-mo")):
            return "zh-Hant"
        return "zh-Hans"
    if t.startswith("ms") or t.startswith("may"):
        return "ms"
    if t.startswith("en"):
        return "en"
    return None


def negotiate(request: Request) -> str:
    """``?lang=``, then the language cookie, then the browser's Accept-Language."""
    for cand in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if cand in LANGUAGES:
            return cand
    ranked = []
    for i, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, q = part.partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, i, tag))
    for _, _, tag in sorted(ranked):
        lang = _map(tag)
        if lang:
            return lang
    return DEFAULT


def activate(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else DEFAULT)


def current() -> str:
    return _current.get()


def gettext_(message: str, **variables: Any) -> str:
    lang = _current.get()
    text = catalogues()[lang].gettext(message) if lang != DEFAULT else message
    return text % variables if variables else text


def ngettext_(singular: str, plural: str, n: int, **variables: Any) -> str:
    lang = _current.get()
    if lang == DEFAULT:
        text = singular if n == 1 else plural
    else:
        text = catalogues()[lang].ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def html_lang(lang: str) -> str:
    return {"zh-Hant": "zh-Hant", "zh-Hans": "zh-Hans"}.get(lang, lang)


def install(env: Any) -> None:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext=gettext_, ngettext=ngettext_, newstyle=True)
