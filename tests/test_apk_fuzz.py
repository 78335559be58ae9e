"""Fuzzing the hand-written DEX reader with mutated real DEX files: any input gives a result
or a clean :class:`ApkError`, never another exception and never a hang.

The seeds are the DEX files of the fixture apps (assembled here from their smali) and, when
../shared/data/real-apks is present, the malware sample's classes.dex (built by another
toolchain, in 2010). Mutations flip bytes, overwrite 32-bit words (the header's table sizes
and offsets among them), truncate and splice."""

from __future__ import annotations

import signal
import struct
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringtrace.apk import analysis
from ringtrace.apk.analysis import ApkError, analyze_dex
from ringtrace.apk.dex import DexError
from ringtrace.apk.endpoints import Collector
from tests.apk_build import HERE

pytestmark = pytest.mark.slow

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-apks"


@lru_cache(maxsize=1)
def _seeds() -> tuple[bytes, ...]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for app in ("stealer", "toolchain"):
            dex = Path(tmp) / f"{app}.dex"
            cmd = ["smali", "assemble", "--api", "21", "-o", str(dex), str(HERE / app / "smali")]
            subprocess.run(cmd, check=True, capture_output=True)
            out.append(dex.read_bytes())
    sample = REAL / "f9bfec4403b573581c4d3807fb1bb3d2.apk"
    if sample.is_file():
        out.append(zipfile.ZipFile(sample).read("classes.dex"))
    return tuple(out)


_INTERESTING = st.sampled_from([0, 1, 0x70, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF])
_WORD = st.one_of(_INTERESTING, st.integers(0, 2**32 - 1))
_mutation = st.one_of(
    st.tuples(st.just("byte"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("word"), st.floats(0, 1), _WORD),
    st.tuples(st.just("header"), st.integers(0x20, 0x6C), _WORD),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("splice"), st.floats(0, 1), st.integers(1, 4096)),
)  # fmt: skip


def _mutate(data: bytes, mutations: list[tuple[str, float, int]]) -> bytes:
    buf = bytearray(data)
    for kind, where, value in mutations:
        if len(buf) <= 8:
            break
        # Past the magic: a file that is not a DEX at all is refused at once and teaches little.
        pos = 8 + int(where * (len(buf) - 9)) if kind != "header" else int(where)
        if kind == "byte":
            buf[pos] = value
        elif kind in ("word", "header") and pos + 4 <= len(buf):
            pos -= pos % 4
            struct.pack_into("<I", buf, pos, value)
        elif kind == "truncate":
            del buf[pos:]
        elif kind == "splice":  # a copy of another part of the file, as a packer might leave
            src = int(where * 7919) % len(buf)
            buf[pos:pos] = buf[src : src + value]
    return bytes(buf)


@contextmanager
def _watchdog(seconds: int) -> Iterator[None]:
    def hung(signum: int, frame: object) -> None:
        raise TimeoutError(f"the DEX reader ran for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _analyse(data: bytes) -> None:
    """What analyze_bytes does with one DEX: behaviours, endpoints, the call-graph step."""
    dex, findings = analyze_dex(data, "classes.dex", Collector())
    try:
        for reader in ("reads_contacts", "reads_sms"):
            analysis._exfiltration(findings, [dex], reader)
    except DexError as e:  # analyze_bytes turns this into ApkError too
        raise ApkError("not_apk", str(e)) from None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2), mutations=st.lists(_mutation, min_size=1, max_size=6))
def test_any_mutated_dex_gives_a_result_or_a_clean_error(
    seed: int, mutations: list[tuple[str, float, int]]
) -> None:
    seeds = _seeds()
    data = _mutate(seeds[seed % len(seeds)], mutations)
    with _watchdog(30):
        try:
            _analyse(data)
        except ApkError as e:
            assert e.code == "not_apk" and e.message


def test_the_seeds_themselves_analyse() -> None:
    for data in _seeds():
        _analyse(data)
