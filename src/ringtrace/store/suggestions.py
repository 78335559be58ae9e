"""Suggestions (repository): pairs of reports an analyst may link, with their score and the
decision taken. Finding them is services/suggestion_finder.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    select,
)

from ringtrace.store.tables import (
    suggestions,
)

if TYPE_CHECKING:
    from ringtrace.store.database import Store


class SuggestionRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def find(self, status: str | None = "open") -> list[dict[str, Any]]:
        q = select(suggestions).order_by(suggestions.c.score.desc(), suggestions.c.id)
        if status:
            q = q.where(suggestions.c.status == status)
        with self.db.read() as conn:
            rows = conn.execute(q).all()
        refs = (
            self.db.reports.refs([r.report_a for r in rows] + [r.report_b for r in rows])
            if rows
            else {}
        )
        return [
            {
                "id": r.id,
                "kind": r.kind,
                "score": r.score,
                "status": r.status,
                "reason": r.reason,
                "a": refs[r.report_a].to_dict(),
                "b": refs[r.report_b].to_dict(),
                **({"key": {"type": r.key_type, "value": r.key_value}} if r.key_type else {}),
            }
            for r in rows
        ]
