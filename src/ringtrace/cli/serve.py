"""Running the service: `serve`, `worker`, `job` and `demo`."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ringtrace.cli.base import handle_errors, open_store, settings
from ringtrace.errors import UnsafeBind

if TYPE_CHECKING:
    from ringtrace.settings import Settings


def check_bind(host: str) -> None:
    """Refuse to listen beyond this machine until user accounts exist."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UnsafeBind(
            f"refusing to listen on {host}: the analyst console has no login yet, "
            "so ringtrace serves only on 127.0.0.1 / ::1 / localhost"
        )


# Idle keep-alive connections are kept this long (uvicorn's default, 5 s, made busy clients
# reuse connections the server had just closed: errors on the client's side).
KEEP_ALIVE_S = 30


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy settings from RINGTRACE_TRUSTED_PROXIES: X-Forwarded-For is read only
    from those peers (uvicorn's own default trusts 127.0.0.1, so anything on the machine
    could choose its address)."""
    trusted = settings.trusted_proxy_list
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def _serve(
    settings: Settings, host: str, port: int, workers: int = 1, log_level: str = "INFO"
) -> None:
    import os

    import uvicorn

    from ringtrace.access.routing import Routing, unstaffed
    from ringtrace.logs import uvicorn_config
    from ringtrace.web.app import create_app

    check_bind(host)
    with open_store(settings) as store:  # fail here, clearly, if the database is not ready
        routes = Routing(settings.public_routes, settings.intake_agency)
        problems = unstaffed(routes, store.accounts.staffed_agencies())
    for problem in problems:
        typer.echo(f"warning: {problem} (docs/access.md)", err=True)
    typer.echo(f"serving on http://{host}:{port}/  (analyst console: /console/)"
               + (f" with {workers} worker processes" if workers > 1 else ""))  # fmt: skip
    logs = uvicorn_config(log_level)  # JSON lines, no personal data (ringtrace/logs.py)
    proxies = proxy_options(settings)
    if workers <= 1:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_config=logs,
            timeout_keep_alive=KEEP_ALIVE_S,
            **proxies,
        )
        return
    # Worker processes build their own app from the environment: pass the settings on.
    for name, value in settings.model_dump(exclude_none=True).items():
        if name == "vault_key":
            value = settings.vault_key.get_secret_value() if settings.vault_key else None
        if value is not None:
            text = json.dumps(value) if isinstance(value, dict | list) else str(value)
            os.environ[f"RINGTRACE_{name.upper()}"] = text
    uvicorn.run("ringtrace.web.app:from_environment", factory=True, host=host, port=port,
                workers=workers, log_config=logs, timeout_keep_alive=KEEP_ALIVE_S,
                **proxies)  # fmt: skip


@handle_errors
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to bind (loopback only for now).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (use PostgreSQL for more than 1).")
    ] = 1,
) -> None:
    """Serve the public report page, the analyst console and the JSON API."""
    config = settings(ctx)
    _serve(config, host or config.host, port if port is not None else config.port, workers)


@handle_errors
def job(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The id `ringtrace link --queue` printed.")],
) -> None:
    """A queued job's status: its result once it has finished (exit 0), or "pending"
    (exit 3) while it waits or runs. A job that failed for good shows its error (exit 1)."""
    from huey.exceptions import TaskException

    from ringtrace.tasks import JobQueue

    try:
        result = JobQueue(settings(ctx)).result(job_id)
    except TaskException as e:
        kind = str(e.metadata.get("error", "")).split("(", 1)[0]  # the type, not the message
        typer.echo(json.dumps({"status": "failed", "error": kind}))
        raise typer.Exit(1) from None
    if result is None:
        typer.echo(json.dumps({"status": "pending"}))
        raise typer.Exit(3)
    typer.echo(json.dumps({"status": "done", "result": result}, default=str))


@handle_errors
def worker(
    ctx: typer.Context,
    threads: Annotated[
        int, typer.Option(min=1, max=64, help="Jobs run at once (each APK in its own child).")
    ] = 2,
) -> None:
    """Run background jobs (APK analyses) from the Redis queue until stopped (Ctrl-C or
    SIGTERM finish the running jobs first). Needs RINGTRACE_REDIS_URL; servers then enqueue
    instead of running jobs themselves."""
    import logging.config

    from ringtrace.logs import uvicorn_config
    from ringtrace.tasks import JobQueue

    logging.config.dictConfig(uvicorn_config())  # the same JSON lines as `serve`
    config = settings(ctx)
    with open_store(config):
        pass  # fail here, clearly, if the database is not ready
    queue = JobQueue(config)
    queue.sweep()  # pick up at once what is already queued
    queue.run_worker(threads)


@handle_errors
def demo(
    ctx: typer.Context,
    data_dir: Annotated[
        Path, typer.Option(help="Folder for the demo data (recreated each run).")
    ] = Path("./ringtrace-demo"),
    seed: Annotated[
        int, typer.Option(help="Scenario seed; the same seed gives the same data.")
    ] = 2024,
    background: Annotated[int, typer.Option(help="Number of unrelated background reports.")] = 120,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the data and stop.")] = False,
    port: Annotated[int | None, typer.Option(help="Port to serve on.")] = None,
) -> None:
    """Create a fresh demo database from the synthetic scenario and serve the site."""
    from ringtrace.services.setup import DEMO_PASSWORD, DEMO_USERS, build_demo, demo_settings

    config = demo_settings(settings(ctx), data_dir)
    with open_store(config, ready=False) as store:
        built = build_demo(store, seed, background)
    typer.echo(f"demo: {built.reports} synthetic reports, {built.clusters} clusters in {data_dir}")
    typer.echo(f"demo logins (password {DEMO_PASSWORD!r}): "
               + ", ".join(f"{n} ({r}, {a})" for n, a, r in DEMO_USERS))  # fmt: skip
    if not no_serve:
        # Plain HTTP on loopback for the demo: cookies cannot be HTTPS-only here.
        _serve(config.model_copy(update={"secure_cookies": False}), config.host,
               port if port is not None else config.port, log_level="WARNING")  # fmt: skip
