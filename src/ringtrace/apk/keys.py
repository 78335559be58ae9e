"""Link keys from an APK analysis: the signing certificate, the app's own servers, cloud
project and messaging bots, the file itself and (weakly) the package name.

Only endpoints the analysis marked ``link_key`` (confident, and the app's own rather than an
SDK's or a platform's) become keys. A certificate is a key unless it is one of the AOSP public
test keys, which anyone can sign with (they ship with the Android source), recognised by
fingerprint (apk/data/test_keys.json: a copied subject is not enough); it is then kept, shown
and excluded. The Android debug key is made per developer machine, so it does link.
"""

from __future__ import annotations

from typing import Any

from ringtrace.apk.analysis import ANALYZER_VERSION
from ringtrace.apk.testkeys import public_test_key
from ringtrace.domain.models import Indicator, Occurrence

EXTRACTOR = "apk-analysis"
CERT = "apk_cert"
FILE = "apk_sha256"
PACKAGE = "android_package"
BOT = "messaging_bot"  # telegram-bot:<bot id>, discord-webhook:<webhook id>
CLOUD_PROJECT = "cloud_project"  # firebase:<project id>, google-project:<project number>
SHARED_KEY_REASON = (
    "a public test key from the Android source (AOSP testkey/platform/shared/media): "
    "anyone can sign with it"
)


def shared_test_key(cert: dict[str, Any]) -> bool:
    """Whether a certificate is one of the AOSP public test keys (by its SHA-256)."""
    return public_test_key(str(cert.get("sha256", ""))) is not None


def link_keys(result: dict[str, Any], field: str, filename: str) -> list[Indicator]:
    """Indicators for one analysed APK, found in the report's attachment ``field``."""

    def ind(typ: str, value: str, raw: str, reason: str | None = None, **attrs: str) -> Indicator:
        return Indicator(
            type=typ, value=value, extractor=EXTRACTOR, extractor_version=ANALYZER_VERSION,
            occurrences=[Occurrence(field, raw, 0, len(raw), "apk", "offender", True)],
            attributes=attrs, excluded_reason=reason,
        )  # fmt: skip

    out = [ind(FILE, result["sha256"], filename)]
    for cert in result.get("certificates", []):
        reason = SHARED_KEY_REASON if shared_test_key(cert) else None
        out.append(ind(CERT, cert["sha256"], cert.get("subject") or cert["sha256"], reason))
    if result.get("package"):
        out.append(ind(PACKAGE, result["package"].lower(), result["package"]))
    for ep in result.get("endpoints", []):
        if ep["type"] not in ("domain", "ip") or not ep.get("link_key"):
            continue
        raw = (ep.get("seen_as") or [ep["value"]])[0]
        found_in = ",".join(ep["found_in"])
        usage = f"{ep.get('usage')} ({ep.get('confidence')} confidence)"
        out.append(ind(ep["type"], ep["value"], raw, found_in=found_in, usage=usage))
        for u in ep.get("urls", []):
            if u["confidence"] in ("high", "medium"):
                out.append(ind("url", u["url"], u["url"], found_in=found_in, usage=usage))
    for project in result.get("cloud_projects", []):
        out.append(ind(CLOUD_PROJECT, project["key"], project["value"],
                       service=project["service"], found_in=project["resource"]))  # fmt: skip
    for bot in result.get("bots", []):
        out.append(ind(BOT, bot["key"], bot["value"], service=bot["service"],
                       found_in=",".join(bot["found_in"])))  # fmt: skip
    merged: dict[tuple[str, str], Indicator] = {}
    for i in out:
        merged.setdefault((i.type, i.value), i)
    return list(merged.values())
