"""Link keys from an APK analysis: the signing certificate, the servers, the file itself and
(weakly) the package name."""

from __future__ import annotations

from typing import Any

from ringtrace.apk.analysis import ANALYZER_VERSION
from ringtrace.domain.models import Indicator, Occurrence

EXTRACTOR = "apk-analysis"
CERT = "apk_cert"
FILE = "apk_sha256"
PACKAGE = "android_package"


def link_keys(result: dict[str, Any], field: str, filename: str) -> list[Indicator]:
    """Indicators for one analysed APK, found in the report's attachment ``field``."""

    def ind(typ: str, value: str, raw: str, **attrs: str) -> Indicator:
        return Indicator(
            type=typ, value=value, extractor=EXTRACTOR, extractor_version=ANALYZER_VERSION,
            occurrences=[Occurrence(field, raw, 0, len(raw), "apk", "offender", True)],
            attributes=attrs,
        )  # fmt: skip

    out = [ind(FILE, result["sha256"], filename)]
    for cert in result.get("certificates", []):
        out.append(ind(CERT, cert["sha256"], cert.get("subject") or cert["sha256"]))
    if result.get("package"):
        out.append(ind(PACKAGE, result["package"].lower(), result["package"]))
    for ep in result.get("endpoints", []):
        if ep["type"] in ("domain", "ip", "url"):
            raw = (ep.get("seen_as") or [ep["value"]])[0]
            out.append(ind(ep["type"], ep["value"], raw, found_in=",".join(ep["found_in"])))
    merged: dict[tuple[str, str], Indicator] = {}
    for i in out:
        merged.setdefault((i.type, i.value), i)
    return list(merged.values())
