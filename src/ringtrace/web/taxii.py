"""A TAXII 2.1 server inside the web app (docs/sharing.md).

- Discovery at ``/taxii2/``, one API root at ``/taxii2/api/``.
- One collection per shareable TLP marking (CLEAR, GREEN, AMBER): a collection serves the STIX
  objects carrying that marking, as the calling agency may receive them (share/stix.py
  applies the partner rules). AMBER+STRICT and RED never leave through TAXII.
- ``objects`` supports ``added_after``, ``limit`` and ``next`` (pagination), with the
  ``X-TAXII-Date-Added-First/Last`` headers; the date an object was added is when the newest
  report it comes from was stored.
- Reading needs an API token of a user (``Authorization: Bearer``); writing needs the
  ``reports.write`` permission. Written reports belong to the writer's agency (its sharing
  rules, its readers): a report whose source is another is kept with the writer's agency
  as its source and ``<source>/<external_id>`` as its reference, so it stays unique and
  says where it came from.
"""

from __future__ import annotations

import functools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ringtrace.errors import BadRequest, NotFound, RingtraceError
from ringtrace.intake import jsontext
from ringtrace.share import stix
from ringtrace.web.auth import require

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
LEVELS = ("clear", "green", "amber")
router = APIRouter(prefix="/taxii2", include_in_schema=False)


def collection_id(level: str) -> str:
    return str(uuid.uuid5(stix.NAMESPACE, f"collection:tlp-{level}"))


_BY_ID = {collection_id(level): level for level in LEVELS}
_BEFORE_ANY = datetime(2000, 1, 1, tzinfo=UTC)


def _json(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=TAXII, headers=headers)


def _collection(level: str, can_write: bool) -> dict[str, Any]:
    return {
        "id": collection_id(level),
        "title": f"ringtrace TLP:{level.upper()}",
        "description": f"Objects marked TLP:{level.upper()} that your agency may receive.",
        "can_read": True,
        "can_write": can_write,
        "media_types": [STIX],
    }


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@router.get("/")
def discovery(request: Request) -> JSONResponse:
    require(request, "reports.read")
    base = str(request.base_url).rstrip("/")
    return _json(
        {
            "title": "ringtrace",
            "description": "Sextortion rings, shared with partners.",
            "default": f"{base}/taxii2/api/",
            "api_roots": [f"{base}/taxii2/api/"],
        }
    )


@router.get("/api/")
def api_root(request: Request) -> JSONResponse:
    require(request, "reports.read")
    return _json(
        {
            "title": "ringtrace",
            "versions": [TAXII],
            "max_content_length": request.app.state.settings.max_report_bytes,
        }
    )


@router.get("/api/collections/")
def collections(request: Request) -> JSONResponse:
    who = require(request, "reports.read")
    return _json(
        {"collections": [_collection(level, who.can("reports.write")) for level in LEVELS]}
    )


@router.get("/api/collections/{cid}/")
def collection(request: Request, cid: str) -> JSONResponse:
    who = require(request, "reports.read")
    if cid not in _BY_ID:
        raise NotFound(f"no collection {cid}")
    return _json(_collection(_BY_ID[cid], who.can("reports.write")))


def _objects_for(
    request: Request, level: str, agency: str
) -> list[tuple[datetime, dict[str, Any]]]:
    store = request.app.state.store
    ex = stix.Exporter(store, agency=agency)
    for cid, _ in store.clusters.ids():
        ex.add_cluster(cid)
    for r in store.reports.page(limit=10_000_000):
        ex.add_report(r.id)
    added = store.reports.ingested_times()
    out = []
    bundle_objects = {o["id"]: o for o in ex.bundle()["objects"]}
    marking = stix.TLP_IDS[level]
    for oid, obj in bundle_objects.items():
        refs = obj.get("object_marking_refs") or []
        if refs and refs[0] != marking:
            continue
        if not refs and oid != marking:
            continue  # identities and extension definitions travel with the objects below
        out.append((added.get(ex.added.get(oid, 0), _BEFORE_ANY), obj))
    shared = [
        o for o in bundle_objects.values() if o["type"] in ("identity", "extension-definition")
    ]
    if out:
        first = min(t for t, _ in out)
        out += [(first, o) for o in shared]
    out.sort(key=lambda t: (t[0], t[1]["id"]))
    return out


@router.get("/api/collections/{cid}/objects/")
async def get_objects(
    request: Request,
    cid: str,
    added_after: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    next: str | None = None,
) -> JSONResponse:
    who = await run_in_threadpool(require, request, "reports.read")
    if cid not in _BY_ID:
        raise NotFound(f"no collection {cid}")
    items = await run_in_threadpool(_objects_for, request, _BY_ID[cid], who.agency)
    if added_after:
        try:
            after = datetime.fromisoformat(added_after.replace("Z", "+00:00"))
        except ValueError as e:
            raise BadRequest("added_after must be a timestamp (RFC 3339)") from e
        if after.tzinfo is None:
            after = after.replace(tzinfo=UTC)
        items = [i for i in items if i[0] > after]
    start = int(next) if next and next.isdigit() else 0
    page = items[start : start + limit]
    more = start + limit < len(items)
    body: dict[str, Any] = {"more": more, "objects": [o for _, o in page]}
    if more:
        body["next"] = str(start + limit)
    headers = {}
    if page:
        headers = {
            "X-TAXII-Date-Added-First": _ts(page[0][0]),
            "X-TAXII-Date-Added-Last": _ts(page[-1][0]),
        }
    return _json(body, headers=headers)


@router.post("/api/collections/{cid}/objects/")
async def add_objects(request: Request, cid: str) -> JSONResponse:
    who = await run_in_threadpool(require, request, "reports.write")
    if cid not in _BY_ID:
        raise NotFound(f"no collection {cid}")
    envelope = jsontext.loads(await request.body())
    objects = envelope.get("objects", []) if isinstance(envelope, dict) else None
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise BadRequest("a TAXII envelope is a JSON object whose objects are a list of objects")
    bundle = {"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objects}
    try:
        docs = stix.to_reports(bundle, default_source=who.agency)
    except RingtraceError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        # A STIX object missing what its type requires: the client's mistake, not ours.
        raise BadRequest(f"the objects are not valid STIX 2.1 ({type(e).__name__})") from e
    for d in docs:
        if d["source"] != who.agency:  # the writer's report, never the home agency's
            d["external_id"] = f"{d['source']}/{d['external_id']}"[:200]
            d["source"] = who.agency
    from ringtrace.services.intake import import_lines

    summary = await run_in_threadpool(
        functools.partial(import_lines, actor=who.actor),  # the API user, not the OS user
        request.app.state.store,
        [json.dumps(d) for d in docs],
    )
    ok = summary.created + summary.duplicates
    return _json(
        {
            "id": str(uuid.uuid4()),
            "status": "complete",
            "request_timestamp": _ts(datetime.now(UTC)),
            "total_count": len(docs),
            "success_count": ok,
            "failure_count": len(docs) - ok,
            "pending_count": 0,
        },
        status=202,
    )
