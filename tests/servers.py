"""A real uvicorn server on a free loopback port, in a thread, for browser and network tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ringtrace.settings import Settings


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """Serve ``create_app(settings)``; yields the base URL and stops the server afterwards."""
    import uvicorn

    from ringtrace.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from ringtrace.cli import proxy_options

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning",
            **proxy_options(settings),
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
