"""Report documents built in code for tests."""

from __future__ import annotations

import itertools
import json
from typing import Any

from ringtrace.settings import Settings
from ringtrace.store import Store

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


def seed_demo(settings: Settings) -> Store:
    """A migrated store holding the demo scenario, with an agency per source (the browser
    suites' common start). The caller closes it."""
    from ringtrace.demo import generate
    from ringtrace.services.intake import import_lines

    store = Store.open(settings)
    store.migrate()
    scenario = generate()
    import_lines(store, [json.dumps(d, ensure_ascii=False) for d in scenario.reports])
    for source in {d["source"] for d in scenario.reports}:
        store.accounts.ensure_agency(source)
    from ringtrace.demo.partners import confirm_all_matches

    confirm_all_matches(store)  # as `ringtrace demo` does
    return store
