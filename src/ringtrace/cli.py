"""The `ringtrace` command. Each command parses its input, calls one core function, and maps
errors to a one-line message and an exit code."""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import logging.config
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from ringtrace import __version__
from ringtrace.domain.models import ReportRef
from ringtrace.errors import ImportFailed, InvalidReport, RingtraceError, UnsafeBind
from ringtrace.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="ringtrace",
    help="Link victims' sextortion reports into explained clusters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
schema_app = typer.Typer(help="Publish the interchange schemas.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
vault_app = typer.Typer(help="The encrypted evidence vault.", no_args_is_help=True)
app.add_typer(vault_app, name="vault")
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
evidence_app = typer.Typer(help="Court packages of evidence.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")
report_app = typer.Typer(help="One report.", no_args_is_help=True)
app.add_typer(report_app, name="report")

DEMO_MARKER = ".ringtrace-demo"
# Synthetic accounts of the demo only (the demo's data folder is recreated on every run).
DEMO_PASSWORD = "demo-only-password"
DEMO_USERS = (
    ("sg-analyst", "sg-police", "analyst"),
    ("sg-support", "sg-police", "victim_support"),
    ("sg-supervisor", "sg-police", "supervisor"),
    ("sg-admin", "sg-police", "admin"),
    ("hk-analyst", "hk-police", "analyst"),
    ("my-analyst", "my-helpline", "analyst"),
    # Someone at every agency the public page routes to (demo/scenario.py PUBLIC_ROUTES).
    ("intake-support", "intake-helpline", "victim_support"),
    ("in-support", "in-cybercell", "victim_support"),
    ("kr-support", "kr-police", "victim_support"),
    ("gb-support", "gb-helpline", "victim_support"),
    ("us-support", "us-tipline", "victim_support"),
    ("tw-support", "tw-165", "victim_support"),
)


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)  # set by main(); a programming error otherwise
    return settings


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a RingtraceError into one line on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ImportFailed as e:
            for err in e.errors:
                typer.echo(f"error: {err}", err=True)
            typer.echo(f"error: {len(e.errors)} invalid line(s); nothing was imported "
                       "(use --skip-invalid to import the valid lines)", err=True)  # fmt: skip
            raise typer.Exit(e.exit_code) from None
        except RingtraceError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None

    return wrapper


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data folder (database and vault). Env: RINGTRACE_DATA_DIR."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="Database URL, e.g. postgresql+psycopg://... Env: RINGTRACE_DATABASE_URL."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    ctx.obj = Settings(**overrides)


def _open(settings: Settings, *, ready: bool = True) -> Any:
    from ringtrace.store import Store

    store = Store.open(settings)
    if ready:
        store.ensure_ready()
    return store


@app.command()
@handle_errors
def init(ctx: typer.Context) -> None:
    """Prepare the data folder and database (creates or migrates the schema)."""
    settings = _settings(ctx)
    store = _open(settings, ready=False)
    store.migrate()
    settings.vault_dir.mkdir(parents=True, exist_ok=True)
    store.ensure_agency(settings.home_agency)
    where = (settings.database_url and store.dialect) or str(settings.sqlite_path)
    typer.echo(f"ready: {where} (schema {store.schema_revision()})")
    if store.count_users() == 0:
        import secrets

        password = secrets.token_urlsafe(15)
        store.add_user("admin", password, settings.home_agency, "admin")
        typer.echo(f"first admin created: user 'admin' of agency {settings.home_agency!r}, "
                   f"password {password}  (shown once; keep it safe)")  # fmt: skip


