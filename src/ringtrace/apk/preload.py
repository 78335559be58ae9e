"""Imported once before analysing children are made (by the fork server, or by the CLI
before it forks): everything an analysis needs is loaded and warmed, so a child needs no
temporary files, reads nothing outside what the sandbox allows, and starts at once."""

from ringtrace.apk.analysis import _silence_androguard

_silence_androguard()
import androguard.core.apk  # noqa: E402  (loaded for the children)
import androguard.core.axml  # noqa: E402,F401
import asn1crypto.x509  # noqa: E402,F401
from androguard.core.resources import public as _platform  # noqa: E402

from ringtrace.apk.risk import rate  # noqa: E402,F401
from ringtrace.apk.thirdparty import builtin as _third_party  # noqa: E402
from ringtrace.indicators.hosts import registrable_domain  # noqa: E402
from ringtrace.indicators.warninglist import builtin as _warninglist  # noqa: E402

registrable_domain("warm.example.org")  # loads the bundled public-suffix list
_third_party()
_platform.SYSTEM_RESOURCES  # noqa: B018  (built once here, not in every child)
_warninglist()
