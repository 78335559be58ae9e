"""The public side at the site root: guidance first, then a report in steps, a receipt with a
follow-up code, and a status page to add evidence or withdraw. In four languages; usable
without JavaScript (except for hashing images on the device); no request leaves this site.

Every form post answers 303 to a page that can be reloaded, switched to another language or
reached with Back without sending anything again (Post/Redirect/Get). What those pages need
between requests (the reference and the follow-up code) travels in a cookie sealed with the
instance's key ring, HttpOnly and SameSite=Strict, and is never logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ringtrace.access.routing import Routing
from ringtrace.domain.models import ReportRef
from ringtrace.errors import Conflict, InvalidReport, NotFound, RingtraceError
from ringtrace.intake.public_form import (
    COUNTRIES,
    MAX_FINGERPRINTS,
    METHODS,
    PublicForm,
    parse_fingerprints,
)
from ringtrace.intake.received import Received, receive
from ringtrace.jobs import APK_ANALYSES
from ringtrace.services import erasure, followups, notifications
from ringtrace.services.intake import ingest
from ringtrace.store import Store
from ringtrace.store.apk import brings_apk
from ringtrace.triage import crisis_lines
from ringtrace.triage.urgency import assess, phrases
from ringtrace.web import i18n
from ringtrace.web.dependencies import store as _store

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

SOURCE = "web"  # the source of public reports before routing (still opened by their codes)
CSRF_COOKIE = "rt_form"
RECEIPT_COOKIE = "rt_receipt"
STATUS_COOKIE = "rt_status"
COOKIE_HOURS = 24
# No third-party request can come from these pages: everything is served from here.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
# Paths that are not the public site: their errors keep the console's or the API's form.
_NOT_PUBLIC = ("/console", "/api", "/taxii2", "/login", "/logout", "/healthz", "/readyz",
               "/openapi.json")  # fmt: skip


class _OnePerForm:
    """One submit at a time per form (a double click, a retry): the second waits, then finds
    the first. An asyncio lock, since the posts of one process share its event loop (a
    thread lock held across an ``await`` would stop the loop). Across worker processes the
    database's unique (source, external_id) is the guard, and the loser shows the receipt."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._locks.pop(key, None)


_SUBMITTING = _OnePerForm()


def _secure(request: Request) -> bool:
    return bool(request.app.state.settings.secure_cookies)


def _page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    lang = i18n.current()
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    context.update(
        lang=lang,
        html_lang=i18n.html_lang(lang),
        csrf=token,
        languages=list(i18n.LANGUAGES.items()),
        countries=COUNTRIES,
        methods=METHODS,
        max_fingerprints=MAX_FINGERPRINTS,
    )
    context.setdefault("show_crisis", False)
    context.setdefault("crisis_country", "")
    context.setdefault("error", None)
    context.setdefault("notice", None)
    context["crisis_phrases"] = "|".join(
        p for words in phrases()["self_harm"].values() for p in words
    )
    context["crisis_lines"] = {c: crisis_lines.for_country(c) for c in crisis_lines.countries()}
    context["crisis_fallback"] = crisis_lines.data()["fallback"]
    resp: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    resp.set_cookie(CSRF_COOKIE, token, httponly=True, secure=_secure(request),
                    samesite="strict", path="/")  # fmt: skip
    if "lang" in request.query_params and request.query_params["lang"] in i18n.LANGUAGES:
        resp.set_cookie(i18n.COOKIE, lang, secure=_secure(request), samesite="strict", path="/",
                        max_age=365 * 86400)  # fmt: skip
    return _harden(resp)


