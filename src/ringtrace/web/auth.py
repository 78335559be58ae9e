"""Authentication for the console and the API: password (+TOTP) login into a server-side
session, or an API token (``Authorization: Bearer rt_...``). Every analyst page and API route
calls :func:`require`; the public report page does not."""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ringtrace.access.policy import Principal
from ringtrace.access.sharing import Sharing
from ringtrace.errors import AuthError, Forbidden
from ringtrace.web.dependencies import store as _store

COOKIE = "rt_session"
router = APIRouter(include_in_schema=False)


class LoginThrottle:
    """Slows password guessing without locking the real user out.

    Failures are counted per (username, source), per source and per username, over
    ``window_s``. Past each limit, every further attempt waits twice as long as the one before
    (1 s, 2 s, 4 s ... up to ``max_delay_s``) after the last failure:

    - the (username, source) pair and the source alone always wait: one address guessing one
      account, or spraying many accounts;
    - the username alone (guesses from many addresses) makes only password-only attempts wait.
      An attempt that carries a second factor, or comes from a browser that has logged in as
      this user before (a device cookie from an earlier success), still goes through, so an
      attacker cannot keep the real user out from somewhere else.
    """

    def __init__(
        self,
        pair_limit: int = 5,
        source_limit: int = 20,
        user_limit: int = 20,
        window_s: float = 900.0,
        max_delay_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"pair": pair_limit, "source": source_limit, "user": user_limit}
        self.clock = clock
        self.window_s, self.max_delay_s = window_s, max_delay_s
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._devices: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=20))
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and q[0] < now - self.window_s:
            q.popleft()
        return q

    def _wait(self, key: str, limit: int, now: float) -> float:
        q = self._recent(key, now)
        if len(q) < limit:
            return 0.0
        delay = min(self.max_delay_s, 2.0 ** (len(q) - limit))
        return max(0.0, q[-1] + delay - now)

    @staticmethod
    def _keys(user: str, source: str) -> dict[str, str]:
        user = user.strip().casefold()
        return {"pair": f"pair:{user}|{source}", "source": f"ip:{source}", "user": f"user:{user}"}

    def wait_s(
        self, user: str, source: str, *, second_factor: bool = False, device: str | None = None
    ) -> float:
        """Seconds before this attempt may be tried (0: go on)."""
        now = self.clock()
        keys = self._keys(user, source)
        with self._lock:
            waits = [self._wait(keys[k], self.limits[k], now) for k in ("pair", "source")]
            trusted = second_factor or (
                device is not None and device in self._devices[keys["user"]]
            )
            if not trusted:
                waits.append(self._wait(keys["user"], self.limits["user"], now))
        return max(waits)

    def failed(self, user: str, source: str) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(user, source).values():
                self._recent(key, now).append(now)

    def succeeded(self, user: str, source: str) -> str:
        """Forget this pair's failures; a device token for the browser's cookie."""
        keys = self._keys(user, source)
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._fails.pop(keys["pair"], None)
            self._devices[keys["user"]].append(token)
        return token


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
