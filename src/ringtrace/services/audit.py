"""Checking the audit chain against an anchor kept elsewhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ringtrace.store import Store


def anchor_holds(store: Store, anchor: Path) -> tuple[bool, int]:
    """Whether the chain still holds the entry an anchor saved (``ringtrace audit anchor``),
    with the same hash; and that entry's number."""
    saved = json.loads(anchor.read_text())
    match = [e for e in store.audit.entries() if e.seq == saved["seq"]]
    return bool(match) and match[0].hash == saved["hash"], saved["seq"]
