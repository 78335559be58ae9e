"""The public side at the site root: guidance first, then a short report form."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ringtrace.errors import InvalidReport
from ringtrace.ingest import ingest
from ringtrace.intake.received import receive

router = APIRouter(include_in_schema=False)

COUNTRIES = [("", "Prefer not to say"), ("HK", "Hong Kong"), ("SG", "Singapore"),
             ("MY", "Malaysia"), ("IN", "India"), ("KR", "Korea"), ("TW", "Taiwan"),
             ("GB", "United Kingdom"), ("US", "United States")]  # fmt: skip


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "index.html", {"countries": COUNTRIES, "error": None}
    )


@router.post("/report", response_class=HTMLResponse)
def submit(
    request: Request,
    narrative: Annotated[str, Form()] = "",
    identifiers: Annotated[str, Form()] = "",
    country: Annotated[str, Form()] = "",
    media_hashes: Annotated[str, Form()] = "[]",
) -> Response:
    templates = request.app.state.templates
    doc: dict[str, Any] = {
        "format": "ringtrace.report/1",
        "external_id": "WEB-" + secrets.token_hex(6).upper(),
        "source": "web",
        "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "narrative": narrative.strip() or None,
        "offender_identifiers": [
            {"type": "other", "value": line.strip()}
            for line in identifiers.splitlines()
            if line.strip()
        ],
    }
    if country:
        doc["reporter"] = {"country": country}
    try:
        hashes = json.loads(media_hashes or "[]")
    except ValueError:
        hashes = None
    if not isinstance(hashes, list):
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "index.html",
            {"countries": COUNTRIES, "error": "the image fingerprints could not be read"},
            status_code=422,
        )  # fmt: skip
    doc["media_hashes"] = hashes
    doc = {k: v for k, v in doc.items() if v not in (None, [])}
    try:
        received = receive(json.dumps(doc, ensure_ascii=False))
    except InvalidReport as e:
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "index.html", {"countries": COUNTRIES, "error": str(e)}, status_code=422
        )
    store = request.app.state.store
    result = ingest(store, received, "web-public")
    media = store.media_for_report(result.report_id)
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "receipt.html",
        {"reference": doc["external_id"], "takedown": media["takedown"], "lure": media["lure"]},
    )  # fmt: skip
