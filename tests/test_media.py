"""Perceptual hashing: Meta's reference vectors, the exact index, videos, the takedown list and
lure-image suggestions."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ringtrace.cli import app
from ringtrace.errors import Conflict, InvalidMedia
from ringtrace.media import dihedral_hashes, hamming, hash_image
from ringtrace.media.index import (
    BruteForceIndex,
    SlotTableIndex,
    load_index,
    make_index,
)
from ringtrace.media.video import compare_videos, hash_video
from ringtrace.services import decisions, erasure, relink, suggestion_finder
from ringtrace.services.intake import import_lines
from ringtrace.store import Store
from ringtrace.store.media import SyncedIndex
from tests.conftest import DATA
from tests.factories import line, report

PDQ_DIR = DATA / "pdq"
EXPECTED = {
    r["file"]: r["pdq_hex"]
    for r in csv.DictReader(io.StringIO((PDQ_DIR / "expected.csv").read_text()))
}


# -- images: Meta's reference vectors ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_hashes_reproduced(name: str) -> None:
    from PIL import Image

    path = PDQ_DIR / "images" / name
    with Image.open(path) as im:
        longest = max(im.size)
    h = hash_image(path)
    if longest <= 512:
        assert h.pdq == EXPECTED[name]
    else:
        assert hamming(h.pdq, EXPECTED[name]) <= 10
    # Meta's quality for these: 0 for the flat small.jpg, 100 for every other image.
    assert h.quality == (0 if name == "small.jpg" else 100)
    assert h.usable == (name != "small.jpg")
    assert h.preprocessing == "exif-rgb-thumb512/v1"


def test_reference_hashes_of_the_large_images_are_exact_too() -> None:
    # The fixed downscale is what makes Meta's hashes reproduce bit for bit (README of the data).
    exact = [n for n in EXPECTED if hash_image(PDQ_DIR / "images" / n).pdq == EXPECTED[n]]
    assert sorted(exact) == sorted(EXPECTED)


def test_dihedral_hashes_match_the_rotated_files() -> None:
    hashes = dihedral_hashes(PDQ_DIR / "images" / "bridge-1-original.jpg")
    files = sorted(n for n in EXPECTED if n.startswith("bridge-"))
    assert list(hashes) == [
        "original", "rotate90", "rotate180", "rotate270",
        "flipx", "flipy", "flipplus1", "flipminus1",
    ]  # fmt: skip
    for (name, h), f in zip(hashes.items(), files, strict=True):
        # The rotated files were re-encoded as JPEG, so a few bits move; far below 31.
        assert hamming(h.pdq, EXPECTED[f]) <= 20, (name, f)
        others = [hamming(h.pdq, EXPECTED[g]) for g in files if g != f]
        assert min(others) > 90


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    from PIL import Image

    with Image.open(PDQ_DIR / "images" / "bridge-1-original.jpg") as im:
        src = im.convert("RGB")
    upright = tmp_path / "upright.png"
    src.save(upright)
    # The same picture stored sideways, with an EXIF tag telling viewers to turn it back.
    sideways = src.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    tagged = tmp_path / "tagged.jpg"
    sideways.save(tagged, exif=exif, quality=95)
    assert hamming(hash_image(upright).pdq, hash_image(tagged).pdq) <= 12
    untagged = tmp_path / "untagged.jpg"
    sideways.save(untagged, quality=95)
    assert hamming(hash_image(upright).pdq, hash_image(untagged).pdq) > 60


def test_bad_images_give_clear_errors(tmp_path: Path) -> None:
    from PIL import Image

    data = (PDQ_DIR / "images" / "wee.jpg").read_bytes()
    with pytest.raises(InvalidMedia, match="not a readable image"):
        hash_image(data[: len(data) // 3])
    with pytest.raises(InvalidMedia, match="not a readable image"):
        hash_image(b"%PDF-1.4 not an image")
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12_000, 12_000)).save(bomb)  # 144 megapixels in a few kilobytes
    assert bomb.stat().st_size < 100_000
    with pytest.raises(InvalidMedia, match="too large"):
        hash_image(bomb)
    with pytest.raises(InvalidMedia, match="no such file"):
        hash_image(tmp_path / "missing.jpg")


# -- the index -------------------------------------------------------------------------------


def _flip(h: np.ndarray, bits: np.ndarray) -> np.ndarray:
    out = h.copy()
    for b in bits:
        out[b // 8] ^= 1 << (b % 8)
    return out


def _corpus(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Stored hashes and queries with near copies at every distance from 0 to 48."""
    rng = np.random.default_rng(seed)
    stored = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    queries = []
    for d in range(49):
        queries.append(_flip(stored[d], rng.choice(256, d, replace=False)))
    queries += list(rng.integers(0, 256, (20, 32), dtype=np.uint8))
    return stored, np.stack(queries)


