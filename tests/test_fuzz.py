"""Property tests: any text extracts without error and with true spans; any body is either
a valid report or a clear InvalidReport."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ringtrace.errors import InvalidReport
from ringtrace.indicators import extract_text
from ringtrace.intake.received import receive

_pieces = st.sampled_from(
    ["+852 6123 4567", "00852", "hxxp://", "[.]", "(dot)", "@", ".", ":", "t.me/", "1.2.3.4",
     "example.com", "chat-priv.top/app.apk", "請", "வ", "한", " ", "\n", "0", "9", "-", "/"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(_pieces, st.text(max_size=8)), max_size=40),
    st.sampled_from([None, "HK", "SG", "IN"]),
)
def test_extraction_spans_always_match_the_input(parts: list[str], country: str | None) -> None:
    text = "".join(parts)
    for ind in extract_text(text, country):
        assert ind.value
        for occ in ind.occurrences:
            assert text[occ.start : occ.end] == occ.raw


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "external_id": _json,
            "received_at": st.sampled_from(["2024-07-02T21:14:00+08:00", "x"]),
            "narrative": _json, "payments": _json, "offender_identifiers": _json,
            "attachments": _json, "reporter": _json, "messages": _json, "tlp": _json,
        },
    )
)  # fmt: skip
def test_any_document_is_accepted_or_refused_clearly(doc: dict[str, object]) -> None:
    try:
        rec = receive(json.dumps(doc))
    except InvalidReport as e:
        assert str(e)
    else:
        assert rec.doc.external_id


_pathological = st.sampled_from(
    ["1", ".", "@", "a.", "1.", "a@", "1 ", "+1 ", "[.]", "-", "a-", "www.", "http://", "0x",
     "1A", "a:", "1:", "(", "請", "t.me/", "@a", "00"]
).flatmap(lambda p: st.integers(1, 3000).map(lambda n: p * n))  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(_pathological, min_size=1, max_size=4), st.sampled_from([None, "SG", "IN"]))
def test_pathological_repetitions_extract_cleanly(parts: list[str], country: str | None) -> None:
    text = " ".join(parts)
    for ind in extract_text(text, country):
        for occ in ind.occurrences:
            assert text[occ.start : occ.end] == occ.raw


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=4000))
def test_binary_junk_never_raises(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    for ind in extract_text(text, "HK"):
        assert ind.occurrences
