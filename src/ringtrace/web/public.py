"""The public side at the site root: guidance first, then a report in steps, a receipt with a
follow-up code, and a status page to add evidence or withdraw. In four languages; usable
without JavaScript (except for hashing images on the device); no request leaves this site.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from ringtrace.domain.models import ReportRef
from ringtrace.errors import InvalidReport
from ringtrace.ingest import ingest
from ringtrace.intake.received import receive
from ringtrace.store import Store
from ringtrace.store.apk import brings_apk
from ringtrace.triage.urgency import self_harm_phrases
from ringtrace.web import i18n

router = APIRouter(include_in_schema=False)

SOURCE = "web"
CSRF_COOKIE = "rt_form"
COUNTRIES = [
    ("", "Prefer not to say"),
    ("HK", "Hong Kong"),
    ("SG", "Singapore"),
    ("MY", "Malaysia"),
    ("IN", "India"),
    ("KR", "Korea"),
    ("TW", "Taiwan"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
]
METHODS = [
    ("crypto", "Cryptocurrency"),
    ("bank_transfer", "Bank transfer"),
    ("giftcard", "Gift card"),
    ("paypal", "PayPal"),
    ("cashapp", "Cash App"),
    ("upi", "UPI"),
    ("paynow", "PayNow"),
    ("fps", "FPS"),
    ("money_transfer", "Money transfer (Western Union and similar)"),
    ("other", "Other"),
]
AGE_BANDS = ("under-18", "18-24", "25-34", "35-49", "50+")
# No third-party request can come from these pages: everything is served from here.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class PostLimiter:
    """At most ``limit`` form posts per client address in ``window_s`` (a surge or a script,
    not a person, hits it)."""

    def __init__(self, limit: int = 60, window_s: float = 600.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            q = self._seen[client]
            while q and q[0] < now - self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


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
    )
    context.setdefault("show_crisis", False)
    context.setdefault("error", None)
    resp: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    secure = request.app.state.settings.secure_cookies
    resp.set_cookie(CSRF_COOKIE, token, httponly=True, secure=secure, samesite="strict", path="/")
    if "lang" in request.query_params and request.query_params["lang"] in i18n.LANGUAGES:
        resp.set_cookie(
            i18n.COOKIE, lang, secure=secure, samesite="strict", path="/", max_age=365 * 86400
        )
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _begin(request: Request, lang: str | None = None) -> None:
    i18n.activate(lang if lang in i18n.LANGUAGES else i18n.negotiate(request))


def _guard(request: Request, csrf: str) -> Response | None:
    """CSRF (double submit: a SameSite=Strict cookie and the same value in the form) and the
    per-client post limit. Returns an error page, or None to go on."""
    _ = i18n.gettext_
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not csrf or not secrets.compare_digest(cookie, csrf):
        return _page(
            request, "index.html", 403, error=_("This form expired. Please send it again.")
        )
    client = request.app.state.client_address(request)  # X-Forwarded-For only from proxies
    if not request.app.state.post_limiter.allow(client):
        return _page(
            request, "index.html", 429, error=_("Please wait a minute before sending again.")
        )
    return None


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


def _money(
    kind: str, amount: str, currency: str, method: str, account: str
) -> dict[str, Any] | None:
    entry: dict[str, Any] = {"kind": kind}
    try:
        if amount.strip():
            entry["amount"] = float(Decimal(amount.strip().replace(",", "")))
    except InvalidOperation:
        entry["reference"] = amount.strip()[:100]
    if currency.strip():
        entry["currency"] = currency.strip().upper()[:3]
    if method:
        entry["method"] = method
    if account.strip():
        entry["account"] = account.strip()[:300]
    return entry if len(entry) > 1 else None


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    _begin(request)
    return _page(request, "index.html")


@router.post("/report", response_class=HTMLResponse)
async def submit(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "",
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
    stop = _guard(request, csrf)
    if stop is not None:
        return stop
    reporter: dict[str, Any] = {"language": i18n.current()}
    if country in {c for c, _n in COUNTRIES if c}:
        reporter["country"] = country
    if age_band in AGE_BANDS:
        reporter["age_band"] = age_band
    if contact.strip():
        reporter["contact"] = contact.strip()[:500]
    reporter["consent_contact"] = consent_contact == "1"
    reporter["consent_share"] = consent_share == "1"
    reporter["consent_status_linked"] = consent_linked == "1"
    idents = [
        {"type": "other", "value": ln.strip()} for ln in identifiers.splitlines() if ln.strip()
    ]
    if app_link.strip():
        idents.append({"type": "other", "value": app_link.strip()})
    payments = [
        p
        for p in (
            _money(
                "demanded",
                demanded,
                currency,
                method if method in dict(METHODS) else "",
                account if not paid.strip() else "",
            ),
            _money("paid", paid, currency, method if method in dict(METHODS) else "", account),
        )
        if p
    ]
    try:
        hashes = json.loads(media_hashes or "[]")
        if not isinstance(hashes, list):
            raise ValueError
        files = await _attachments(request, evidence or [])
    except ValueError:
        return _page(request, "index.html", 422, error=_("A file was not accepted:") + " media")
    except InvalidReport as e:
        return _page(
            request, "index.html", 422, error=f"{_('A file was not accepted:')} {e.message}"
        )
    doc: dict[str, Any] = {
        "format": "ringtrace.report/1",
        "external_id": "WEB-" + secrets.token_hex(6).upper(),
        "source": SOURCE,
        "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "reporter": reporter,
        "platform_first_contact": platform.strip()[:500] or None,
        "narrative": narrative.strip() or None,
        "messages": [{"from": "offender", "text": messages.strip()}] if messages.strip() else [],
        "offender_identifiers": idents,
        "payments": payments,
        "attachments": files,
        "media_hashes": hashes,
    }
    doc = {k: v for k, v in doc.items() if v not in (None, [])}
    try:
        received = receive(
            json.dumps(doc, ensure_ascii=False),
            max_attachment_bytes=request.app.state.settings.max_attachment_bytes,
        )
    except InvalidReport as e:
        return _page(request, "index.html", 422, error=f"{_('A file was not accepted:')} {e}")
    store = _store(request)
    result = ingest(store, received, "web-public")
    if brings_apk(received):
        request.app.state.jobs.kick()
    code = store.create_followup(result.report_id)
    media = store.media_for_report(result.report_id)
    crisis = age_band == "under-18" or bool(self_harm_phrases(narrative))
    return _page(
        request,
        "receipt.html",
        reference=doc["external_id"],
        code=code,
        takedown=media["takedown"],
        lure=media["lure"],
        files=len(files),
        show_crisis=crisis,
    )


def _status_context(store: Store, reference: str, rid: int) -> dict[str, Any]:
    detail = store.report(rid)
    reporter = detail.document.get("reporter") if isinstance(detail.document, dict) else None
    wants_linked = isinstance(reporter, dict) and reporter.get("consent_status_linked") is True
    s = detail.summary
    linked = None
    if wants_linked and not detail.withdrawn:
        members = (
            store.reports(cluster_id=s.cluster_id, limit=100_000) if s.cluster_size > 1 else []
        )
        linked = sum(
            1 for m in members if m.id != rid and not m.ref.external_id.startswith(f"{reference}-A")
        )
    return {
        "report": {
            "withdrawn": detail.withdrawn,
            "received": s.received_at.strftime("%Y-%m-%d"),
            "linked": linked,
            "additions": store.followup_additions(rid),
        }
    }


def _open(request: Request, reference: str, code: str, csrf: str) -> tuple[str, int] | Response:
    """The (reference, report id) a follow-up form is about, after the language, the CSRF
    check, the post limit and the code; or the page that refuses it."""
    _begin(request)
    stop = _guard(request, csrf)
    if stop is not None:
        return stop
    ref = reference.strip().upper()
    rid = _store(request).check_followup(ReportRef(SOURCE, ref), code)
    if rid is None:
        error = i18n.gettext_("The reference or code is not right.")
        return _page(request, "status.html", 403, report=None, error=error)
    return ref, rid


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request) -> Response:
    _begin(request)
    return _page(request, "status.html", report=None)


@router.post("/status", response_class=HTMLResponse)
def status_open(
    request: Request,
    reference: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    opened = _open(request, reference, code, csrf)
    if isinstance(opened, Response):
        return opened
    ref, rid = opened
    _ = i18n.gettext_
    return _page(
        request,
        "status.html",
        reference=ref,
        code=code.strip(),
        **_status_context(_store(request), ref, rid),
    )


@router.post("/status/add", response_class=HTMLResponse)
async def status_add(
    request: Request,
    reference: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    evidence: list[UploadFile] | None = None,
) -> Response:
    opened = _open(request, reference, code, csrf)
    if isinstance(opened, Response):
        return opened
    ref, rid = opened
    _ = i18n.gettext_
    store = _store(request)
    try:
        files = await _attachments(request, evidence or [])
    except InvalidReport as e:
        return _page(
            request,
            "status.html",
            422,
            reference=ref,
            code=code,
            error=f"{_('A file was not accepted:')} {e.message}",
            **_status_context(store, ref, rid),
        )
    if note.strip() or files:
        n = store.followup_additions(rid) + 1
        doc: dict[str, Any] = {
            "external_id": f"{ref}-A{n}",
            "source": SOURCE,
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
            return _page(
                request,
                "status.html",
                422,
                reference=ref,
                code=code,
                error=f"{_('A file was not accepted:')} {e}",
                **_status_context(store, ref, rid),
            )
        ingest(store, received, "web-public")
        if brings_apk(received):
            request.app.state.jobs.kick()
        # The addition belongs with the report it follows up (an audited merge).
        store.merge(
            ReportRef(SOURCE, ref),
            ReportRef(SOURCE, doc["external_id"]),
            reason="an addition sent by the reporter with the follow-up code",
            actor="web-public",
        )
        store.count_followup_addition(rid)
    return _page(
        request,
        "status.html",
        reference=ref,
        code=code.strip(),
        error=_("Your addition was received.")
        if note.strip() or files
        else _("Nothing was added: write a note or choose a file."),
        **_status_context(store, ref, rid),
    )


@router.post("/status/withdraw", response_class=HTMLResponse)
def status_withdraw(
    request: Request,
    reference: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    opened = _open(request, reference, code, csrf)
    if isinstance(opened, Response):
        return opened
    ref, rid = opened
    _ = i18n.gettext_
    store = _store(request)
    if confirm == "1":
        reason = "withdrawn by the reporter with the follow-up code"
        for n in range(1, store.followup_additions(rid) + 1):
            store.withdraw(ReportRef(SOURCE, f"{ref}-A{n}"), reason=reason, actor="web-public")
        store.withdraw(ReportRef(SOURCE, ref), reason=reason, actor="web-public")
    return _page(
        request, "status.html", reference=ref, code=code.strip(), **_status_context(store, ref, rid)
    )