@pytest.mark.parametrize("threshold", [0, 15, 31, 47])
def test_indexes_are_exact_at_the_threshold(threshold: int) -> None:
    stored, queries = _corpus(30_000)
    ids = list(range(1000, 1000 + len(stored)))
    results = {}
    for cls in (BruteForceIndex, SlotTableIndex):
        idx = cls()
        idx.add(ids, stored)
        results[cls.kind] = idx.search(queries, threshold)
    truth = results["bruteforce"]
    assert results["slot-tables"] == truth
    # The planted near copy at distance d is found exactly when d <= threshold.
    for d in range(49):
        found = dict(truth[d])
        assert (1000 + d in found) == (d <= threshold)
        if d <= threshold:
            assert found[1000 + d] == d


def test_slot_tables_grow_incrementally_and_persist(tmp_path: Path) -> None:
    stored, queries = _corpus(10_000, seed=3)
    idx = SlotTableIndex()
    idx.add(list(range(5000)), stored[:5000])  # indexed (above the pending limit)
    idx.add(list(range(5000, 5100)), stored[5000:5100])  # waits in the pending buffer
    near = _flip(stored[5050], np.arange(20))
    assert idx.search(near[None, :])[0] == [(5050, 20)]
    idx.save(tmp_path / "ix")
    again = load_index(tmp_path / "ix")
    assert len(again) == 5100
    assert again.search(queries) == idx.search(queries)
    assert isinstance(make_index(10), BruteForceIndex)
    assert isinstance(make_index(1_000_000), SlotTableIndex)
    with pytest.raises(InvalidMedia):
        load_index(tmp_path / "nothing-here")
    with pytest.raises(InvalidMedia):
        idx.search(["0" * 63])


def test_synced_index_adds_only_new_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    hexes = [bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex() for _ in range(30)]
    synced = SyncedIndex(tmp_path / "lure")
    idx = synced.open([(i + 1, h) for i, h in enumerate(hexes[:20])])
    assert len(idx) == 20
    state = json.loads((tmp_path / "lure" / "synced.json").read_text())
    assert state == {"last_id": 20}
    idx = synced.open([(i + 1, h) for i, h in enumerate(hexes)])
    assert len(idx) == 30
    assert idx.search([hexes[25]], 0) == [[(26, 0)]]
    assert json.loads((tmp_path / "lure" / "synced.json").read_text()) == {"last_id": 30}


# -- videos ------------------------------------------------------------------------------------