@app.command("import")
@handle_errors
def import_(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(help="JSON Lines file of report-v1 documents, or - for stdin.")
    ],
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the valid lines and list the invalid ones.")
    ] = False,
    mapping: Annotated[
        Path | None, typer.Option(help="Column mapping (JSON) for a CSV file; see docs/sharing.md.")
    ] = None,
    attachments_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder that attachments[].path may read from (default: the import file's "
            "folder, or the current one for stdin). Paths leading outside it are refused."
        ),
    ] = None,
) -> None:
    """Import reports: report-v1 JSON Lines, a STIX 2.1 bundle or a MISP event (their source
    kept), or CSV with --mapping. Re-importing the same report is a no-op."""
    from ringtrace.ingest import import_lines

    store = _open(_settings(ctx))
    if file == "-":
        lines, base_dir = sys.stdin.read().splitlines(), Path.cwd()
    else:
        path = Path(file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            typer.echo(f"error: cannot read {file}: {e}", err=True)
            raise typer.Exit(2) from None
        base_dir = path.parent
    if attachments_dir is not None:
        if not attachments_dir.is_dir():
            typer.echo(f"error: --attachments-dir {attachments_dir} is not a folder", err=True)
            raise typer.Exit(2)
        base_dir = attachments_dir
    if mapping is not None:
        from ringtrace.share.csv_import import rows_to_reports

        try:
            rules = json.loads(mapping.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InvalidReport(f"cannot read the mapping {mapping}: {e}") from None
        lines = [
            json.dumps(d, ensure_ascii=False) for d in rows_to_reports("\n".join(lines), rules)
        ]
    else:
        lines = _maybe_stix(lines, file)

    def progress(done: int, total: int) -> None:
        if total >= 200 and (done % 100 == 0 or done == total):
            typer.echo(f"  {done}/{total} reports", err=True)

    summary = import_lines(
        store, lines, base_dir=base_dir, skip_invalid=skip_invalid, progress=progress,
        max_attachment_bytes=_settings(ctx).max_attachment_bytes,
    )  # fmt: skip
    for err in summary.skipped:
        typer.echo(f"skipped: {err}", err=True)
    typer.echo(
        f"imported {summary.created} new, {summary.duplicates} already present, "
        f"{len(summary.skipped)} skipped"
    )
    pending = len(store.apk_pending())
    if pending:
        typer.echo(f"analysing {pending} APK(s) from the evidence…", err=True)
        counts = store.run_apk_analyses()
        typer.echo(f"APKs: {counts['done']} analysed, {counts['failed']} could not be analysed")


def _maybe_stix(lines: list[str], name: str) -> list[str]:
    """A STIX bundle (one JSON document, possibly over many lines) becomes report-v1 lines."""
    text = "\n".join(lines).strip()
    if not text.startswith("{") or ('"bundle"' not in text and '"Event"' not in text):
        return lines
    try:
        doc = json.loads(text)
    except ValueError:
        return lines
    if isinstance(doc, dict) and isinstance(doc.get("Event"), dict):
        from ringtrace.share.misp import event_to_report

        typer.echo("MISP event: 1 report", err=True)
        return [json.dumps(event_to_report(doc, f"misp:{Path(name).name}"), ensure_ascii=False)]
    if not isinstance(doc, dict) or doc.get("type") != "bundle":
        return lines
    from ringtrace.share.stix import to_reports

    reports = to_reports(doc, default_source=f"stix:{Path(name).name}")
    typer.echo(f"STIX bundle: {len(reports)} report(s)", err=True)
    return [json.dumps(r, ensure_ascii=False) for r in reports]


@schema_app.command("report")
def schema_report() -> None:
    """Print the JSON Schema of report-v1."""
    from ringtrace.intake.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@app.command()
@handle_errors
def extract(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON document of the spec.")
    ] = False,
    country: Annotated[
        str | None,
        typer.Option(help="ISO country of the writer: the region hint for phone numbers."),
    ] = None,
) -> None:
    """Extract indicators from text on standard input."""
    from ringtrace.indicators import extract_text

    text = sys.stdin.read()
    found = extract_text(text, country.upper() if country else None)
    if as_json:
        out = []
        for ind in found:
            first = ind.occurrences[0]
            entry: dict[str, Any] = {
                "type": ind.type, "value": ind.value, "raw": first.raw,
                "start": first.start, "end": first.end,
                "spans": [[o.start, o.end] for o in ind.occurrences],
            }  # fmt: skip
            if ind.excluded_reason:
                entry["excluded_reason"] = ind.excluded_reason
            out.append(entry)
        typer.echo(json.dumps({"indicators": out}, ensure_ascii=False, indent=2))
        return
    for ind in found:
        note = f"  (not linked: {ind.excluded_reason})" if ind.excluded_reason else ""
        typer.echo(f"{ind.type:14} {ind.value}{note}")


@app.command()
@handle_errors
def clusters(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON document of the spec.")
    ] = False,
) -> None:
    """List every cluster of two or more reports with the keys that hold it together."""
    store = _open(_settings(ctx))
    found = store.clusters()
    if as_json:
        typer.echo(
            json.dumps({"clusters": [c.to_dict() for c in found]}, ensure_ascii=False, indent=2)
        )
        return
    if not found:
        typer.echo("no clusters yet")
    for c in found:
        keys = ", ".join(f"{lk.key.type}:{lk.key.value} ({len(lk.reports)})" for lk in c.links[:4])
        more = f" +{len(c.links) - 4} more" if len(c.links) > 4 else ""
        typer.echo(f"cluster {c.id}: {len(c.reports)} reports; {keys}{more}")


@app.command()
@handle_errors
def rebuild(ctx: typer.Context) -> None:
    """Re-derive every indicator and cluster from the stored reports."""
    from ringtrace.indicators import extract_report

    store = _open(_settings(ctx))
    n = store.rebuild(extract_report)
    typer.echo(f"rebuilt {n} reports into {len(store.cluster_ids())} clusters")


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

    from ringtrace.web.app import create_app

    check_bind(host)
    store = _open(settings)  # fail here, clearly, if the database is not ready
    from ringtrace.access.routing import Routing, unstaffed

    routes = Routing(settings.public_routes, settings.intake_agency)
    for problem in unstaffed(routes, store.staffed_agencies()):
        typer.echo(f"warning: {problem} (docs/access.md)", err=True)
    store.close()
    typer.echo(f"serving on http://{host}:{port}/  (analyst console: /console/)"
               + (f" with {workers} worker processes" if workers > 1 else ""))  # fmt: skip
    from ringtrace.logs import uvicorn_config

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


