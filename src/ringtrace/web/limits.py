"""Limits at the edge: request bodies, and who the client is.

:class:`BodyLimit` counts a request's body as it arrives and answers 413 the moment it passes
the limit for its route, whatever the transfer encoding (a declared ``Content-Length`` over the
limit is refused before a byte is read), so a 200 MB body costs no more memory than the limit.

:func:`client_address` is the address rate limits count: the peer, unless the peer is one of
the configured trusted proxies, in which case the nearest untrusted address of
``X-Forwarded-For``. A client that is not a trusted proxy cannot choose its own identity.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from ringtrace.errors import PayloadTooLarge

SMALL_BODY = 1024 * 1024  # login, console and status forms


class BodyLimit:
    """Plain ASGI middleware; ``limit_for(path)`` gives the largest body a route accepts."""

    def __init__(self, app: Any, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit)
            return
        seen = 0
        refused = False
        started = False
        complete = scope["method"] in ("GET", "HEAD", "OPTIONS") and not declared

        async def limited_receive() -> Any:
            nonlocal seen, refused, started, complete
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                complete = not message.get("more_body", False)
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        started = True
                        await _too_large(scope, send, limit)
                    raise PayloadTooLarge(f"request body larger than {limit} bytes")
            return message

        async def guarded_send(message: Any) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app answers after it is dropped
            if message["type"] == "http.response.start":
                started = True
                if not complete:
                    # The app answered without reading the whole body (a refused form, a
                    # route that reads none): close the connection instead of letting the
                    # server drain whatever the client still sends.
                    MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except PayloadTooLarge:
            if not refused:
                raise


async def _too_large(scope: Any, send: Any, limit: int) -> None:
    path = scope["path"]
    message = f"request body larger than {limit} bytes"
    if path.startswith(("/api/", "/taxii2")):
        body = json.dumps({"error": {"code": PayloadTooLarge.code, "message": message}}).encode()
        kind = b"application/json"
    else:
        body = f"<!doctype html><title>413</title><p>{message}.</p>".encode()
        kind = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _networks(values: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip()]


class ClientAddress:
    """The client's address for rate limits, trusting ``X-Forwarded-For`` only from the
    configured proxies (the same rule uvicorn's ``forwarded_allow_ips`` applies)."""

    def __init__(self, trusted: Iterable[str]) -> None:
        self.trusted = _networks(trusted)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def __call__(self, request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        if not self.trusted or not self._is_trusted(peer):
            return peer
        # Walk the chain from the nearest hop back; the first address that is not one of our
        # proxies is the client (anything further left was written by the client itself).
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if not self._is_trusted(hop):
                return hop
        return peer
