"""A risk level for an analysed app, graded from the behaviour that matters for sextortion and
saying which facts drove it.

Only the app's own code counts: a behaviour found only inside an SDK's code (an accessibility
helper in AndroidX, a location call in the support library) is shown but does not raise the
level. Requesting a permission never raises it either; only code that uses it does.

- ``critical``: contacts, text messages or the call log read and then sent (same method or a
  call chain): what sextortion apps do.
- ``high``: the screen, microphone or camera captured by an app that also uploads; an
  accessibility service that drives other apps; a hidden launcher icon together with theft of
  personal data; device-administrator lock or wipe; claiming the package name of a known app or
  of the platform; two or more packer signs.
- ``medium``: personal data read while a sender exists but no path joins them; a hidden icon;
  an accessibility service that only listens; one packer sign; run-time code loading; a name
  like a known app's; an unsigned app.
- ``low``: anything else.
"""

from __future__ import annotations

from typing import Any

from ringtrace.apk import behaviours as B

LEVELS = ("low", "medium", "high", "critical")
_PERSONAL = ("reads_contacts", "reads_sms", "reads_call_log")
_CAPTURE = ("captures_screen", "records_audio", "uses_camera")


def _in_app(b: dict[str, Any]) -> bool:
    """Whether a behaviour has evidence in the app's own code or manifest."""
    return any("sdk" not in ev for ev in b["evidence"])


def _manifest(b: dict[str, Any]) -> bool:
    return any("manifest" in ev for ev in b["evidence"])


def rate(r: dict[str, Any]) -> dict[str, Any]:
    """``{"level", "reasons", "drivers": [{"level", "fact", "behaviours"}]}``."""
    app = {b["id"]: b for b in r["behaviours"] if _in_app(b)}
    titles = {b["id"]: b["title"] for b in r["behaviours"]}
    sends = sorted(i for i in app if i in B.BY_ID and B.BY_ID[i].sends)
    drivers: list[dict[str, Any]] = []

    def fact(level: str, text: str, ids: list[str]) -> None:
        drivers.append({"level": level, "fact": text, "behaviours": ids})

    thefts = [tid for tid, _ in B.THEFTS.values() if tid in app]
    for tid in thefts:
        text = titles[tid]
        if tid == B.EXFILTRATION:
            text = "reads the contact list and sends it off the device, as sextortion apps do"
        fact("critical", text, [tid])
    stolen = [i for i in _PERSONAL if i in app]
    unjoined = [i for i in stolen if B.THEFTS[i][0] not in app]
    if unjoined and sends:
        read, sent = (", ".join(titles[i] for i in ids) for ids in (unjoined, sends))
        fact("medium", f"{read}, and {sent}; no call path joins them", unjoined + sends)
    elif unjoined:
        level = "medium" if len(unjoined) > 1 else "low"
        fact(level, f"{', '.join(titles[i] for i in unjoined)}; no code that sends data was found",
             unjoined)  # fmt: skip
    capture = [i for i in _CAPTURE if i in app]
    if capture and sends:
        fact("high", f"{', '.join(titles[i] for i in capture)} and has code that uploads "
             f"({', '.join(titles[i] for i in sends)})", capture + sends)  # fmt: skip
    elif capture:
        fact("low", f"{', '.join(titles[i] for i in capture)}; no code that sends data was found",
             capture)  # fmt: skip
    if "hides_icon" in app:
        if thefts or stolen:
            fact("high", "hides its launcher icon and takes personal data", ["hides_icon"])
        else:
            fact("medium", titles["hides_icon"], ["hides_icon"])
    acc = r_behaviour(r, "accessibility_abuse")
    if acc is not None and _manifest(acc):
        if any("sdk" not in ev and "manifest" not in ev for ev in acc["evidence"]):
            fact("high", "declares an accessibility service and drives other apps with it",
                 ["accessibility_abuse"])  # fmt: skip
        else:
            fact("medium", "declares an accessibility service (it can read the screen)",
                 ["accessibility_abuse"])  # fmt: skip
    admin = app.get("device_admin")
    if admin is not None:
        code = any("sdk" not in ev and "manifest" not in ev for ev in admin["evidence"])
        fact("high" if code else "medium", titles["device_admin"], ["device_admin"])
    _impersonation(r, fact)
    packer = r.get("packer_signs") or []
    if packer:
        fact("high" if len(packer) > 1 else "medium",
             "packed or obfuscated: " + "; ".join(packer), [])  # fmt: skip
    if not r.get("signed"):
        fact("medium", "not signed: it cannot be installed as it is, and its author is unknown",
             [])  # fmt: skip
    if sends:
        own = [e["value"] for e in r.get("endpoints", []) if e.get("link_key")]
        if own:
            fact("low", f"talks to {', '.join(own[:5])}", [])
    if not drivers:
        fact("low", "no behaviour of concern was found", [])
    drivers.sort(key=lambda d: -LEVELS.index(d["level"]))
    level = drivers[0]["level"]
    return {"level": level, "reasons": [d["fact"] for d in drivers], "drivers": drivers}


def r_behaviour(r: dict[str, Any], bid: str) -> dict[str, Any] | None:
    return next((b for b in r["behaviours"] if b["id"] == bid), None)


def _impersonation(r: dict[str, Any], fact: Any) -> None:
    package = (r.get("package") or "").lower()
    label = (r.get("label") or "").strip().lower()
    if package in B.KNOWN_PACKAGES:
        fact("high", f"claims the package name of {B.KNOWN_PACKAGES[package]} ({package})", [])
    elif package.startswith(B.PLATFORM_PREFIXES):
        fact("high", f"claims a package name of the Android platform or Google ({package})", [])
    else:
        names = {v.lower(): v for v in B.KNOWN_PACKAGES.values()}
        if label in names:
            fact("medium", f"is named like {names[label]} but is another package ({package})",
                 [])  # fmt: skip
