"""`ringtrace apk analyze` through the console entry point: its plain forms are parsed without
Typer (for start-up time), and every form answers exactly as Typer does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringtrace.cli import app
from ringtrace.cli.apk_analyze import Request, parse

RINGTRACE = str(Path(sys.executable).with_name("ringtrace"))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["apk", "analyze", "a.apk"], Request(Path("a.apk"))),
        (["apk", "analyze", "a.apk", "--json"], Request(Path("a.apk"), True)),
        (["apk", "analyze", "--json", "a.apk", "--timeout", "5"], Request(Path("a.apk"), True, 5)),
        (["apk", "analyze", "--timeout=2.5", "a.apk"], Request(Path("a.apk"), False, 2.5)),
        # Everything else is Typer's: help, errors, global options, unusual values.
        (["apk", "analyze"], None),
        (["apk", "analyze", "a.apk", "--help"], None),
        (["apk", "analyze", "a.apk", "b.apk"], None),
        (["apk", "analyze", "a.apk", "--json", "--json"], None),
        (["apk", "analyze", "a.apk", "--timeout", "1e3"], None),
        (["apk", "analyze", "a.apk", "--timeout", "-1"], None),
        (["apk", "analyze", "a.apk", "--timeout"], None),
        (["apk", "analyze", "-", "--json"], None),
        (["apk", "analyze", "a.apk", "--", "b"], None),
        (["-v", "apk", "analyze", "a.apk"], None),
        (["apk", "process"], None),
        ([], None),
    ],
)
def test_parse(argv: list[str], expected: Request | None) -> None:
    assert parse(argv) == expected


def _console(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGTRACE_")}
    return subprocess.run(
        [RINGTRACE, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.mark.slow
def test_both_paths_answer_alike(apks: dict[str, Path], tmp_path: Path) -> None:
    not_apk = tmp_path / "notes.apk"
    not_apk.write_text("not a zip")
    cases = [
        [str(apks["stealer"]), "--json"],
        [str(apks["stealer"])],
        ["--timeout", "30", str(apks["unsigned"])],
        [str(apks["truncated"]), "--json"],
        [str(not_apk)],
        [str(tmp_path / "missing.apk"), "--json"],
        [str(apks["benign"]), "--timeout", "x"],  # not a number: Typer's error, both ways
    ]
    runner = CliRunner()
    for args in cases:
        console = _console("apk", "analyze", *args)
        typer_run = runner.invoke(app, ["apk", "analyze", *args])
        assert console.returncode == typer_run.exit_code, (args, console.stderr)
        assert console.stdout == typer_run.stdout, args
        # (Log lines aside: the sandbox warns once per process where the kernel lacks a
        # feature, and the runner's process may have warned already.)
        assert _no_log(console.stderr) == _no_log(typer_run.stderr), args
    assert parse(["apk", "analyze", *cases[0]]) is not None  # the plain form was tried
    assert '"package": "com.privatechat.app"' in _console("apk", "analyze", *cases[0]).stdout


def _no_log(text: str) -> list[str]:
    return [line for line in text.splitlines() if " WARNING ringtrace." not in line]


def test_the_plain_form_starts_without_typer_settings_or_a_database(tmp_path: Path) -> None:
    not_apk = tmp_path / "x.apk"
    not_apk.write_text("not a zip")
    probe = (
        "import sys\n"
        f"sys.argv = ['ringtrace', 'apk', 'analyze', {str(not_apk)!r}, '--json']\n"
        "from ringtrace.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "heavy = ['typer', 'pydantic', 'pydantic_settings', 'sqlalchemy', 'tldextract',\n"
        "         'requests']\n"
        "print(code, sorted(m for m in heavy if m in sys.modules))\n"
    )  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.splitlines()[-1] == "2 []"