def _harden(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _see(path: str) -> Response:
    return _harden(RedirectResponse(path, status_code=303))


def _begin(request: Request, lang: str | None = None) -> None:
    i18n.activate(lang if lang in i18n.LANGUAGES else i18n.negotiate(request))


# -- sealed cookies: what a page needs between requests ---------------------------------------


def _seal(request: Request, name: str, value: dict[str, Any]) -> str:
    value = {**value, "exp": int(time.time()) + COOKIE_HOURS * 3600}
    aad = f"ringtrace:public:{name}".encode()
    sealed = _store(request).keys().seal(json.dumps(value).encode(), aad)
    return base64.urlsafe_b64encode(sealed).decode()


def _unseal(request: Request, name: str) -> dict[str, Any] | None:
    raw = request.cookies.get(name)
    if not raw:
        return None
    try:
        sealed = base64.urlsafe_b64decode(raw.encode())
        data = _store(request).keys().open(sealed, f"ringtrace:public:{name}".encode(),
                                           what="a public page cookie")  # fmt: skip
        value: dict[str, Any] = json.loads(data)
    except (RingtraceError, ValueError, IndexError):
        return None  # tampered, or sealed under a retired key: as if there were none
    if not isinstance(value, dict) or int(value.get("exp", 0)) < time.time():
        return None
    return value


def _set_sealed(request: Request, resp: Response, name: str, value: dict[str, Any]) -> None:
    resp.set_cookie(name, _seal(request, name, value), httponly=True, secure=_secure(request),
                    samesite="strict", path="/")  # fmt: skip


# -- guards -------------------------------------------------------------------------------


def _guard(request: Request, csrf: str) -> Response | None:
    """CSRF (double submit: a SameSite=Strict cookie and the same value in the form) and the
    per-client post limit. Returns an error page, or None to go on."""
    _ = i18n.gettext_
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not csrf or not secrets.compare_digest(cookie, csrf):
        return _page(
            request, "index.html", 403, error=_("This form expired. Please send it again."),
            submission=_submission(),
        )  # fmt: skip
    client = request.app.state.client_address(request)  # X-Forwarded-For only from proxies
    if not request.app.state.post_limiter.allow(client):
        return _page(
            request, "index.html", 429, error=_("Please wait a minute before sending again."),
            submission=_submission(),
        )  # fmt: skip
    return None


def _submission() -> str:
    """A fresh token for one filling of the report form: the same token twice is one report."""
    return secrets.token_urlsafe(18)


# -- what the form sent ----------------------------------------------------------------------


async def _attachments(request: Request, files: list[UploadFile]) -> list[dict[str, Any]]:
    limit = request.app.state.settings.max_attachment_bytes
    out = []
    for f in files:
        if not f.filename:
            continue
        data = await f.read(limit + 1)
        if len(data) > limit:
            raise InvalidReport(f"{f.filename}: larger than {limit // 2**20} MiB")
        out.append(
            {"filename": f.filename[:200], "content_base64": base64.b64encode(data).decode()}
        )
    return out


# -- routing ------------------------------------------------------------------------------


def routing(request: Request) -> Routing:
    s = request.app.state.settings
    return Routing(dict(s.public_routes), s.intake_agency)


def _route(request: Request, country: str) -> str:
    """The agency that receives this report (docs/access.md, "Where public reports go")."""
    store = _store(request)
    rules = routing(request)
    staffed = store.accounts.staffed_agencies()
    agency = rules.agency_for(country or None, staffed)
    if agency not in staffed:
        # Still stored (nothing acknowledged is lost), but an operator must act.
        log.error("a public report went to agency %s, which has no active user", agency)
    elif rules.routes.get(country) not in (None, agency):
        log.warning("a public report went to the intake agency: its country's agency has no "
                    "active user")  # fmt: skip
    if agency not in store.accounts.agency_codes():
        store.accounts.ensure_agency(agency)
    return agency


def _sources(request: Request) -> list[str]:
    """Where a public report may be stored: every routed agency, and the legacy source."""
    return sorted(routing(request).agencies() | {SOURCE, _store(request).home_agency})


def _find(request: Request, external_id: str) -> tuple[str, int] | None:
    store = _store(request)
    for source in _sources(request):
        try:
            return source, store.reports.id_of(ReportRef(source, external_id))
        except NotFound:
            continue
    return None


# -- pages ----------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    _begin(request)
    return _page(request, "index.html", submission=_submission())


@router.get("/report", response_class=HTMLResponse)
def report_get(request: Request) -> Response:
    """A reload of the form's address (or a link to it): the receipt when there is one."""
    return _see("/receipt" if _unseal(request, RECEIPT_COOKIE) else "/")


@router.post("/report", response_class=HTMLResponse)
async def submit(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "",
    submission: Annotated[str, Form()] = "",
    narrative: Annotated[str, Form()] = "",
    age_band: Annotated[str, Form()] = "",
    country: Annotated[str, Form()] = "",
    platform: Annotated[str, Form()] = "",
    identifiers: Annotated[str, Form()] = "",
    messages: Annotated[str, Form()] = "",
    demanded: Annotated[str, Form()] = "",
    paid: Annotated[str, Form()] = "",
    currency: Annotated[str, Form()] = "",
    method: Annotated[str, Form()] = "",
    account: Annotated[str, Form()] = "",
    app_link: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
    consent_contact: Annotated[str, Form()] = "",
    consent_share: Annotated[str, Form()] = "",
    consent_linked: Annotated[str, Form()] = "",
    media_hashes: Annotated[str, Form()] = "[]",
    evidence: list[UploadFile] | None = None,
) -> Response:
    _begin(request, lang)
    _ = i18n.gettext_
    if (stop := _guard(request, csrf)) is not None:
        return stop
    told = PublicForm(
        narrative, age_band, country if country in {c for c, _n in COUNTRIES if c} else "",
        platform, identifiers, messages, demanded, paid, currency, method, account, app_link,
        contact, consent_contact == "1", consent_share == "1", consent_linked == "1",
    )  # fmt: skip

    def refuse(message: str) -> Response:
        return _page(request, "index.html", 422, error=f"{_('A file was not accepted:')} {message}",
                     submission=submission or _submission())  # fmt: skip

    # The same form sent twice is one report: its id comes from the form's token.
    if re.fullmatch(r"[A-Za-z0-9_\-]{16,64}", submission or ""):
        external_id = "WEB-" + hashlib.sha256(submission.encode()).hexdigest()[:12].upper()
    else:
        external_id = "WEB-" + secrets.token_hex(6).upper()
    async with _SUBMITTING.hold(external_id):
        found = _find(request, external_id)
        if found is not None:
            return _again(request, *found, external_id)
        try:
            hashes = parse_fingerprints(media_hashes)
            files = await _attachments(request, evidence or [])
            agency = _route(request, told.country)
            doc = told.document(external_id, agency, files, hashes, i18n.current())
            received = receive(
                json.dumps(doc, ensure_ascii=False),
                max_attachment_bytes=request.app.state.settings.max_attachment_bytes,
            )
        except InvalidReport as e:
            return refuse(e.message)
        except ValueError:
            return refuse("media")
        try:
            return _file(request, received, agency, told)
        except Conflict:
            # Filed meanwhile by another worker process: that report's receipt.
            found = _find(request, external_id)
            if found is None:
                raise
            return _again(request, *found, external_id)


def _file(request: Request, received: Received, agency: str, told: PublicForm) -> Response:
    """Store the report, alert the agency when it is urgent, and redirect to its receipt."""
    store = _store(request)
    result = ingest(store, received, "web-public")
    if not result.created:  # the same document, stored meanwhile by another process
        return _again(request, agency, result.report_id, received.doc.external_id)
    if brings_apk(received):
        request.app.state.jobs.submit(APK_ANALYSES)
    code = store.followups.create(result.report_id)
    detail = store.reports.get(result.report_id)
    urgency = assess(detail.document, in_ring=False, received_at=detail.summary.received_at)
    if urgency.alert:
        notifications.alert_crisis(store, agency, result.report_id, detail.summary.cluster_id or 0)
    resp = _see("/receipt")
    _set_sealed(request, resp, RECEIPT_COOKIE, {
        "source": agency, "ref": received.doc.external_id, "code": code,
        "app": bool(told.app_link.strip()),
    })  # fmt: skip
    return resp


def _again(request: Request, source: str, rid: int, external_id: str) -> Response:
    """The same form sent again: its receipt, never a second report. The code is kept when
    this browser holds it; a new one replaces it only when the first never arrived."""
    held = _unseal(request, RECEIPT_COOKIE)
    resp = _see("/receipt")
    if held is not None and held.get("ref") == external_id:
        return resp
    code = _store(request).followups.create(rid, replace=True)
    _set_sealed(request, resp, RECEIPT_COOKIE,
                {"source": source, "ref": external_id, "code": code, "app": False})  # fmt: skip
    return resp


# What an Android permission lets an app take, in the words the receipt uses.
_TAKES: dict[str, str] = {
    "android.permission.READ_CONTACTS": "your contact list",
    "android.permission.READ_SMS": "your text messages",
    "android.permission.RECEIVE_SMS": "your text messages",
    "android.permission.READ_CALL_LOG": "your call history",
    "android.permission.READ_EXTERNAL_STORAGE": "your photos, videos and files",
    "android.permission.READ_MEDIA_IMAGES": "your photos, videos and files",
    "android.permission.READ_MEDIA_VIDEO": "your photos, videos and files",
    "android.permission.ACCESS_FINE_LOCATION": "where you are",
    "android.permission.ACCESS_COARSE_LOCATION": "where you are",
    "android.permission.RECORD_AUDIO": "your microphone",
    "android.permission.CAMERA": "your camera",
    "android.permission.BIND_ACCESSIBILITY_SERVICE": "what is on your screen",
    "android.permission.BIND_DEVICE_ADMIN": "control of your phone (harder to remove)",
}


def _app_takes(store: Store, report_ids: list[int]) -> list[str]:
    """What the apps sent with a report (and its additions) asked to take, once analysed:
    translated, in a stable order, each once."""
    _ = i18n.gettext_
    wanted: list[str] = []
    for rid in report_ids:
        for analysis in store.apk.analyses(rid):
            result = analysis.get("result") or {}
            for perm in result.get("permissions", []) if isinstance(result, dict) else []:
                what = _TAKES.get(str(perm.get("name")) if isinstance(perm, dict) else "")
                if what and what not in wanted:
                    wanted.append(what)
    order = list(dict.fromkeys(_TAKES.values()))
    return [_(w) for w in sorted(wanted, key=order.index)]


def _report_help(store: Store, rid: int) -> dict[str, Any]:
    """What a receipt or status page says about one report: crisis help, the app, the photos
    fingerprinted and the files received."""
    detail = store.reports.get(rid)
    doc = detail.document if isinstance(detail.document, dict) else {}
    reporter = doc.get("reporter") if isinstance(doc.get("reporter"), dict) else {}
    urgency = assess(doc, in_ring=False, received_at=detail.summary.received_at)
    files = [a for a in doc.get("attachments", []) if isinstance(a, dict)]
    app = any(str(a.get("filename", "")).lower().endswith(".apk") for a in files)
    ref = detail.summary.ref
    ids = [rid]
    for n in range(1, store.followups.additions(rid) + 1):
        try:
            ids.append(store.reports.id_of(ReportRef(ref.source, f"{ref.external_id}-A{n}")))
        except NotFound:
            continue
    takes = _app_takes(store, ids)
    return {
        "takes": takes,
        "crisis": urgency.crisis,
        "country": str(reporter.get("country") or "") if isinstance(reporter, dict) else "",
        "app": app or bool(takes),
        "files": len(files),
        "media": store.media.for_report(rid),
    }


@router.get("/receipt", response_class=HTMLResponse)
def receipt(request: Request) -> Response:
    _begin(request)
    held = _unseal(request, RECEIPT_COOKIE)
    found = _find(request, str(held["ref"])) if held else None
    if held is None or found is None:
        return _page(request, "receipt.html", reference=None)
    _source, rid = found
    about = _report_help(_store(request), rid)
    return _page(
        request,
        "receipt.html",
        reference=held["ref"],
        code=held.get("code"),
        takedown=about["media"]["takedown"],
        lure=about["media"]["lure"],
        files=about["files"],
        app=about["app"] or bool(held.get("app")),
        takes=about["takes"],
        show_crisis=about["crisis"],
        crisis_country=about["country"],
    )


@router.get("/receipt/code.txt")
def receipt_file(request: Request) -> Response:
    """The reference and code as a small text file to keep ("save as file")."""
    _begin(request)
    held = _unseal(request, RECEIPT_COOKIE)
    if held is None or not held.get("code"):
        return _see("/receipt")
    _ = i18n.gettext_
    text = "\n".join([
        _("Your reference:") + f" {held['ref']}",
        _("Your follow-up code:") + f" {held['code']}",
        _("Follow up on your report") + ": "
        + request.app.state.settings.public_url.rstrip("/") + "/status",
        "",
    ])  # fmt: skip
    resp = Response(text.encode("utf-8"), media_type="text/plain; charset=utf-8")
    resp.headers["Content-Disposition"] = 'attachment; filename="report-reference.txt"'
    return _harden(resp)


@router.post("/receipt/saved")
def receipt_saved(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    """The person says they saved the code: it is forgotten here, the reference stays."""
    _begin(request)
    if (stop := _guard(request, csrf)) is not None:
        return stop
    held = _unseal(request, RECEIPT_COOKIE)
    resp = _see("/receipt")
    if held is not None:
        _set_sealed(request, resp, RECEIPT_COOKIE, {**held, "code": None})
    return resp


# -- follow-up --------------------------------------------------------------------------------


def _stage(store: Store, source: str, reference: str, rid: int) -> dict[str, Any]:
    """Where the report stands, in the words the status page uses. Linked feedback is a yes,
    never a count, and only when it is corroborated: the report asked for it, a person at the
    receiving agency has reviewed it, and its ring holds another report of that agency (so
    the agency's to share). An offender filing their own number learns nothing automatic."""
    detail = store.reports.get(rid)
    triage = store.triage.status(rid)
    reporter = detail.document.get("reporter") if isinstance(detail.document, dict) else None
    wants_linked = isinstance(reporter, dict) and reporter.get("consent_status_linked") is True
    reviewed = triage in ("in_progress", "done", "referred")
    linked = False
    s = detail.summary
    if wants_linked and reviewed and not detail.withdrawn and s.cluster_size > 1:
        members = store.reports.page(cluster_id=s.cluster_id, limit=100_000)
        linked = any(
            m.id != rid
            and m.ref.source == source
            and not m.ref.external_id.startswith(f"{reference}-A")
            for m in members
        )
    return {
        "withdrawn": detail.withdrawn,
        "received": s.received_at.strftime("%Y-%m-%d"),
        "reviewed": reviewed,
        "referred": triage == "referred",
        "linked": linked,
        "wants_linked": wants_linked,
        "additions": store.followups.additions(rid),
    }


def _opened(request: Request) -> tuple[str, str, int, str] | None:
    """(source, reference, report id, code) of the report this browser opened, if any."""
    held = _unseal(request, STATUS_COOKIE)
    if held is None:
        return None
    source, ref, code = str(held["source"]), str(held["ref"]), str(held["code"])
    rid = _store(request).followups.check(ReportRef(source, ref), code)
    return (source, ref, rid, code) if rid is not None else None


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request, note: str = "") -> Response:
    _begin(request)
    _ = i18n.gettext_
    opened = _opened(request)
    if opened is None:
        return _page(request, "status.html", report=None)
    source, ref, rid, _code = opened
    store = _store(request)
    notices = {
        "added": _("Your addition was received."),
        "empty": _("Nothing was added: write a note or choose a file."),
        "fingerprint": _("That fingerprint was taken off the takedown list."),
    }
    about = _report_help(store, rid)
    return _page(
        request,
        "status.html",
        reference=ref,
        report=_stage(store, source, ref, rid),
        notice=notices.get(note),
        takedown=about["media"]["takedown"],
        app=about["app"],
        takes=about["takes"],
        show_crisis=about["crisis"],
        crisis_country=about["country"],
    )


@router.post("/status", response_class=HTMLResponse)
def status_open(
    request: Request,
    reference: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    _begin(request)
    if (stop := _guard(request, csrf)) is not None:
        return stop
    ref = reference.strip().upper()
    store = _store(request)
    for source in _sources(request):
        rid = store.followups.check(ReportRef(source, ref), code)
        if rid is not None:
            resp = _see("/status")
            _set_sealed(request, resp, STATUS_COOKIE,
                        {"source": source, "ref": ref, "code": code.strip().upper()})  # fmt: skip
            return resp
    error = i18n.gettext_("The reference or code is not right.")
    return _page(request, "status.html", 403, report=None, error=error)


def _opened_for_post(request: Request, csrf: str) -> tuple[str, str, int, str] | Response:
    _begin(request)
    if (stop := _guard(request, csrf)) is not None:
        return stop
    opened = _opened(request)
    if opened is None:
        return _see("/status")
    return opened


@router.post("/status/close")
def status_close(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    """Close the report on this device (the reference and code are needed to open it again)."""
    _begin(request)
    if (stop := _guard(request, csrf)) is not None:
        return stop
    resp = _see("/status")
    resp.delete_cookie(STATUS_COOKIE, path="/")
    return resp


@router.post("/status/add", response_class=HTMLResponse)
async def status_add(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    evidence: list[UploadFile] | None = None,
) -> Response:
    opened = _opened_for_post(request, csrf)
    if isinstance(opened, Response):
        return opened
    source, ref, rid, _code = opened
    _ = i18n.gettext_
    store = _store(request)

    def refuse(message: str) -> Response:
        about = _report_help(store, rid)
        return _page(request, "status.html", 422, reference=ref, app=about["app"],
                     error=f"{_('A file was not accepted:')} {message}",
                     report=_stage(store, source, ref, rid))  # fmt: skip

    try:
        files = await _attachments(request, evidence or [])
    except InvalidReport as e:
        return refuse(e.message)
    if not (note.strip() or files):
        return _see("/status?note=empty")
    n = store.followups.additions(rid) + 1
    doc: dict[str, Any] = {
        "external_id": followups.addition_ref(ReportRef(source, ref), n).external_id,
        "source": source,
        "follows_up": ref,
        "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "reporter": {"language": i18n.current()},
    }
    if note.strip():
        doc["narrative"] = note.strip()
    if files:
        doc["attachments"] = files
    try:
        received = receive(
            json.dumps(doc, ensure_ascii=False),
            max_attachment_bytes=request.app.state.settings.max_attachment_bytes,
        )
    except InvalidReport as e:
        return refuse(str(e))
    followups.add(store, ReportRef(source, ref), rid, received, "web-public")
    if brings_apk(received):
        request.app.state.jobs.submit(APK_ANALYSES)
    return _see("/status?note=added")


@router.post("/status/fingerprint")
def status_fingerprint(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    takedown: Annotated[str, Form()] = "",
) -> Response:
    """Take one of the reporter's own image fingerprints off the takedown list (final)."""
    opened = _opened_for_post(request, csrf)
    if isinstance(opened, Response):
        return opened
    _source, _ref, rid, _code = opened
    store = _store(request)
    mine = {t["reference"]: t["status"] for t in store.media.for_report(rid)["takedown"]}
    if mine.get(takedown) not in (None, "withdrawn"):
        why = "taken off by the reporter with the follow-up code"
        store.media.set_takedown_status(takedown, "withdrawn", actor="web-public", reason=why)
        return _see("/status?note=fingerprint")
    return _see("/status")


@router.post("/status/withdraw", response_class=HTMLResponse)
def status_withdraw(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    opened = _opened_for_post(request, csrf)
    if isinstance(opened, Response):
        return opened
    source, ref, rid, _code = opened
    store = _store(request)
    if confirm == "1":
        reason = "withdrawn by the reporter with the follow-up code"
        for n in range(1, store.followups.additions(rid) + 1):
            addition = followups.addition_ref(ReportRef(source, ref), n)
            erasure.withdraw(store, addition, reason=reason, actor="web-public")
        erasure.withdraw(store, ReportRef(source, ref), reason=reason, actor="web-public")
    return _see("/status")


@router.post("/exit")
def exit_page(request: Request) -> Response:
    """Sent by the exit button as it leaves (a beacon): forget the receipt and the opened
    report on this device, so the next person on it does not find them. Nothing else; it
    needs no token, as forgetting is all it can do."""
    resp = Response(status_code=204)
    resp.delete_cookie(RECEIPT_COOKIE, path="/")
    resp.delete_cookie(STATUS_COOKIE, path="/")
    return _harden(resp)


# -- errors ---------------------------------------------------------------------------------


def is_public(path: str) -> bool:
    return not path.startswith(_NOT_PUBLIC)


def error_page(request: Request, status: int) -> Response:
    """A calm, translated error page for the public site, with the quick exit and a way back.
    It says what to do, never what went wrong inside."""
    _begin(request)
    _ = i18n.gettext_
    messages = {
        404: _("There is no page at this address."),
        405: _("This page cannot be opened this way. Nothing was sent twice."),
        413: _("What you sent is too large. Try fewer or smaller files."),
        422: _("Something in the form could not be read. Please check it and send it again."),
        429: _("Please wait a minute before sending again."),
        503: _("The service is busy. Nothing was stored; please try again in a minute."),
    }
    message = messages.get(
        status, _("Something went wrong on our side. Please try again in a minute.")
    )
    return _page(request, "public_error.html", status, error_status=status, message=message)
