"""Loading androguard for the analysis without paying for what it rarely uses.

``androguard.core.axml`` imports ``androguard.core.resources.public``, which parses the
Android platform's ``public.xml`` (190 KB, with ``minidom``) at import time: ~40 ms of every
``ringtrace apk analyze``, for a table the manifest parser consults only when an attribute has
no name in the file's string pool (stripped or obfuscated manifests). :func:`prepare` puts a
stand-in for that module in ``sys.modules``: on first access to any of its names, it runs
androguard's own module code in place, so whoever reads ``public.SYSTEM_RESOURCES`` gets
androguard's table, built by androguard (tests/test_apk_platform.py checks it).
"""

from __future__ import annotations

import sys
import types
from importlib.util import find_spec
from typing import Any

PUBLIC = "androguard.core.resources.public"


class _Deferred(types.ModuleType):
    """A module whose code runs on the first attribute that is not already defined."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # import machinery probing; nothing to load for it
        spec = self.__dict__["__spec__"]
        if not self.__dict__.get("_ringtrace_loaded"):
            self.__dict__["_ringtrace_loaded"] = True
            spec.loader.exec_module(self)
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None


def prepare() -> None:
    """Defer androguard's platform resource table (idempotent; before androguard loads)."""
    if PUBLIC in sys.modules:
        return
    spec = find_spec(PUBLIC)
    if spec is None or spec.loader is None:
        return  # another androguard layout: let it load as it does
    module = _Deferred(PUBLIC)
    module.__spec__ = spec
    module.__file__ = spec.origin
    module.__loader__ = spec.loader
    module.__package__ = PUBLIC.rpartition(".")[0]
    sys.modules[PUBLIC] = module