@app.command()
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
    settings = _settings(ctx)
    _serve(settings, host or settings.host, port if port is not None else settings.port, workers)


@app.command()
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
        result = JobQueue(_settings(ctx)).result(job_id)
    except TaskException as e:
        kind = str(e.metadata.get("error", "")).split("(", 1)[0]  # the type, not the message
        typer.echo(json.dumps({"status": "failed", "error": kind}))
        raise typer.Exit(1) from None
    if result is None:
        typer.echo(json.dumps({"status": "pending"}))
        raise typer.Exit(3)
    typer.echo(json.dumps({"status": "done", "result": result}, default=str))


@app.command()
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
    from ringtrace.logs import uvicorn_config
    from ringtrace.tasks import JobQueue

    logging.config.dictConfig(uvicorn_config())  # the same JSON lines as `serve`
    settings = _settings(ctx)
    _open(settings).close()  # fail here, clearly, if the database is not ready
    queue = JobQueue(settings)
    queue.sweep()  # pick up at once what is already queued
    queue.run_worker(threads)


@app.command()
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
    from ringtrace.demo import INTAKE_AGENCY, PUBLIC_ROUTES, generate
    from ringtrace.ingest import import_lines

    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / DEMO_MARKER).exists():
            typer.echo(f"error: {data_dir} holds data that is not a ringtrace demo; "
                       "choose another --data-dir", err=True)  # fmt: skip
            raise typer.Exit(2)
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    (data_dir / DEMO_MARKER).write_text("created by `ringtrace demo`; deleted by the next run\n")
    settings = _settings(ctx).model_copy(update={
        "data_dir": data_dir, "database_url": None, "public_routes": PUBLIC_ROUTES,
        "public_intake_agency": INTAKE_AGENCY,
    })  # fmt: skip
    store = _open(settings, ready=False)
    store.migrate()
    scenario = generate(seed=seed, background=background)
    lines = [json.dumps(d, ensure_ascii=False) for d in scenario.reports]
    summary = import_lines(store, lines)
    typer.echo(
        f"demo: {summary.created} synthetic reports, {len(store.cluster_ids())} clusters "
        f"in {data_dir}"
    )
    for name, agency, role in DEMO_USERS:
        store.add_user(name, DEMO_PASSWORD, agency, role)
    for source in sorted({d["source"] for d in scenario.reports}):
        store.ensure_agency(source)
    typer.echo(f"demo logins (password {DEMO_PASSWORD!r}): "
               + ", ".join(f"{n} ({r}, {a})" for n, a, r in DEMO_USERS))  # fmt: skip
    store.close()
    if not no_serve:
        # Plain HTTP on loopback for the demo: cookies cannot be HTTPS-only here.
        _serve(settings.model_copy(update={"secure_cookies": False}), settings.host,
               port if port is not None else settings.port, log_level="WARNING")  # fmt: skip


@vault_app.command("rotate-key")
@handle_errors
def vault_rotate_key(ctx: typer.Context) -> None:
    """Seal every evidence file and document key under a new key, then retire the old one.
    Safe while the server runs: readers pick up the new key file as it changes."""
    store = _open(_settings(ctx))
    done = store.rotate_keys()
    typer.echo(
        f"re-sealed {done['files']} evidence files and {done['documents']} document keys; "
        f"retired {done['retired_keys']} old key(s)"
    )


@vault_app.command("check")
@handle_errors
def vault_check(ctx: typer.Context) -> None:
    """Open every evidence file and check it against its name; exit 7 on any problem."""
    store = _open(_settings(ctx))
    problems = store.check_evidence()
    for p in problems:
        typer.echo(f"bad: {p}", err=True)
    if problems:
        raise typer.Exit(7)
    typer.echo(f"ok: {sum(1 for _ in store.vault.files())} evidence files verified")


@app.command("check")
@handle_errors
def check(ctx: typer.Context) -> None:
    """Walk the whole store: every report row against its MAC, the audit chain (edited,
    rewritten or cut short, against its anchor) and every evidence file. Exit 7 on any
    problem; when all is well, the audit chain's head is anchored again."""
    store = _open(_settings(ctx))
    try:
        problems = store.check()
    finally:
        store.close()
    for p in problems:
        typer.echo(f"bad: {p}", err=True)
    if problems:
        raise typer.Exit(7)
    typer.echo("ok: report rows, audit chain and evidence verified")


