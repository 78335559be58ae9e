"""The `ringtrace` command, run in-process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from ringtrace.cli import app
from tests.factories import line, report

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    data = tmp_path / "data"

    def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--data-dir", str(data), *args], input=stdin)

    assert invoke("init").exit_code == 0
    return invoke


def test_import_then_clusters_json_follows_the_spec(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "reports.jsonl"
    f.write_text(
        # The number in a structured field: strong evidence, so the three link at once (a
        # number next to "pay" in free text is uncertain: docs/linking.md).
        "\n".join(
            line(
                report(
                    narrative=f"report #{i}",
                    offender_identifiers=[{"type": "phone", "value": "+852 6123 4567"}],
                )
            )
            for i in range(3)
        )
        + "\n"
    )
    res = run("import", str(f))
    assert res.exit_code == 0, res.output
    assert "imported 3 new" in res.output
    again = run("import", str(f))
    assert "imported 0 new, 3 already present" in again.output
    out = json.loads(run("clusters", "--json").output)
    [cluster] = out["clusters"]
    assert set(cluster) >= {"id", "reports", "links"}
    assert len(cluster["reports"]) == 3
    assert set(cluster["reports"][0]) == {"source", "external_id"}
    assert cluster["links"][0]["key"] == {"type": "phone", "value": "+85261234567"}
    assert len(cluster["links"][0]["reports"]) == 3


def test_a_bad_line_names_line_and_field_and_imports_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good, bad = report(narrative="+852 6123 4567"), report(tlp="purple")
    f = tmp_path / "mixed.jsonl"
    f.write_text(line(good) + "\n" + line(bad) + "\n{not json\n")
    res = run("import", str(f))
    assert res.exit_code == 2
    assert "line 2, field tlp" in res.output
    assert "line 3" in res.output
    assert "nothing was imported" in res.output
    assert "Traceback" not in res.output
    assert json.loads(run("clusters", "--json").output) == {"clusters": []}
    skipped = run("import", "--skip-invalid", str(f))
    assert skipped.exit_code == 0
    assert "imported 1 new" in skipped.output
    assert "skipped: line 2, field tlp" in skipped.output
    assert "skipped: line 3" in skipped.output


def test_import_from_stdin_with_attachment_paths(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "shot.png").write_bytes(b"\x89PNG synthetic")
    monkeypatch.chdir(tmp_path)
    doc = report(attachments=[{"filename": "shot.png", "path": "files/shot.png"}])
    res = run("import", "-", stdin=line(doc) + "\n")
    assert res.exit_code == 0, res.output
    assert "imported 1 new" in res.output
    missing = report(attachments=[{"filename": "x", "path": "files/none.png"}])
    res = run("import", "-", stdin=line(missing))
    assert res.exit_code == 2
    assert "attachments.0.path" in res.output


def test_import_reads_attachment_paths_only_inside_its_folder(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "shot.png").write_bytes(b"\x89PNG synthetic")
    outside = tmp_path / "secret.txt"
    outside.write_text("not evidence")
    (folder / "link.png").symlink_to(outside)
    keys = tmp_path / "data" / "keys" / "vault-keys.json"
    assert keys.exists()
    hostile = {
        "/etc/passwd": "absolute",
        str(keys): "absolute",
        "../secret.txt": "leads outside",
        "../data/keys/vault-keys.json": "leads outside",
        "link.png": "leads outside",
        ".": "not a regular file",
    }
    for n, (path, why) in enumerate(hostile.items()):
        doc = report(external_id=f"H-{n}", attachments=[{"filename": "x", "path": path}])
        file = folder / f"h{n}.jsonl"
        file.write_text(line(report(external_id=f"OK-{n}")) + "\n" + line(doc) + "\n")
        res = run("import", str(file))
        assert res.exit_code == 2, (path, res.output)
        assert "line 2" in res.output and "attachments.0.path" in res.output, res.output
        assert why in res.output, (path, res.output)
    clusters = json.loads(run("clusters", "--json").output)
    assert clusters == [] or all("H-" not in json.dumps(c) for c in clusters)
    # Inside the folder it reads; a named folder widens where it may read.
    good = folder / "good.jsonl"
    good.write_text(line(report(attachments=[{"filename": "s.png", "path": "shot.png"}])) + "\n")
    assert run("import", str(good)).exit_code == 0
    wide = folder / "wide.jsonl"
    wide.write_text(
        line(report(external_id="W-1", attachments=[{"filename": "s", "path": "secret.txt"}]))
        + "\n"
    )
    assert run("import", str(wide)).exit_code == 2
    res = run("import", str(wide), "--attachments-dir", str(tmp_path))
    assert res.exit_code == 0, res.output


def test_schema_report_is_the_published_json_schema(run) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads(run("schema", "report").output)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "external_id" in schema["properties"]


def test_extract_json_follows_the_spec(run) -> None:  # type: ignore[no-untyped-def]
    text = "Pay to +852 6123 4567 or see hxxp://chat-priv[.]top/app.apk"
    out = json.loads(run("extract", "--json", stdin=text).output)
    for ind in out["indicators"]:
        assert {"type", "value", "raw", "start", "end"} <= set(ind)
        assert text[ind["start"] : ind["end"]] == ind["raw"]
    assert {(i["type"], i["value"]) for i in out["indicators"]} >= {
        ("phone", "+85261234567"),
        ("url", "http://chat-priv.top/app.apk"),
    }


def test_rebuild_keeps_clusters(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "r.jsonl"
    f.write_text("\n".join(line(report(narrative="t.me/ringboss")) for _ in range(2)))
    run("import", str(f))
    before = run("clusters", "--json").output
    res = run("rebuild")
    assert res.exit_code == 0 and "rebuilt 2 reports" in res.output
    assert run("clusters", "--json").output == before


def test_commands_need_an_initialised_database(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "empty"), "clusters"])
    assert res.exit_code == 3
    assert "ringtrace init" in res.output


def test_serve_refuses_non_loopback_addresses(run) -> None:  # type: ignore[no-untyped-def]
    res = run("serve", "--host", "0.0.0.0")
    assert res.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in res.output


def test_demo_builds_a_fresh_database_and_protects_other_data(tmp_path: Path) -> None:
    runner = CliRunner()
    demo_dir = tmp_path / "demo"
    res = runner.invoke(
        app, ["demo", "--data-dir", str(demo_dir), "--no-serve", "--background", "20"]
    )
    assert res.exit_code == 0, res.output
    assert "5 clusters" in res.output
    again = runner.invoke(
        app, ["demo", "--data-dir", str(demo_dir), "--no-serve", "--background", "20"]
    )
    assert again.exit_code == 0  # its own earlier demo is replaced
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "ringtrace.sqlite3").write_text("real data")
    res = runner.invoke(app, ["demo", "--data-dir", str(precious), "--no-serve"])
    assert res.exit_code == 2
    assert (precious / "ringtrace.sqlite3").read_text() == "real data"


def test_every_command_and_setting_is_documented() -> None:
    from ringtrace.settings import Settings

    doc = (ROOT / "docs" / "cli.md").read_text()
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None
        names += [f"{group.name} {c.name}" for c in sub.registered_commands]
    assert len(names) >= 9
    for name in names:
        assert re.search(rf"^## `ringtrace {re.escape(name)}", doc, re.M), f"{name} undocumented"
    for field in Settings.model_fields:
        assert f"RINGTRACE_{field.upper()}" in doc, f"setting {field} undocumented"


def test_the_entry_point_builds_only_the_invoked_command_and_the_same_ones() -> None:
    import typer.main

    from ringtrace.cli.commands import command

    eager = typer.main.get_command(app)
    lazy = command()
    assert lazy.commands._made == {}  # nothing built before a lookup
    assert list(lazy.commands) == list(eager.commands)  # type: ignore[attr-defined]
    lazy.commands["version"]
    assert list(lazy.commands._made) == ["version"]
    for name, cmd in eager.commands.items():  # type: ignore[attr-defined]
        built = lazy.commands[name]
        assert type(built) is type(cmd) and built.help == cmd.help
        assert [p.opts for p in built.params] == [p.opts for p in cmd.params]
        assert sorted(getattr(built, "commands", {})) == sorted(getattr(cmd, "commands", {}))
    assert [p.opts for p in lazy.params] == [p.opts for p in eager.params]
