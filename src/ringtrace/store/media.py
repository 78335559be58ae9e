"""Perceptual hashes in the store: lure media (derived from reports, matched for suggested
links) and the takedown list (victims' own images, hash only, with a status lifecycle)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    delete,
    func,
    insert,
    select,
    update,
)

from ringtrace.errors import (
    Conflict,
    NotFound,
)
from ringtrace.intake.schema import ReportDocument
from ringtrace.store import analyst
from ringtrace.store import audit_log as audit
from ringtrace.store.tables import (
    media_hashes,
    reports,
    takedown,
)

if TYPE_CHECKING:
    from ringtrace.store.database import Store

import secrets
import shutil

from ringtrace.errors import InvalidMedia
from ringtrace.media.index import HashIndex, load_index, make_index
from ringtrace.media.pdq import MIN_QUALITY

STATUSES = ("received", "active", "removed", "withdrawn")
# Which status may follow which. "removed" can go back to "active" when the image is seen
# again; "withdrawn" is final (the victim asked us to stop).
TRANSITIONS: dict[str, set[str]] = {
    "received": {"active", "withdrawn"},
    "active": {"removed", "withdrawn"},
    "removed": {"active", "withdrawn"},
    "withdrawn": set(),
}
# What a platform export lists by default.
EXPORTED = ("active",)


def insert_for_report(conn: Connection, report_id: int, doc: ReportDocument) -> list[str]:
    """Store a report's lure hashes and add its own-image hashes to the takedown list.
    Returns the takedown references created."""
    insert_lure(conn, report_id, doc)
    refs: list[str] = []
    now = datetime.now(UTC)
    for mh in doc.media_hashes:
        if mh.role != "own":
            continue
        ref = "TD-" + secrets.token_hex(5).upper()
        conn.execute(insert(takedown).values(
            reference=ref, report_id=report_id, pdq=mh.hash.lower(), quality=mh.quality,
            preprocessing=mh.preprocessing, status="received", created_at=now, updated_at=now,
        ))  # fmt: skip
        refs.append(ref)
    return refs


def insert_lure(conn: Connection, report_id: int, doc: ReportDocument) -> None:
    rows = [
        {"report_id": report_id, "position": i, "pdq": mh.hash.lower(), "quality": mh.quality,
         "preprocessing": mh.preprocessing, "frame_second": mh.frame_second}
        for i, mh in enumerate(doc.media_hashes)
        if mh.role == "lure"
    ]  # fmt: skip
    if rows:
        conn.execute(insert(media_hashes), rows)


def usable_lure(conn: Connection) -> list[tuple[int, int, str]]:
    """``(media_hash_id, report_id, pdq)`` of every lure hash good enough to match on."""
    q = (
        select(media_hashes.c.id, media_hashes.c.report_id, media_hashes.c.pdq)
        .join(reports, reports.c.id == media_hashes.c.report_id)
        .where(
            reports.c.withdrawn_at.is_(None),
            (media_hashes.c.quality.is_(None)) | (media_hashes.c.quality >= MIN_QUALITY),
        )
        .order_by(media_hashes.c.id)
    )
    return [(int(a), int(b), str(c)) for a, b, c in conn.execute(q)]


def lure_pairs(conn: Connection, threshold: int) -> list[tuple[int, int, int]]:
    """``(report_a, report_b, distance)`` for reports sharing a lure image (a < b; the
    closest pair of hashes for each pair of reports)."""
    rows = usable_lure(conn)
    if not rows:
        return []
    index = make_index(len(rows))
    index.add([r[0] for r in rows], [r[2] for r in rows])
    owner = {r[0]: r[1] for r in rows}
    best: dict[tuple[int, int], int] = {}
    for (mid, rid, _), matches in zip(
        rows, index.search([r[2] for r in rows], threshold), strict=True
    ):
        for other, dist in matches:
            orid = owner[other]
            if orid == rid or other == mid:
                continue
            key = (min(rid, orid), max(rid, orid))
            best[key] = min(dist, best.get(key, 256))
    return [(a, b, d) for (a, b), d in sorted(best.items())]


def withdraw_report(conn: Connection, report_id: int, actor: str, reason: str) -> int:
    """A withdrawn report's lure hashes go; its takedown entries become withdrawn."""
    conn.execute(delete(media_hashes).where(media_hashes.c.report_id == report_id))
    refs = [
        r[0]
        for r in conn.execute(
            select(takedown.c.reference).where(
                takedown.c.report_id == report_id, takedown.c.status != "withdrawn"
            )
        )
    ]
    for ref in refs:
        _set_status(conn, ref, "withdrawn", actor, f"report withdrawn: {reason}", check=False)
    return len(refs)