@audit_app.command("verify")
@handle_errors
def audit_verify(
    ctx: typer.Context,
    anchor: Annotated[
        Path | None,
        typer.Option(help="An anchor saved by `ringtrace audit anchor` to check against."),
    ] = None,
) -> None:
    """Check the audit chain; name the first entry that was edited, deleted or reordered."""
    store = _open(_settings(ctx))
    result = store.verify_audit()
    if not result.ok:
        typer.echo(f"audit log broken at entry {result.first_bad}: {result.problem}", err=True)
        raise typer.Exit(7)
    if anchor is not None:
        saved = json.loads(anchor.read_text())
        match = [e for e in store.audit_entries() if e.seq == saved["seq"]]
        if not match or match[0].hash != saved["hash"]:
            typer.echo(f"audit log does not contain anchor entry {saved['seq']} as saved", err=True)
            raise typer.Exit(7)
    typer.echo(f"ok: {result.checked} audit entries verified")


@audit_app.command("anchor")
@handle_errors
def audit_anchor(ctx: typer.Context) -> None:
    """Print the chain head as JSON, to be kept somewhere else (detects a rewritten log)."""
    store = _open(_settings(ctx))
    result = store.verify_audit()
    if not result.ok or result.head is None:
        typer.echo(
            "error: the audit log is empty or broken; run `ringtrace audit verify`", err=True
        )
        raise typer.Exit(7)
    head = result.head
    typer.echo(json.dumps({"seq": head.seq, "hash": head.hash, "at": head.at}))


@evidence_app.command("package")
@handle_errors
def evidence_package(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A cluster id, or SOURCE/EXTERNAL_ID of a report.")],
    out: Annotated[Path, typer.Argument(help="The zip file to write.")],
) -> None:
    """Write a court package: files, manifest, audit entries, explanation, HTML and PDF."""
    from ringtrace.court import make_package

    digest = make_package(_open(_settings(ctx)), target, out)
    typer.echo(f"wrote {out} (manifest SHA-256 {digest}, recorded in the audit log)")


@evidence_app.command("verify")
@handle_errors
def evidence_verify(
    package: Annotated[Path, typer.Argument(help="A zip written by `ringtrace evidence package`.")],
) -> None:
    """Check a court package offline; exit 8 on any change."""
    from ringtrace.evidence.package import verify

    problems = verify(package)
    for p in problems:
        typer.echo(f"bad: {p}", err=True)
    if problems:
        raise typer.Exit(8)
    typer.echo(f"ok: {package} verifies")


