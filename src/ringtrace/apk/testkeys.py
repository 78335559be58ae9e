"""The Android source's public test keys (apk/data/test_keys.json), by certificate SHA-256."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _keys() -> dict[str, str]:
    text = resources.files("ringtrace.apk").joinpath("data/test_keys.json").read_text("utf-8")
    return dict(json.loads(text)["keys"])


def public_test_key(sha256: str) -> str | None:
    """The name of the AOSP test key with this certificate fingerprint ("testkey",
    "platform", ...), or None for any other certificate."""
    return _keys().get(sha256.lower())


def why_not_linked(sha256: str) -> str | None:
    name = public_test_key(sha256)
    if name is None:
        return None
    return f"the Android source's public '{name}' test key: anyone can sign with it"
