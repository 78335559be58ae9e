"""The cycle collector is off while extraction runs, and left as it was found afterwards."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from ringtrace.indicators import extract_text, registry
from ringtrace.indicators.collector_pause import MIN_CHARS, paused
from ringtrace.indicators.registry import Context, text_extractors


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_off_inside_and_back_on_after() -> None:
    gc.enable()
    with paused(MIN_CHARS):
        assert not gc.isenabled()
        with paused(MIN_CHARS):  # nested (a report's extraction scanning its texts)
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_left_off_when_the_caller_had_turned_it_off() -> None:
    gc.disable()
    with paused(MIN_CHARS):
        pass
    assert not gc.isenabled()


def test_back_on_after_an_error() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), paused(MIN_CHARS):
        raise RuntimeError("an extractor bug")
    assert gc.isenabled()


def test_threads_share_it_and_the_last_to_leave_turns_it_on() -> None:
    gc.enable()
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with paused(MIN_CHARS):
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(5)
    with paused(MIN_CHARS):
        pass
    assert not gc.isenabled(), "the other thread's extraction is still running"
    leave.set()
    t.join(5)
    assert gc.isenabled()


def test_a_short_text_leaves_it_alone() -> None:
    gc.enable()
    with paused(MIN_CHARS - 1):
        assert gc.isenabled()
    gc.disable()
    with paused(MIN_CHARS - 1):
        assert not gc.isenabled()


def test_the_lowered_copy_is_not_kept_after_extraction() -> None:
    text = "write to nina.k7151@example.org now"
    extract_text(text)
    assert registry._last_lowered[0] is not text


@pytest.mark.parametrize(("repeat", "off_inside"), [(1, False), (MIN_CHARS // 30, True)])
def test_extraction_pauses_it_for_a_long_text_and_restores_it(
    monkeypatch: pytest.MonkeyPatch, repeat: int, off_inside: bool
) -> None:
    seen: list[bool] = []
    ex = next(e for e in text_extractors() if e.name == "email")
    original = ex.extract

    def spy(text: str, ctx: Context) -> object:
        seen.append(gc.isenabled())
        return original(text, ctx)

    monkeypatch.setattr(ex, "extract", spy)
    gc.enable()
    text = " ".join(["write to nina.k7151@example.org now."] * repeat)
    found = extract_text(text)
    assert [i.value for i in found if i.type == "email"] == ["nina.k7151@example.org"]
    assert seen == [not off_inside]
    assert gc.isenabled()
