"""Imported once by the analysis fork server: everything an analysis needs is loaded and
warmed before any child is forked, so a child needs no temporary files and starts at once."""

from ringtrace.apk.analysis import _silence_androguard
from ringtrace.indicators.report import extract_text

_silence_androguard()
import androguard.core.apk  # noqa: E402  (loaded for the children)
import androguard.core.axml  # noqa: E402,F401

extract_text("http://warm.example.org/ 192.0.2.1", only=frozenset({"url", "domain", "ip"}))

from ringtrace.apk.risk import rate  # noqa: E402,F401
from ringtrace.apk.thirdparty import builtin as _third_party  # noqa: E402
from ringtrace.indicators.warninglist import builtin as _warninglist  # noqa: E402

_third_party()
_warninglist()
