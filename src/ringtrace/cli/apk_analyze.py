"""`ringtrace apk analyze FILE [--json] [--timeout S]`: the analysis and its output.

The whole command is timed against other tools, start-up included (docs/apk.md), and Typer
costs more to start than the analysis of a small app takes: it loads pydantic to coerce
parameters. So :func:`parse` reads the plain forms of this one command itself, and anything
it does not recognise (``--help``, a missing file, an unknown or repeated option, a global
option, a timeout that is not a plain number) goes to Typer, which then answers exactly as
it always has. Both paths run :func:`analyze`, so the analysis, the sandbox and the output
are the same; tests/test_cli_apk.py runs every form both ways.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Echo = Callable[..., None]

_NUMBER = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")
_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Request:
    file: Path
    as_json: bool = False
    timeout: float = DEFAULT_TIMEOUT


def parse(argv: list[str]) -> Request | None:
    """The request, when ``argv`` is ``apk analyze`` with one file and at most one each of
    ``--json`` and ``--timeout NUMBER``; None for anything else."""
    if argv[:2] != ["apk", "analyze"]:
        return None
    file: str | None = None
    as_json = False
    timeout: float | None = None
    rest = argv[2:]
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--json" and not as_json:
            as_json = True
        elif arg == "--timeout" and timeout is None and i + 1 < len(rest):
            if not _NUMBER.fullmatch(rest[i + 1]):
                return None
            timeout = float(rest[i + 1])
            i += 1
        elif arg.startswith("--timeout=") and timeout is None:
            if not _NUMBER.fullmatch(arg.split("=", 1)[1]):
                return None
            timeout = float(arg.split("=", 1)[1])
        elif arg and not arg.startswith("-") and file is None:
            file = arg
        else:
            return None
        i += 1
    if file is None:
        return None
    return Request(Path(file), as_json, DEFAULT_TIMEOUT if timeout is None else timeout)


def echo(message: str, err: bool = False) -> None:
    """What ``typer.echo`` does with text: a line, flushed, without terminal escape codes
    when the output is not a terminal."""
    stream = sys.stderr if err else sys.stdout
    out = message + "\n"
    if not stream.isatty():
        out = _ANSI.sub("", out)
    stream.write(out)
    stream.flush()


def run_command(request: Request) -> int:
    """The command as the console entry point runs it: the exit code."""
    import logging

    # As the main callback does for every command (the sandbox warns through logging).
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return analyze(request.file, request.as_json, request.timeout, echo)
    except KeyboardInterrupt:
        echo("Aborted!", err=True)
        return 1


def analyze(file: Path, as_json: bool, timeout: float, echo: Echo) -> int:
    """Analyse an APK in the sandboxed child and print the result; the exit code."""
    from ringtrace.apk.analysis import ApkError
    from ringtrace.apk.sandbox import SandboxLimits, analyze_isolated

    try:
        # A one-shot command holds no secret: fork the isolated child from it directly.
        r = analyze_isolated(file, sandbox=SandboxLimits(timeout_s=timeout, start="fork"))
    except ApkError as e:
        if as_json:
            echo(json.dumps({"error": {"code": e.code, "message": e.message}}))
        else:
            echo(f"error: {file}: {e.message} ({e.code})", err=True)
        return e.exit_code
    if as_json:
        echo(json.dumps(r, indent=2, ensure_ascii=False))
    else:
        render(r, echo)
    return 0


def render(r: dict[str, Any], echo: Echo) -> None:
    echo(f"{r['package']} \"{r['label'] or ''}\" {r['version_name'] or ''} "
         f"(SDK {r['min_sdk']}-{r['target_sdk']})  sha256 {r['sha256']}")  # fmt: skip
    echo(f"risk: {r['risk']['level'].upper()}")
    for reason in r["risk"]["reasons"]:
        echo(f"  - {reason}")
    if r["certificates"]:
        for c in r["certificates"]:
            echo(f"signed by {c['sha256']} ({', '.join(c['schemes'])}): {c['subject']}")
    else:
        echo("unsigned")
    for b in r["behaviours"]:
        echo(f"behaviour: {b['title']}")
        for ev in b["evidence"][:3]:
            where = ev.get("call") or ev.get("manifest") or " -> ".join(ev.get("reads_via", []))
            echo(f"    {ev.get('method', '')} {where}")
    for ep in r["endpoints"]:
        where = ", ".join(ep["found_in"])
        if ep.get("link_key"):
            echo(f"server: {ep['value']}  ({ep['usage']}, {ep['confidence']}; in {where})")
        else:
            why = ep.get("why_not_linked") or ""
            echo(f"context: {ep['value']}  ({why}; in {where})")
    for acc in r.get("cloud_projects", []) + r.get("bots", []):
        echo(f"account: {acc['key']}  ({acc['service']})")
    for ep in r["ignored_endpoints"]:
        echo(f"ignored: {ep['value']}  ({ep['reason']})")
    for p in r["permissions"]:
        echo(f"permission: {p['name']} [{p['protection_level']}]")