def _scene(seed: int | None, w: int, h: int) -> np.ndarray:
    if seed is None:
        return np.zeros((h, w, 3), dtype=np.uint8)  # a black frame: quality 0
    small = np.random.default_rng(seed).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    return np.kron(small, np.ones((h // 12, w // 16, 1), dtype=np.uint8))


def make_video(
    path: Path, scenes: list[int | None], *, w: int = 320, h: int = 240, fps: int = 5
) -> Path:
    """A synthetic video, one second per scene (built here, never downloaded)."""
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for seed in scenes:
            frame = av.VideoFrame.from_ndarray(_scene(seed, w, h), format="rgb24")
            for _ in range(fps):
                for packet in s.encode(frame):
                    c.mux(packet)
        for packet in s.encode():
            c.mux(packet)
    return path


def test_video_bags_of_frames(tmp_path: Path) -> None:
    original = hash_video(make_video(tmp_path / "a.mp4", [1, 2, 3, 4, None, 5, 6, 7, 8, 9, 10]))
    assert original.sampled == 11  # one frame a second
    assert len(original.frames) == 10  # the black second is dropped
    assert all(f.quality >= 50 for f in original.frames)
    # A re-encoded, smaller, trimmed copy matches; another video does not.
    copy = hash_video(make_video(tmp_path / "b.mp4", [3, 4, 5, 6, 7, 8, 9, 10], w=240, h=180))
    other = hash_video(make_video(tmp_path / "c.mp4", [101, 102, 103, 104, 105]))
    c = compare_videos(copy, original)
    assert c.query_pct == 100.0 and c.compared_pct == 80.0 and c.matches()
    assert compare_videos(original, copy).query_pct == 80.0
    assert not compare_videos(original, other).matches()
    assert compare_videos(original, other).query_pct == 0.0
    # A static shot counts once, however long it lasts.
    assert len(hash_video(make_video(tmp_path / "s.mp4", [1, 1, 1, 1, 1])).frames) == 1


def test_bad_videos_give_clear_errors(tmp_path: Path) -> None:
    good = make_video(tmp_path / "v.mp4", [1, 2, 3]).read_bytes()
    truncated = tmp_path / "t.mp4"
    truncated.write_bytes(good[: len(good) // 4])
    with pytest.raises(InvalidMedia):
        hash_video(truncated)
    junk = tmp_path / "j.mp4"
    junk.write_bytes(b"\x00" * 5000)
    with pytest.raises(InvalidMedia):
        hash_video(junk)


# -- in the store: the takedown list and lure-image suggestions ----------------------------


def _pdq(name: str) -> str:
    return EXPECTED[name]


def test_takedown_lifecycle_audit_and_export(store: Store) -> None:
    own = {"hash": _pdq("c.png"), "quality": 100, "role": "own"}
    import_lines(store, [line(report(external_id="V-1", media_hashes=[own]))])
    [entry] = store.media.takedown_entries()
    assert entry["status"] == "received" and entry["pdq"] == _pdq("c.png")
    ref = entry["reference"]
    with pytest.raises(Conflict, match="received"):
        store.media.set_takedown_status(ref, "removed", reason="skips review")
    assert store.media.set_takedown_status(ref, "active", reason="reviewed") == "received"
    assert store.media.set_takedown_status(ref, "removed", reason="platform confirmed") == "active"
    entries = store.audit.entries([f"takedown:{ref}"])
    assert [(json.loads(e.details)["from"], json.loads(e.details)["to"]) for e in entries] == [
        ("received", "active"), ("active", "removed"),
    ]  # fmt: skip
    store.media.set_takedown_status(ref, "active", reason="seen again")
    from ringtrace.media.files import takedown_export

    exported = list(
        csv.DictReader(io.StringIO(takedown_export(store.media.takedown_entries("active"))))
    )
    assert exported == [{
        "signal_type": "pdq", "signal_value": _pdq("c.png"), "quality": "100",
        "reference": ref, "status": "active", "updated_at": exported[0]["updated_at"],
    }]  # fmt: skip
    # Matching finds the entry by a near copy of the image.
    found = store.media.match([hash_image(PDQ_DIR / "images" / "c.png").pdq])[0]
    assert [(m["kind"], m["reference"], m["distance"]) for m in found] == [("takedown", ref, 0)]
    # The victim withdraws: the entry leaves the list for good.
    from ringtrace.domain.models import ReportRef

    erasure.withdraw(store, ReportRef("test-agency", "V-1"), reason="asked by the victim")
    assert store.media.takedown_entries()[0]["status"] == "withdrawn"
    assert store.media.takedown_entries("active") == []
    assert store.media.match([_pdq("c.png")])[0] == []
    with pytest.raises(Conflict):
        store.media.set_takedown_status(ref, "active", reason="withdrawn is final")


def test_shared_lure_image_is_suggested_never_merged(store: Store) -> None:
    lure = {"hash": _pdq("bridge-1-original.jpg"), "quality": 100, "role": "lure"}
    # The same photo, re-encoded (7 bits away), in a second report with nothing else shared.
    near = hash_image(PDQ_DIR / "images" / "bridge-1-original.jpg").pdq
    other = {"hash": _pdq("wee.jpg"), "quality": 100, "role": "lure"}
    flat = {"hash": _pdq("small.jpg"), "quality": 0, "role": "lure"}
    import_lines(store, [
        line(report(external_id="L-1", media_hashes=[lure, flat])),
        line(report(external_id="L-2", media_hashes=[{**lure, "hash": near}])),
        line(report(external_id="L-3", media_hashes=[other, flat])),
    ])  # fmt: skip
    assert store.clusters.many() == []  # nothing merges on an image
    assert suggestion_finder.refresh(store) == 1
    [s] = store.suggestions.find()
    assert s["kind"] == "lure_image"
    assert {s["a"]["external_id"], s["b"]["external_id"]} == {"L-1", "L-2"}
    assert store.clusters.many() == []
    # Low-quality hashes (flat images) never match, although L-1 and L-3 share one.
    assert suggestion_finder.refresh(store) == 0
    decisions.decide_suggestion(store, s["id"], accept=True, reason="same stolen profile photo")
    assert len(store.clusters.many()) == 1
    # A rebuild keeps the lure hashes (derived from the documents).
    from ringtrace.indicators import extract_report

    relink.rebuild(store, extract_report)
    found = store.media.match([_pdq("bridge-1-original.jpg")])[0]
    assert sorted(m["report"]["external_id"] for m in found) == ["L-1", "L-2"]


def test_invalid_media_hashes_are_refused(sqlite_store: Store) -> None:
    from ringtrace.errors import ImportFailed

    bad = report(media_hashes=[{"hash": "xyz", "role": "own"}])
    with pytest.raises(ImportFailed, match=r"media_hashes\.0\.hash"):
        import_lines(sqlite_store, [line(bad)])
    bad = report(media_hashes=[{"hash": "0" * 64, "role": "victim"}])
    with pytest.raises(ImportFailed, match=r"media_hashes\.0\.role"):
        import_lines(sqlite_store, [line(bad)])


# -- the CLI ------------------------------------------------------------------------------


def test_cli_media_hash_contract(tmp_path: Path) -> None:
    runner = CliRunner()
    files = [str(PDQ_DIR / "images" / n) for n in ("wee.jpg", "small.jpg")]
    result = runner.invoke(app, ["media", "hash", *files, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["hashes"]
    assert [(Path(r["file"]).name, r["pdq"], r["quality"]) for r in rows] == [
        ("wee.jpg", _pdq("wee.jpg"), 100), ("small.jpg", _pdq("small.jpg"), 0),
    ]  # fmt: skip
    assert [r["usable"] for r in rows] == [True, False]
    video = make_video(tmp_path / "v.mp4", [1, 2, 3])
    (tmp_path / "junk.jpg").write_bytes(b"junk")
    result = runner.invoke(app, ["media", "hash", str(video), str(tmp_path / "junk.jpg"), "--json"])
    assert result.exit_code == 2
    rows = json.loads(result.stdout)["hashes"]
    assert [r.get("frame_second") for r in rows[:3]] == [0.0, 1.0, 2.0]
    assert rows[3]["error"]["code"] == "invalid_media"


def test_cli_takedown_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"RINGTRACE_DATA_DIR": str(tmp_path / "data")}
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    doc = report(media_hashes=[{"hash": _pdq("wee.jpg"), "quality": 100, "role": "own"}])
    (tmp_path / "r.jsonl").write_text(line(doc) + "\n")
    assert runner.invoke(app, ["import", str(tmp_path / "r.jsonl")], env=env).exit_code == 0
    listed = json.loads(runner.invoke(app, ["takedown", "list", "--json"], env=env).stdout)
    ref = listed["entries"][0]["reference"]
    r = runner.invoke(app, ["takedown", "status", ref, "active"], env=env)
    assert r.exit_code != 0  # a reason is required
    r = runner.invoke(
        app, ["takedown", "status", ref, "active", "--reason", "reviewed by the helpline"], env=env
    )
    assert r.exit_code == 0 and "received -> active" in r.stdout
    out = tmp_path / "list.csv"
    r = runner.invoke(app, ["takedown", "export", "--output", str(out)], env=env)
    assert r.exit_code == 0, r.output
    assert out.read_text().splitlines()[1].startswith(f"pdq,{_pdq('wee.jpg')},100,{ref},active")
    r = runner.invoke(app, ["media", "match", str(PDQ_DIR / "images" / "wee.jpg")], env=env)
    assert r.exit_code == 0 and ref in r.stdout
