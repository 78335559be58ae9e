"""The layers of docs/layout.md, checked on every import in the source (function-level ones
included): the core never reaches the doors, storage never reaches the services, and the
exchange formats stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ringtrace"
DOORS = ("ringtrace.web", "ringtrace.cli", "fastapi", "starlette", "typer", "uvicorn")
CORE = ("domain", "indicators", "intake", "linking", "store", "services", "access", "evidence",
        "apk", "media", "triage", "share", "jobs")  # fmt: skip
# package -> what it must never import
FORBIDDEN = {pkg: DOORS for pkg in CORE}
FORBIDDEN["store"] = (*DOORS, "ringtrace.services")
FORBIDDEN["share"] = (*DOORS, "ringtrace.services")
FORBIDDEN["domain"] = (*DOORS, "ringtrace.store", "ringtrace.services", "sqlalchemy")


def imports_of(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted((SRC / package).rglob("*.py")):
        for line, name in imports_of(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                out.append(f"{path.relative_to(SRC)}:{line} imports {name}")
    return out


@pytest.mark.parametrize("package", CORE)
def test_the_core_never_reaches_the_doors(package: str) -> None:
    assert violations(package, FORBIDDEN[package]) == []


def test_the_check_finds_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from fastapi import Request\n")
    assert imports_of(bad) == [(2, "fastapi")]


def test_every_core_package_exists() -> None:
    assert {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()} >= set(CORE)
