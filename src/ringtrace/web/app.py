"""``create_app(settings)``: the whole web application, built from one settings object."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from ringtrace import __version__
from ringtrace.errors import AuthError, RingtraceError
from ringtrace.intake.schema import ReportDocument
from ringtrace.jobs import runner_for
from ringtrace.services import intake
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.web import api, auth, casework, console, i18n, public, report_view, taxii, workbench
from ringtrace.web import ring as ring_view
from ringtrace.web.limits import SMALL_BODY, BodyLimit, ClientAddress
from ringtrace.web.throttle import LoginThrottle, PostLimiter, rate_limit_storage

log = logging.getLogger(__name__)
access = logging.getLogger("ringtrace.access")


# Console pages: our own scripts and styles only; data is not executed.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/taxii2")) or request.url.path in (
        "/healthz",
        "/openapi.json",
    )


def _error(
    request: Request, status: int, code: str, message: str, extra: dict[str, Any] | None = None
) -> Response:
    if _wants_json(request):
        body: dict[str, Any] = {"code": code, "message": message, **(extra or {})}
        return JSONResponse({"error": body}, status_code=status)
    if public.is_public(request.url.path):
        return public.error_page(request, status)  # translated, with the quick exit
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )


class SecurityHeaders:
    """Security headers on every answer, and one structured log line per request (route
    template, status, duration; ringtrace/logs.py). Plain ASGI: Starlette's
    BaseHTTPMiddleware costs a task and a stream per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                h = MutableHeaders(scope=message)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("X-Frame-Options", "DENY")
                h.setdefault("Referrer-Policy", "no-referrer")
                h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                if h.get("content-type", "").startswith("text/html"):
                    h.setdefault("Content-Security-Policy", CONSOLE_CSP)
                if scope["path"].startswith(("/console", "/api", "/taxii2", "/login")):
                    h.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            # The route's template, never the raw path or query (they can hold references).
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            access.info("%s %s %s", scope["method"], route, status,
                        extra={"event": "request", "method": scope["method"], "route": route,
                               "status": status,
                               "ms": round((time.perf_counter() - started) * 1000, 1)})  # fmt: skip


def create_app(settings: Settings) -> FastAPI:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.jobs.start()
        try:
            yield
        finally:
            app.state.jobs.stop()
            app.state.store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="ringtrace",
        version=__version__,
        description="Reports of sextortion in, explained clusters out.",
        # FastAPI's interactive docs load their scripts from a CDN: not on this site.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.store = Store.open(settings)
    # Background jobs: through Redis to `ringtrace worker` processes, or on a thread here.
    app.state.jobs = runner_for(settings, app.state.store)
    # Rate limits count in Redis when configured, so several processes share them.
    app.state.rate_limits = rate_limit_storage(settings)
    app.state.login_throttle = LoginThrottle(app.state.rate_limits)
    templates_dir = resources.files("ringtrace.web").joinpath("templates")
    app.state.templates = Jinja2Templates(directory=str(templates_dir))
    i18n.install(app.state.templates.env)
    app.state.templates.env.filters["keyurl"] = ring_view.key_href
    app.state.templates.env.filters["fromjson"] = json.loads
    app.state.templates.env.filters["where"] = report_view.field_words
    app.state.post_limiter = PostLimiter(storage=app.state.rate_limits)
    app.state.client_address = ClientAddress(settings.trusted_proxy_list)
    app.mount(
        "/static",
        StaticFiles(directory=str(resources.files("ringtrace.web").joinpath("static"))),
        name="static",
    )

    @app.exception_handler(RingtraceError)
    async def _ringtrace_error(request: Request, exc: RingtraceError) -> Response:
        if isinstance(exc, AuthError) and not _wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        d = exc.to_dict()
        extra = {k: v for k, v in d.items() if k not in ("code", "message")}
        return _error(request, exc.http_status, exc.code, str(d["message"]), extra)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(request, 422, "invalid_request", f"{where}: {first.get('msg')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> Response:
        # The database went away (a restart, a failover): nothing was stored, try again.
        # Logged by type only: the driver's message repeats the values it failed on.
        if not (exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)):
            return await _unexpected(request, exc)
        log.warning("database unavailable (%s) on %s", type(exc.orig).__name__, request.method)
        message = "the database is unavailable; nothing was stored, please retry"
        response = _error(request, 503, "store_unavailable", message)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Never a stack trace to the user; the log gets the type and route, not the data.
        # The route's template, never the raw path: a path can carry a reference or a name.
        route = getattr(request.scope.get("route"), "path", None) or "(unmatched)"
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, route,
                  exc_info=exc)  # fmt: skip
        return _error(request, 500, "internal", "internal error; the request was not completed")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        """Readiness: the database answers at the current schema and the vault is writable."""
        problems = []
        try:
            app.state.store.ensure_ready()
        except RingtraceError as e:
            problems.append(e.code)
        vault = settings.vault_dir
        if not (vault.is_dir() and os.access(vault, os.W_OK)):
            problems.append("vault_not_writable")
        body = {"status": "ready" if not problems else "not_ready", "problems": problems}
        return JSONResponse(body, status_code=200 if not problems else 503)

    def body_limit(path: str) -> int:
        # Reports (JSON with attachments, TAXII envelopes, the public form's files) may be as
        # large as a report; every other form is small.
        if path in ("/api/reports", "/report", "/status/add") or path.startswith("/taxii2/"):
            return settings.max_report_bytes
        return SMALL_BODY

    # Added first, so it runs inside SecurityHeaders: a 413 gets the headers and a log line.
    app.add_middleware(BodyLimit, limit_for=body_limit)
    app.add_middleware(SecurityHeaders)

    app.include_router(auth.router)
    app.include_router(taxii.router)
    app.include_router(api.router)
    app.include_router(console.router)
    app.include_router(workbench.router)
    app.include_router(casework.router)
    app.include_router(public.router)

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes)  # fmt: skip
        report_schema = ReportDocument.model_json_schema(
            by_alias=True, ref_template="#/components/schemas/{model}"
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(report_schema.pop("$defs", {}))
        components["ReportDocument"] = report_schema
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    return app


def from_environment() -> FastAPI:
    """The app for a worker process of ``ringtrace serve --workers N`` (settings from the
    ``RINGTRACE_*`` environment)."""
    app = create_app(Settings())
    # Every report write waits for the link lock, so the thread holding it should run first:
    # start this process's group-commit writer now, then lower the priority of this thread,
    # from which the event loop and the request threads inherit theirs. (Lowering needs no
    # privilege; the writer keeps the normal priority.)
    intake.start_writer(app.state.store)
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) + 5)
    return app
