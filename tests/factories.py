"""Report documents built in code for tests."""

from __future__ import annotations

import itertools
import json
from typing import Any

_ids = itertools.count(1)


def report(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "external_id": f"T-{next(_ids):05d}",
        "source": "test-agency",
        "received_at": "2024-07-02T21:14:00+08:00",
    }
    doc.update(fields)
    return doc


def line(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False)
