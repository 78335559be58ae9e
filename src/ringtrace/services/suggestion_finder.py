"""Finding weak links for analysts: near-duplicate scripts (MinHash), shared lure images
(PDQ) and keys held by unconnected reports (corroboration)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import (
    insert,
    select,
)

from ringtrace.domain.models import LinkKey
from ringtrace.evidence.keys import open_document
from ringtrace.store import audit_log as audit
from ringtrace.store import corroboration
from ringtrace.store import media as media_store
from ringtrace.store.database import Store
from ringtrace.store.rows import (
    aad,
)
from ringtrace.store.tables import (
    reports,
    suggestions,
)


def refresh(
    store: Store, threshold: float = 0.5, backend: str = "rensa", image_threshold: int = 31
) -> int:
    """Find near-duplicate offender scripts and shared lure images (PDQ distance at most
    ``image_threshold``) in different clusters; add them as open suggestions (decided ones
    are left alone). Returns how many are new."""
    from ringtrace.linking.suggestions import near_duplicates

    texts: dict[int, str] = {}
    ring = store.keys()
    with store.read() as conn:
        rows = conn.execute(
            select(
                reports.c.id,
                reports.c.source,
                reports.c.external_id,
                reports.c.document,
                reports.c.document_key,
            ).where(reports.c.withdrawn_at.is_(None))
        ).all()
    for r in rows:
        doc = json.loads(
            open_document(
                ring,
                r.document,
                r.document_key,
                aad(r.source, r.external_id),
                what=f"report {r.id}",
            )
        )
        script = "\n".join(
            m.get("text", "")
            for m in doc.get("messages", [])
            if isinstance(m, dict) and m.get("from") == "offender"
        )
        if len(script) >= 40:
            texts[int(r.id)] = script
    pairs: list[tuple[str, int, int, float, LinkKey | None]] = [
        ("script", p.a, p.b, p.score, None) for p in near_duplicates(texts, threshold, backend)
    ]
    with store.read() as conn:
        pairs += [
            ("lure_image", a, b, round(1.0 - d / 256, 3), None)
            for a, b, d in media_store.lure_pairs(conn, image_threshold)
        ]
        pairs += [
            ("shared_key", a, b, score, key)
            for a, b, score, key in corroboration.uncorroborated_pairs(conn)
        ]
    clusters = store.clusters.assignments()
    new = 0
    with store.write() as conn:
        seen = {
            (str(k), int(a), int(b))
            for k, a, b in conn.execute(
                select(suggestions.c.kind, suggestions.c.report_a, suggestions.c.report_b)
            )
        }
        for kind, a, b, score, key in pairs:
            if clusters.get(a, a) == clusters.get(b, b) or (kind, a, b) in seen:
                continue
            seen.add((kind, a, b))
            conn.execute(
                insert(suggestions).values(
                    kind=kind,
                    report_a=a,
                    report_b=b,
                    score=score,
                    status="open",
                    created_at=datetime.now(UTC),
                    key_type=key.type if key else None,
                    key_value=key.value if key else None,
                )
            )
            new += 1
        audit.append(
            conn,
            store.actor,
            "suggestions.refresh",
            "store",
            {"candidates": len(pairs), "new": new},
        )
    return new