@report_app.command("withdraw")
@handle_errors
def report_withdraw(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The report's source.")],
    external_id: Annotated[str, typer.Argument(help="The report's external id.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
) -> None:
    """Erase a reporter's personal data and evidence at their request (audited)."""
    from ringtrace.domain.models import ReportRef

    done = _open(_settings(ctx)).withdraw(ReportRef(source, external_id), reason=reason)
    typer.echo(
        f"withdrawn: {done['files_deleted']} evidence files erased, "
        f"{done['indicators_kept']} offender indicators kept, {done['indicators_deleted']} removed"
    )


export_app = typer.Typer(help="Exports for other engines.", no_args_is_help=True)
app.add_typer(export_app, name="export")
cluster_app = typer.Typer(
    help="Analysts' decisions on clusters (audited, kept through rebuilds).", no_args_is_help=True
)
app.add_typer(cluster_app, name="cluster")


def _ref(text: str) -> ReportRef:
    if "/" not in text:
        raise InvalidReport(f"{text!r}: give a report as SOURCE/EXTERNAL_ID")
    source, external_id = text.split("/", 1)
    return ReportRef(source, external_id)


@export_app.command("stix")
@handle_errors
def export_stix(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option(help="File to write the STIX 2.1 bundle to.")],
    cluster: Annotated[int | None, typer.Option(help="Only this cluster.")] = None,
    report: Annotated[
        str | None, typer.Option(help="Only this report, as SOURCE/EXTERNAL_ID.")
    ] = None,
    partner: Annotated[
        str | None,
        typer.Option(help="Export for this partner agency: only what the sharing rules allow it."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only reports received since (ISO 8601 date or time).")
    ] = None,
    narratives: Annotated[
        bool, typer.Option(help="Include narratives where the reporter consented to sharing.")
    ] = False,
) -> None:
    """Export STIX 2.1 (validated with the official stix2-validator before it is written)."""
    from datetime import UTC, datetime

    from ringtrace.share.stix import export, validate

    store = _open(_settings(ctx))
    when = None
    if since:
        try:
            when = datetime.fromisoformat(since)
        except ValueError:
            raise InvalidReport("--since must be an ISO 8601 date or time") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    ids = [store.report_id(_ref(report))] if report else None
    bundle = export(store, agency=partner, cluster_id=cluster, report_ids=ids, since=when,
                    include_narratives=narratives)  # fmt: skip
    errors = validate(bundle)
    if errors:
        raise InvalidReport(f"the export failed STIX validation: {errors[0]}")
    output.write_text(
        json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8"
    )
    details = {"partner": partner, "objects": len(bundle["objects"]), "since": since}
    store.record("export.stix", f"cluster:{cluster}" if cluster else "store", details)
    typer.echo(f"{len(bundle['objects'])} STIX objects written to {output}")


@export_app.command("misp")
@handle_errors
def export_misp(
    ctx: typer.Context,
    cluster: Annotated[int, typer.Argument(help="The cluster (ring) to export.")],
    output: Annotated[Path, typer.Option(help="File to write the MISP event JSON to.")],
    partner: Annotated[
        str | None, typer.Option(help="Export for this partner agency (sharing rules apply).")
    ] = None,
) -> None:
    """Export a ring as a MISP event (loadable by PyMISP and MISP's event import)."""
    from ringtrace.share.misp import export_event

    store = _open(_settings(ctx))
    event = export_event(store, cluster, agency=partner)
    output.write_text(
        json.dumps(event, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8"
    )
    store.record("export.misp", f"cluster:{cluster}", {"partner": partner})
    typer.echo(f"MISP event {event['Event']['uuid']} written to {output}")


@export_app.command("parquet")
@handle_errors
def export_parquet(
    ctx: typer.Context, folder: Annotated[Path, typer.Argument(help="Folder to write.")]
) -> None:
    """Write reports.parquet, keys.parquet and merges.parquet for the batch linkers."""
    counts = _open(_settings(ctx)).export_parquet(folder)
    typer.echo(
        f"wrote {counts['reports']} reports, {counts['keys']} keys, "
        f"{counts['merges']} merges to {folder}"
    )


@app.command()
@handle_errors
def link(
    ctx: typer.Context,
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded) or spark (pyspark, local mode).")
    ] = "duckdb",
    source: Annotated[
        Path | None,
        typer.Option(
            "--from", help="A folder from `ringtrace export parquet` (default: export now)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compare only; do not write the clusters back.")
    ] = False,
    queue: Annotated[
        bool,
        typer.Option(
            "--queue",
            help="Run it as a background job on `ringtrace worker`; "
            "prints the job id for `ringtrace job`.",
        ),
    ] = False,
) -> None:
    """Re-cluster every report with the batch linker and write the result back."""
    from ringtrace import batch_link

    settings = _settings(ctx)
    if queue:
        if dry_run or source is not None:
            raise typer.BadParameter("--queue links the whole store: no --dry-run or --from")
        from ringtrace.tasks import JobQueue

        _open(settings).close()
        job = JobQueue(settings).link_batch(engine)
        typer.echo(job.id)
        return
    run = batch_link.run(_open(settings), engine, source, write=not dry_run)
    typer.echo(
        f"{run.engine}: {run.reports} reports, {run.clusters} clusters of 2+, {run.rounds} rounds, "
        f"{run.bridges} bridging payment accounts, {run.differences} reports placed differently "
        f"from the online linker, {run.moved} moved, {run.seconds:.1f}s"
    )


@app.command()
@handle_errors
def explain(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of one report.")],
    b: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of the other.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The shortest chain of shared keys that puts two reports in one cluster."""
    store = _open(_settings(ctx))
    ra, rb = _ref(a), _ref(b)
    chain = store.explain(ra, rb)
    if chain is None:
        typer.echo(f"{a} and {b} are not in the same cluster", err=True)
        raise typer.Exit(1)
    refs = store.refs([h.from_report for h in chain] + [h.to_report for h in chain])
    hops = [
        {
            "from": refs[h.from_report].to_dict(), "to": refs[h.to_report].to_dict(),
            "key": h.key.to_dict() if h.key else None, "merge_reason": h.merge_reason,
        }
        for h in chain
    ]  # fmt: skip
    if as_json:
        typer.echo(json.dumps({"chain": hops}, ensure_ascii=False, indent=2))
        return
    typer.echo(a)
    for h in hops:
        via = (
            f"{h['key']['type']}:{h['key']['value']}"
            if h["key"]
            else f"analyst merge ({h['merge_reason']})"
        )
        typer.echo(f"  -- {via} --> {h['to']['source']}/{h['to']['external_id']}")


@cluster_app.command("merge")
@handle_errors
def cluster_merge(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of a report in one cluster.")],
    b: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of a report in the other.")],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Join two clusters."""
    cid = _open(_settings(ctx)).merge(_ref(a), _ref(b), reason=reason)
    typer.echo(f"merged into cluster {cid}")


@cluster_app.command("cut")
@handle_errors
def cluster_cut(
    ctx: typer.Context,
    key_type: Annotated[str, typer.Argument(help="Key type, e.g. phone.")],
    value: Annotated[
        str, typer.Argument(help="Normalised value, as `ringtrace clusters` shows it.")
    ],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Stop one key from linking (split what it held together)."""
    from ringtrace.domain.models import LinkKey

    after = _open(_settings(ctx)).cut(LinkKey(key_type, value), reason=reason)
    typer.echo(f"cut {key_type}:{value}; its reports are now in {len(after)} cluster(s): {after}")


@cluster_app.command("unrelated")
@handle_errors
def cluster_unrelated(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of one report.")],
    b: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of the other.")],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Mark two reports as unrelated: cut every key they share directly."""
    store = _open(_settings(ctx))
    cut = store.unrelated(_ref(a), _ref(b), reason=reason)
    typer.echo(f"cut {len(cut)} shared key(s): " + ", ".join(f"{k.type}:{k.value}" for k in cut))
    if store.explain(_ref(a), _ref(b)) is not None:
        typer.echo("they are still linked through other reports; see `ringtrace explain`")


@app.command()
@handle_errors
def evaluate(
    hard: Annotated[
        bool, typer.Option(help="The hard-case scenario (mule account, rotating numbers, ...).")
    ] = True,
    seed: Annotated[int, typer.Option(help="Scenario seed.")] = 2024,
    background: Annotated[int, typer.Option(help="Unrelated background reports.")] = 2000,
    classes: Annotated[
        str,
        typer.Option(
            help="Classes of real input to plant in the scenario, comma-separated: "
            "helplines, references, hosting, handle_words, unknown_ids, crowd, cue_context; "
            "'all' or 'none'."
        ),
    ] = "all",
    reports_file: Annotated[
        Path | None,
        typer.Option("--reports", help="Score your own collection: a JSON Lines file of reports."),
    ] = None,
    truth_file: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help='Its ground truth: a JSON object {"source|external_id": group}; a report '
            "absent from it is alone.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Link a labelled collection in a temporary store and score it against its ground
    truth: pairwise precision/recall and B-cubed. Without --reports, a generated scenario."""
    from ringtrace.demo import generate
    from ringtrace.demo.scenario import CLASSES
    from ringtrace.evaluate import load_truth, score_collection

    if (reports_file is None) != (truth_file is None):
        raise typer.BadParameter("--reports and --truth go together")
    if reports_file is not None and truth_file is not None:
        lines = reports_file.read_text(encoding="utf-8").splitlines()
        truth = load_truth(truth_file.read_text(encoding="utf-8"))
        label = f"{reports_file.name}"
    else:
        chosen = _classes(classes, CLASSES)
        scenario = generate(seed=seed, background=background, hard=hard, classes=chosen)
        lines = [json.dumps(d, ensure_ascii=False) for d in scenario.reports]
        truth = {k: v for k, v in scenario.truth.items() if v is not None}
        label = f"scenario seed {seed}, classes {','.join(sorted(chosen)) or 'none'}"
    result = score_collection(lines, truth)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    pw, b3 = result.pairwise, result.bcubed
    typer.echo(f"{label}: {result.reports} reports, {len(result.groups)} true groups")
    typer.echo(f"pairwise precision {pw.precision:.4f}  recall {pw.recall:.4f}  F1 {pw.f1:.4f}")
    typer.echo(f"B-cubed  precision {b3.precision:.4f}  recall {b3.recall:.4f}  F1 {b3.f1:.4f}")


def _classes(text: str, known: tuple[str, ...]) -> frozenset[str]:
    if text.strip() == "all":
        return frozenset(known)
    if text.strip() in ("none", ""):
        return frozenset()
    chosen = frozenset(c.strip() for c in text.split(",") if c.strip())
    unknown = chosen - set(known)
    if unknown:
        raise typer.BadParameter(f"unknown classes: {', '.join(sorted(unknown))}")
    return chosen


suggest_app = typer.Typer(
    help="Suggested links from weak signals (never merged on their own).", no_args_is_help=True
)
app.add_typer(suggest_app, name="suggestions")


@suggest_app.command("list")
@handle_errors
def suggestions_list(
    ctx: typer.Context,
    refresh: Annotated[
        bool, typer.Option(help="Look for new near-duplicate scripts first.")
    ] = False,
    threshold: Annotated[float, typer.Option(help="Minimum estimated Jaccard similarity.")] = 0.5,
    status: Annotated[str, typer.Option(help="open, accepted, rejected or all.")] = "open",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Suggested links between clusters, strongest first."""
    store = _open(_settings(ctx))
    if refresh:
        new = store.refresh_suggestions(threshold)
        typer.echo(f"{new} new suggestion(s)", err=True)
    rows = store.suggestions(None if status == "all" else status)
    if as_json:
        typer.echo(json.dumps({"suggestions": rows}, ensure_ascii=False, indent=2))
        return
    for r in rows:
        typer.echo(
            f"#{r['id']} {r['kind']} {r['score']:.2f}  {r['a']['source']}/{r['a']['external_id']}"
            f"  ~  {r['b']['source']}/{r['b']['external_id']}  [{r['status']}]"
        )


@suggest_app.command("accept")
@handle_errors
def suggestions_accept(
    ctx: typer.Context,
    suggestion: Annotated[int, typer.Argument(help="The suggestion's number.")],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Accept a suggestion: merge the two clusters."""
    _open(_settings(ctx)).decide_suggestion(suggestion, accept=True, reason=reason)
    typer.echo(f"suggestion {suggestion} accepted: clusters merged")


@suggest_app.command("reject")
@handle_errors
def suggestions_reject(
    ctx: typer.Context,
    suggestion: Annotated[int, typer.Argument(help="The suggestion's number.")],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Reject a suggestion; it will not be suggested again."""
    _open(_settings(ctx)).decide_suggestion(suggestion, accept=False, reason=reason)
    typer.echo(f"suggestion {suggestion} rejected")


user_app = typer.Typer(help="Console users and API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
@handle_errors
def user_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    agency: Annotated[str, typer.Option(help="Code of the user's agency (its reports' source).")],
    role: Annotated[
        str, typer.Option(help="victim_support, analyst, supervisor or admin.")
    ] = "analyst",
    totp: Annotated[bool, typer.Option(help="Enrol an authenticator app (TOTP).")] = False,
    email: Annotated[
        str | None, typer.Option(help="Address for alerts about watched rings.")
    ] = None,
) -> None:
    """Add a user. The password is read from standard input (at least 12 characters)."""
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else typer.prompt(
        "password", hide_input=True, confirmation_prompt=True)  # fmt: skip
    secret = _open(_settings(ctx)).add_user(
        username, password, agency, role, totp=totp, email=email
    )
    typer.echo(f"user {username} added ({role}, {agency})")
    if secret:
        typer.echo(f"TOTP secret (enter it in the authenticator app; shown once): {secret}")


@user_app.command("token")
@handle_errors
def user_token(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Whose token (it acts as that user).")],
    name: Annotated[str, typer.Option(help="What the token is for.")],
) -> None:
    """Create an API token for a user; use it as `Authorization: Bearer TOKEN`."""
    token = _open(_settings(ctx)).create_token(username, name)
    typer.echo(token)


apk_app = typer.Typer(
    help="Static analysis of Android apps (never installed or run).", no_args_is_help=True
)
app.add_typer(apk_app, name="apk")


@apk_app.command("analyze")
def apk_analyze(
    file: Annotated[Path, typer.Argument(help="The APK file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds before the analysis is stopped.")] = 60,
) -> None:
    """Analyse an APK in a limited child process: identity, signer, permissions, behaviours
    with call sites, servers, packer signs and a risk level with its reasons."""
    from ringtrace.apk.analysis import ApkError
    from ringtrace.apk.sandbox import SandboxLimits, analyze_isolated

    try:
        # A one-shot command holds no secret: fork the isolated child from it directly.
        r = analyze_isolated(file, sandbox=SandboxLimits(timeout_s=timeout, start="fork"))
    except ApkError as e:
        if as_json:
            typer.echo(json.dumps({"error": {"code": e.code, "message": e.message}}))
        else:
            typer.echo(f"error: {file}: {e.message} ({e.code})", err=True)
        raise typer.Exit(e.exit_code) from None
    if as_json:
        typer.echo(json.dumps(r, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{r['package']} \"{r['label'] or ''}\" {r['version_name'] or ''} "
               f"(SDK {r['min_sdk']}-{r['target_sdk']})  sha256 {r['sha256']}")  # fmt: skip
    typer.echo(f"risk: {r['risk']['level'].upper()}")
    for reason in r["risk"]["reasons"]:
        typer.echo(f"  - {reason}")
    if r["certificates"]:
        for c in r["certificates"]:
            typer.echo(f"signed by {c['sha256']} ({', '.join(c['schemes'])}): {c['subject']}")
    else:
        typer.echo("unsigned")
    for b in r["behaviours"]:
        typer.echo(f"behaviour: {b['title']}")
        for ev in b["evidence"][:3]:
            where = ev.get("call") or ev.get("manifest") or " -> ".join(ev.get("reads_via", []))
            typer.echo(f"    {ev.get('method', '')} {where}")
    for ep in r["endpoints"]:
        where = ", ".join(ep["found_in"])
        if ep.get("link_key"):
            typer.echo(f"server: {ep['value']}  ({ep['usage']}, {ep['confidence']}; in {where})")
        else:
            why = ep.get("why_not_linked") or ""
            typer.echo(f"context: {ep['value']}  ({why}; in {where})")
    for acc in r.get("cloud_projects", []) + r.get("bots", []):
        typer.echo(f"account: {acc['key']}  ({acc['service']})")
    for ep in r["ignored_endpoints"]:
        typer.echo(f"ignored: {ep['value']}  ({ep['reason']})")
    for p in r["permissions"]:
        typer.echo(f"permission: {p['name']} [{p['protection_level']}]")


@apk_app.command("process")
@handle_errors
def apk_process(ctx: typer.Context) -> None:
    """Run the queued analyses of APKs that arrived as report evidence, and link by them."""
    store = _open(_settings(ctx))

    def progress(done: int, total: int) -> None:
        typer.echo(f"  analysed {done}/{total} APK(s)", err=True)

    counts = store.run_apk_analyses(progress=progress)
    typer.echo(f"{counts['done']} analysed, {counts['failed']} failed, "
               f"{counts['retry']} to retry")  # fmt: skip


media_app = typer.Typer(
    help="Perceptual hashes of images and videos (PDQ); images are never stored.",
    no_args_is_help=True,
)
app.add_typer(media_app, name="media")
takedown_app = typer.Typer(
    help="The takedown list: hashes of victims' own images, with their status.",
    no_args_is_help=True,
)
app.add_typer(takedown_app, name="takedown")


@media_app.command("hash")
def media_hash(
    files: Annotated[list[Path], typer.Argument(help="Images or videos.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    dihedral: Annotated[
        bool, typer.Option(help="Also hash the eight rotations and flips of each image.")
    ] = False,
) -> None:
    """Hash files locally (no data folder, no network): PDQ for images, 1 fps frames for
    videos. Exit 2 if any file could not be hashed; the others are still printed."""
    from ringtrace.media.files import hash_file

    rows: list[dict[str, Any]] = []
    failed = 0
    for f in files:
        try:
            rows.extend(hash_file(f, dihedral=dihedral))
        except RingtraceError as e:
            failed += 1
            rows.append({"file": str(f), "error": e.to_dict()})
            if not as_json:
                typer.echo(f"error: {f}: {e}", err=True)
    if as_json:
        typer.echo(json.dumps({"hashes": rows}, indent=2))
    else:
        for r in rows:
            if "error" in r:
                continue
            extra = f" t={r['frame_second']}s" if "frame_second" in r else ""
            extra += f" {r['transform']}" if "transform" in r else ""
            low = "" if r["usable"] else "  (quality below 50: not used for matching)"
            typer.echo(f"{r['pdq']} {r['quality']:3d} {r['file']}{extra}{low}")
    if failed:
        raise typer.Exit(2)


@media_app.command("match")
@handle_errors
def media_match(
    ctx: typer.Context,
    items: Annotated[list[str], typer.Argument(help="Image or video files, or PDQ hashes.")],
    threshold: Annotated[int, typer.Option(help="Largest Hamming distance that matches.")] = 31,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find stored lure media and takedown entries close to these images or hashes."""
    from ringtrace.media.files import hash_file
    from ringtrace.media.pdq import MIN_QUALITY, parse_pdq

    queries: list[tuple[str, str]] = []
    for item in items:
        if Path(item).is_file():
            queries += [(item, r["pdq"]) for r in hash_file(Path(item)) if r["usable"]]
        else:
            queries.append((item, parse_pdq(item)))
    if not queries:
        typer.echo(f"nothing to match (every hash had quality below {MIN_QUALITY})", err=True)
        raise typer.Exit(1)
    found = _open(_settings(ctx)).match_media([q for _, q in queries], threshold)
    out = [{"query": n, "pdq": q, "matches": m} for (n, q), m in zip(queries, found, strict=True)]
    if as_json:
        typer.echo(json.dumps({"results": out}, indent=2))
        return
    for r in out:
        typer.echo(f"{r['query']}: {len(r['matches'])} match(es)")
        for m in r["matches"]:
            if m["kind"] == "lure":
                what = f"report {m['report']['source']}/{m['report']['external_id']}"
            else:
                what = f"takedown {m['reference']} [{m['status']}]"
            typer.echo(f"  distance {m['distance']:3d}  {m['kind']:8s} {what}")


@media_app.command("compare")
@handle_errors
def media_compare(
    query: Annotated[Path, typer.Argument(help="A video.")],
    compared: Annotated[Path, typer.Argument(help="Another video.")],
    threshold: Annotated[int, typer.Option(help="Largest frame distance that matches.")] = 31,
) -> None:
    """Compare two videos as bags of frames, as vPDQ does."""
    from ringtrace.media.video import compare_videos, hash_video

    c = compare_videos(hash_video(query), hash_video(compared), threshold)
    verdict = "match" if c.matches() else "no match"
    typer.echo(f"{c.query_pct:.1f}% of the query's frames matched, "
               f"{c.compared_pct:.1f}% of the other's: {verdict}")  # fmt: skip


@takedown_app.command("list")
@handle_errors
def takedown_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="received, active, removed or withdrawn.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Entries of the takedown list (hashes only)."""
    rows = _open(_settings(ctx)).takedown_entries(status)
    if as_json:
        typer.echo(json.dumps({"entries": rows}, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['reference']}  {r['status']:9s} {r['pdq']}  q={r['quality']}")


@takedown_app.command("status")
@handle_errors
def takedown_status(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="The entry's reference (TD-...).")],
    status: Annotated[str, typer.Argument(help="active, removed or withdrawn.")],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Move an entry along received -> active -> removed (or withdrawn)."""
    old = _open(_settings(ctx)).set_takedown_status(reference, status, reason=reason)
    typer.echo(f"{reference}: {old} -> {status}")


@takedown_app.command("export")
@handle_errors
def takedown_export_cmd(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option(help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    status: Annotated[str, typer.Option(help="Which entries (default: active).")] = "active",
) -> None:
    """Export the takedown list for platforms (docs/media.md describes the format)."""
    from ringtrace.media.files import takedown_export

    rows = _open(_settings(ctx)).takedown_entries(status)
    output.write_text(takedown_export(rows, fmt), encoding="utf-8")
    typer.echo(f"{len(rows)} {status} entr{'y' if len(rows) == 1 else 'ies'} written to {output}")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app()
