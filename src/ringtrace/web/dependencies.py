"""What every route reads from the app: its store, and the console's page rendering."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request, Response

if TYPE_CHECKING:
    from ringtrace.access.policy import Principal
    from ringtrace.store import Store


def store(request: Request) -> Store:
    """The app's store (``create_app`` opens it once)."""
    found: Store = request.app.state.store
    return found


def render(request: Request, name: str, who: Principal, **context: object) -> Response:
    """A console page, with the logged-in user in its context."""
    context["user"] = who
    return request.app.state.templates.TemplateResponse(request, name, context)  # type: ignore[no-any-return]