def entries(conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
    q = select(takedown).order_by(takedown.c.id)
    if status:
        if status not in STATUSES:
            raise InvalidMedia(f"status must be one of {', '.join(STATUSES)}")
        q = q.where(takedown.c.status == status)
    return [
        {
            "reference": r.reference, "pdq": r.pdq, "quality": r.quality,
            "preprocessing": r.preprocessing, "status": r.status,
            "created_at": r.created_at.isoformat(timespec="seconds"),
            "updated_at": r.updated_at.isoformat(timespec="seconds"),
        }
        for r in conn.execute(q)
    ]  # fmt: skip


def for_report(conn: Connection, report_id: int) -> dict[str, Any]:
    lure = conn.execute(
        select(media_hashes.c.pdq, media_hashes.c.quality, media_hashes.c.frame_second)
        .where(media_hashes.c.report_id == report_id)
        .order_by(media_hashes.c.position)
    ).all()
    own = conn.execute(
        select(takedown.c.reference, takedown.c.status)
        .where(takedown.c.report_id == report_id)
        .order_by(takedown.c.id)
    ).all()
    return {
        "lure": [{"pdq": p, "quality": q, "frame_second": f} for p, q, f in lure],
        "takedown": [{"reference": r, "status": s} for r, s in own],
    }


def set_status(conn: Connection, reference: str, status: str, actor: str, reason: str) -> str:
    return _set_status(conn, reference, status, actor, reason, check=True)


def _set_status(
    conn: Connection, reference: str, status: str, actor: str, reason: str, *, check: bool
) -> str:
    if status not in STATUSES:
        raise InvalidMedia(f"status must be one of {', '.join(STATUSES)}")
    row = conn.execute(select(takedown).where(takedown.c.reference == reference)).first()
    if row is None:
        raise NotFound(f"no takedown entry {reference}")
    if check and status not in TRANSITIONS[row.status]:
        allowed = ", ".join(sorted(TRANSITIONS[row.status])) or "nothing (final)"
        raise Conflict(f"{reference} is {row.status}; it can become: {allowed}")
    conn.execute(
        update(takedown)
        .where(takedown.c.reference == reference)
        .values(status=status, updated_at=datetime.now(UTC))
    )
    # The hash itself is not personal data on its own, but nothing else goes in the log.
    audit.append(conn, actor, "takedown.status", f"takedown:{reference}",
                 {"from": row.status, "to": status, "reason": reason})  # fmt: skip
    return str(row.status)


def counts(conn: Connection) -> dict[str, int]:
    q = select(takedown.c.status, func.count()).group_by(takedown.c.status)
    return {str(s): int(n) for s, n in conn.execute(q)}


class SyncedIndex:
    """A hash index persisted in a folder and brought up to date from the database by
    adding only the rows added since it was last saved (their ids are increasing)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def open(self, rows: list[tuple[int, str]]) -> HashIndex:
        """``rows``: (id, pdq) of every hash that should be searchable, in id order."""
        state_file = self.folder / "synced.json"
        index: HashIndex | None = None
        last = 0
        if state_file.exists():
            try:
                last = int(json.loads(state_file.read_text())["last_id"])
                index = load_index(self.folder)
            except (InvalidMedia, KeyError, ValueError):
                index = None
        if index is None:
            last = 0
            index = make_index(len(rows))
        fresh = [(i, h) for i, h in rows if i > last]
        if fresh:
            index.add([i for i, _ in fresh], [h for _, h in fresh])
            tmp = self.folder.with_name(self.folder.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            index.save(tmp)
            (tmp / "synced.json").write_text(json.dumps({"last_id": fresh[-1][0]}))
            shutil.rmtree(self.folder, ignore_errors=True)
            tmp.rename(self.folder)
        return index

    def reset(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class MediaRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    def for_report(self, report_id: int) -> dict[str, Any]:
        with self.db.read() as conn:
            return for_report(conn, report_id)

    def takedown_entries(self, status: str | None = None) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return entries(conn, status)

    def set_takedown_status(
        self, reference: str, status: str, *, reason: str, actor: str | None = None
    ) -> str:
        """Move a takedown entry along its lifecycle (audited); returns the old status."""
        reason = analyst.require_reason(reason)
        with self.db.write() as conn:
            return set_status(conn, reference, status, actor or self.db.actor, reason)

    def match(self, pdqs: Sequence[str], threshold: int = 31) -> list[list[dict[str, Any]]]:
        """For each hash, the stored lure hashes and takedown entries within ``threshold``.
        Uses the persisted indexes, updated with whatever was added since they were saved."""
        with self.db.read() as conn:
            lure = usable_lure(conn)
            td_rows = conn.execute(
                select(
                    takedown.c.id, takedown.c.pdq, takedown.c.reference, takedown.c.status
                ).order_by(takedown.c.id)
            ).all()
        lure_owner = {mid: rid for mid, rid, _ in lure}
        live_td = {
            int(r.id): (str(r.reference), str(r.status)) for r in td_rows if r.status != "withdrawn"
        }
        lure_idx = SyncedIndex(self.db.media_dir / "lure").open([(m, h) for m, _, h in lure])
        td_idx = SyncedIndex(self.db.media_dir / "takedown").open(
            [(int(r.id), str(r.pdq)) for r in td_rows]
        )
        refs = self.db.reports.refs(sorted(set(lure_owner.values()))) if lure_owner else {}
        out: list[list[dict[str, Any]]] = []
        for lure_hits, td_hits in zip(
            lure_idx.search(pdqs, threshold), td_idx.search(pdqs, threshold), strict=True
        ):
            found: list[dict[str, Any]] = [
                {"kind": "lure", "distance": d, "report": refs[lure_owner[i]].to_dict()}
                for i, d in lure_hits
                if i in lure_owner
            ]
            found += [
                {
                    "kind": "takedown",
                    "distance": d,
                    "reference": live_td[i][0],
                    "status": live_td[i][1],
                }
                for i, d in td_hits
                if i in live_td
            ]
            out.append(sorted(found, key=lambda f: f["distance"]))
        return out
