"""Images and videos: `media hash`, `media match`, `media compare` and the `takedown` list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ringtrace.cli.base import handle_errors, open_store, settings

media_app = typer.Typer(
    help="Perceptual hashes of images and videos (PDQ); images are never stored.",
    no_args_is_help=True,
)
takedown_app = typer.Typer(
    help="The takedown list: hashes of victims' own images, with their status.",
    no_args_is_help=True,
)


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
    from ringtrace.services.media import hash_files

    done = hash_files(files, dihedral=dihedral)
    if as_json:
        typer.echo(json.dumps({"hashes": done.rows}, indent=2))
    else:
        for f, e in done.failed:
            typer.echo(f"error: {f}: {e}", err=True)
        for r in done.rows:
            if "error" in r:
                continue
            extra = f" t={r['frame_second']}s" if "frame_second" in r else ""
            extra += f" {r['transform']}" if "transform" in r else ""
            low = "" if r["usable"] else "  (quality below 50: not used for matching)"
            typer.echo(f"{r['pdq']} {r['quality']:3d} {r['file']}{extra}{low}")
    if done.failed:
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
    from ringtrace.media.pdq import MIN_QUALITY
    from ringtrace.services.media import match_items

    with open_store(settings(ctx)) as store:
        out = match_items(store, items, threshold)
    if out is None:
        typer.echo(f"nothing to match (every hash had quality below {MIN_QUALITY})", err=True)
        raise typer.Exit(1)
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
    with open_store(settings(ctx)) as store:
        rows = store.media.takedown_entries(status)
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
    with open_store(settings(ctx)) as store:
        old = store.media.set_takedown_status(reference, status, reason=reason)
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

    with open_store(settings(ctx)) as store:
        rows = store.media.takedown_entries(status)
    output.write_text(takedown_export(rows, fmt), encoding="utf-8")
    typer.echo(f"{len(rows)} {status} entr{'y' if len(rows) == 1 else 'ies'} written to {output}")
