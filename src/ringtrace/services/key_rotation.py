"""Key rotation: seal every document and evidence file under a new key, then retire the old."""

from __future__ import annotations

from sqlalchemy import (
    select,
    update,
)

from ringtrace.evidence.keys import rewrap
from ringtrace.store import audit_log as audit
from ringtrace.store import integrity
from ringtrace.store.database import Store
from ringtrace.store.rows import (
    aad,
)
from ringtrace.store.tables import (
    reports,
)


def rotate(store: Store, actor: str | None = None) -> dict[str, int]:
    """Seal everything under a new key, then retire the old ones. Readers keep working
    throughout: until the end, the key file holds both the old and the new keys."""
    ring = store.keys()
    new = ring.add_active()
    store.keys.save(ring)
    files = store.vault.rotate()
    rewrapped = 0
    ring = store.keys()
    with store.write() as conn:
        rows = conn.execute(
            select(
                reports.c.id, reports.c.source, reports.c.external_id, reports.c.document_key
            ).where(reports.c.document_key.is_not(None))
        ).all()
        for r in rows:
            fresh = rewrap(
                ring, r.document_key, aad(r.source, r.external_id), what=f"report {r.id}"
            )
            if fresh is not None:
                conn.execute(update(reports).where(reports.c.id == r.id).values(document_key=fresh))
                integrity.reseal_report(conn, ring.integrity_key(), r.id)
                rewrapped += 1
        names = integrity.reseal_names(conn, ring)
        audit.append(
            conn,
            actor or store.actor,
            "keys.rotate",
            "store",
            {"new_key": new, "files": files, "documents": rewrapped, "file_names": names},
        )
    retired = ring.retire_others()
    store.keys.save(ring)
    return {"files": files, "documents": rewrapped, "retired_keys": len(retired)}
