"""The public-suffix split gives tldextract's answer for every rule of the bundled list."""

from __future__ import annotations

import re

import pytest
import tldextract
from hypothesis import given, settings
from hypothesis import strategies as st

from ringtrace.indicators import suffixes
from ringtrace.indicators.network import registrable_domain

REFERENCE = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)


def _theirs(host: str) -> tuple[str, str]:
    parts = REFERENCE(host)
    return (parts.domain, parts.suffix) if parts.suffix and parts.domain else ("", "")


def _ours(host: str) -> tuple[str, str]:
    label, suffix = suffixes.split_host(host)
    return (label, suffix) if label and suffix else ("", "")


def _rules() -> list[str]:
    text = suffixes.snapshot_path().read_text(encoding="utf-8")
    return re.findall(r"^([.*!]*\w\S*)", text, re.M)


def test_every_rule_of_the_list() -> None:
    rules = _rules()
    assert len(rules) > 5000
    hosts = []
    for rule in rules:
        bare = rule.lstrip("!").replace("*", "w1")
        hosts += [bare, f"ring.{bare}", f"a.b.{bare}", f"www.{bare}", f"xn--80ak6aa92e.{bare}"]
    wrong = [h for h in hosts if _ours(h) != _theirs(h)]
    assert not wrong, wrong[:10]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("ring.blogspot.com", "ring.blogspot.com"),  # a private suffix
        ("a.b.kawasaki.jp", "a.b.kawasaki.jp"),  # a wildcard rule
        ("x.city.kawasaki.jp", "city.kawasaki.jp"),  # its exception
        ("xn--80ak6aa92e.com", "xn--80ak6aa92e.com"),
        ("mainactivity.java", "mainactivity.java"),  # .java is a real TLD
        ("r.notatld", None),
        ("co.uk", None),
        ("10.0.0.1", None),
    ],
)
def test_examples(host: str, expected: str | None) -> None:
    assert registrable_domain(host) == expected


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(["com", "uk", "co", "jp", "kawasaki", "city", "*", "!www", "www",
                         "xn--p1ai", "xn--", "", "github", "io", "s3", "amazonaws", "ck",
                         "[::1]", "a:80", "u@h", "//", "。", "ＣＯＭ"]),
        min_size=1, max_size=6,
    ).map(".".join)
)  # fmt: skip
def test_odd_hosts_agree(host: str) -> None:
    assert _ours(host) == _theirs(host)
