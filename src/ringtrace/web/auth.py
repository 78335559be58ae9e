"""Authentication for the console and the API: password (+TOTP) login into a server-side
session, or an API token (``Authorization: Bearer rt_...``). Every analyst page and API route
calls :func:`require`; the public report page does not."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ringtrace.access.policy import Principal
from ringtrace.access.sharing import Sharing
from ringtrace.errors import AuthError, Forbidden
from ringtrace.web.dependencies import store as _store
from ringtrace.web.throttle import LoginThrottle

COOKIE = "rt_session"
router = APIRouter(include_in_schema=False)


DEVICE_COOKIE = "rt_device"


def principal(request: Request) -> Principal | None:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("authorization", "")
    who: Principal | None = None
    if header.lower().startswith("bearer "):
        who = _store(request).accounts.principal_for(token=header[7:].strip())
        if who is None:
            raise AuthError("the API token is not valid")
    elif request.cookies.get(COOKIE):
        who = _store(request).accounts.principal_for(session=request.cookies[COOKIE])
    request.state.principal = who
    return who


def require(request: Request, permission: str) -> Principal:
    """The caller, who must be logged in and allowed ``permission``. A cookie-authenticated
    request that changes something must also carry the session's CSRF token."""
    who = principal(request)
    if who is None:
        raise AuthError("log in first")
    if not who.can(permission):
        raise Forbidden(f"your role ({who.role}) may not do this")
    if request.method not in ("GET", "HEAD", "OPTIONS") and who.via == "session":
        sent = request.headers.get("x-csrf-token") or getattr(request.state, "csrf_form", None)
        if not sent or not who.csrf_token or not secrets.compare_digest(sent, who.csrf_token):
            raise Forbidden("missing or wrong CSRF token")
    return who


def sharing(request: Request, who: Principal) -> Sharing:
    cached = getattr(request.state, "sharing", None)
    if cached is None:
        cached = Sharing(_store(request), who)
        request.state.sharing = cached
    return cached


def _safe_next(target: str | None) -> str:
    if not target:
        return "/console/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/console/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "login.html", {"next": _safe_next(next), "error": None}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    settings = request.app.state.settings
    throttle: LoginThrottle = request.app.state.login_throttle
    source = request.app.state.client_address(request)
    device = request.cookies.get(DEVICE_COOKIE)
    templates = request.app.state.templates
    wait = throttle.wait_s(username, source, second_factor=bool(code.strip()), device=device)
    if wait > 0:
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "login.html",
            {"next": _safe_next(next),
             "error": f"Too many attempts. Try again in {max(1, round(wait))} seconds."},
            status_code=429, headers={"Retry-After": str(max(1, round(wait)))},
        )  # fmt: skip
    try:
        _, token = _store(request).accounts.login(
            username, password, code or None, settings.session_hours
        )
    except AuthError:
        throttle.failed(username, source)
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "login.html",
            {"next": _safe_next(next), "error": "Wrong username, password or code."},
            status_code=401,
        )  # fmt: skip
    # A fresh session id at every login (no fixation); the old cookie, if any, is ended.
    old = request.cookies.get(COOKIE)
    if old:
        _store(request).accounts.logout(old)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(
        COOKIE, token, httponly=True, secure=settings.secure_cookies, samesite="strict",
        max_age=int(settings.session_hours * 3600), path="/",
    )  # fmt: skip
    resp.set_cookie(
        DEVICE_COOKIE, throttle.succeeded(username, source), httponly=True,
        secure=settings.secure_cookies, samesite="strict", max_age=90 * 24 * 3600, path="/login",
    )  # fmt: skip
    return resp


@router.post("/logout")
def logout(request: Request) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        _store(request).accounts.logout(token)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp
