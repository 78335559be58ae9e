"""androguard's table of Android platform resources, built faster.

``androguard.core.axml`` imports ``androguard.core.resources.public``, which builds the
platform's attribute and style ids from androguard's copy of ``public.xml`` (190 KB) with
``minidom``: ~40 ms of every ``ringtrace apk analyze``, more than the whole analysis of a
small app. :func:`prepare` puts a stand-in for that module in ``sys.modules`` that reads the
same file with ``expat`` directly (the same elements, no document tree), on first use. The
table is the same, entry for entry (tests/test_apk_platform.py compares it with androguard's
own module).
"""

from __future__ import annotations

import sys
import types
from importlib.util import find_spec
from pathlib import Path
from typing import Any

PUBLIC = "androguard.core.resources.public"


def _read_public_xml(path: str) -> dict[str, dict[str, int]]:
    """``{type: {name: id}}`` of every ``<public>`` element, as androguard's module builds it."""
    from xml.parsers import expat

    table: dict[str, dict[str, int]] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "public":
            name, id_ = attrs.get("name", ""), int(attrs.get("id", ""), 16)
            table.setdefault(attrs.get("type", ""), {})[name] = id_

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    with open(path, "rb") as f:
        parser.Parse(f.read(), True)
    return table


class _Deferred(types.ModuleType):
    """androguard's ``public`` module, its names built on first use."""

    def __getattr__(self, name: str) -> Any:
        if name not in ("_public_res", "SYSTEM_RESOURCES"):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        origin = self.__dict__["__file__"]
        public = _read_public_xml(str(Path(origin).with_name("public.xml")))
        self._public_res = public
        self.SYSTEM_RESOURCES = {
            kind: {
                "forward": dict(public[key].items()),
                "inverse": {v: k for k, v in public[key].items()},
            }
            for kind, key in (("attributes", "attr"), ("styles", "style"))
        }
        return self.__dict__[name]


def prepare() -> None:
    """Put the stand-in in place (idempotent; before androguard loads)."""
    if PUBLIC in sys.modules:
        return
    spec = find_spec(PUBLIC)
    if (
        spec is None
        or spec.origin is None
        or not Path(spec.origin).with_name("public.xml").exists()
    ):
        return  # another androguard layout: let it load as it does
    module = _Deferred(PUBLIC)
    module.__spec__ = spec
    module.__file__ = spec.origin
    module.__loader__ = spec.loader
    module.__package__ = PUBLIC.rpartition(".")[0]
    sys.modules[PUBLIC] = module
