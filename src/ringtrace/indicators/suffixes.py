"""Public suffixes: which trailing labels of a host anyone can register under.

The rules are the Public Suffix List snapshot that tldextract bundles (private section
included; never fetched at run time), and the matching is tldextract's, label for label, so
every key stays what it was. What differs is the cost: tldextract's module pulls in
``requests``, a disk cache and file locks before it parses the list, ~80 ms that a short
command such as ``ringtrace apk analyze`` paid at every start. Here the snapshot is read once,
on first use, into two sets of strings (tests/test_suffixes.py checks the answers against
tldextract's own on every rule of the list).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from ringtrace.errors import ConfigurationError

_RULE = re.compile(r"^(?P<suffix>[.*!]*\w[\S]*)", re.UNICODE | re.MULTILINE)
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")


class _Rules:
    """The list as a trie whose nodes are named by their path: ``"co.uk"`` is the node reached
    by ``uk`` then ``co``. ``nodes`` holds every node, ``ends`` those that end a rule."""

    def __init__(self, rules: list[str]) -> None:
        nodes = set(rules)
        for rule in rules:
            dot = rule.find(".")
            while dot != -1:
                tail = rule[dot + 1 :]
                if tail in nodes:
                    break  # a rule, or a node added with all its own tails already
                nodes.add(tail)
                dot = rule.find(".", dot + 1)
        self.nodes = frozenset(nodes)
        self.ends = frozenset(rules)


def snapshot_path() -> Path:
    """tldextract's bundled snapshot, found without importing tldextract."""
    spec = find_spec("tldextract")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("tldextract is not installed: its Public Suffix List is needed")
    return Path(next(iter(spec.submodule_search_locations))) / ".tld_set_snapshot"


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    text = snapshot_path().read_text(encoding="utf-8")
    # Public and private sections alike (tldextract's include_psl_private_domains=True).
    return _Rules([m.group("suffix") for m in _RULE.finditer(text)])


def rule_set() -> frozenset[str]:
    """Every rule of the list (``com``, ``co.uk``, ``*.ck``, ``!www.ck``)."""
    return _rules().ends


def _decode_punycode(label: str) -> str:
    lowered = label.lower()
    if lowered.startswith("xn--"):
        import idna  # only for internationalised labels

        try:
            return str(idna.decode(lowered))
        except (UnicodeError, IndexError):
            pass
    return lowered


def _suffix_index(labels: list[str]) -> int | None:
    """The index of the first label of the public suffix (tldextract's ``suffix_index``)."""
    rules = _rules()
    path: str | None = None  # the root
    suffix_idx = label_idx = len(labels)
    for label in reversed(labels):
        decoded = _decode_punycode(label)
        child = decoded if path is None else f"{decoded}.{path}"
        if child in rules.nodes:
            label_idx -= 1
            path = child
            if child in rules.ends:
                suffix_idx = label_idx
            continue
        if ("*" if path is None else f"*.{path}") in rules.nodes:
            exception = f"!{decoded}" if path is None else f"!{decoded}.{path}"
            return label_idx if exception in rules.nodes else label_idx - 1
        break
    return None if suffix_idx == len(labels) else suffix_idx


def _netloc(text: str) -> str:
    """The host part of a URL-like string (tldextract's ``lenient_netloc``)."""
    slashes = text.find("//")
    if slashes == 0:
        text = text[2:]
    elif slashes >= 2 and text[slashes - 1] == ":" and not set(text[: slashes - 1]) - _SCHEME_CHARS:
        text = text[slashes + 2 :]
    authority = text.partition("/")[0].partition("?")[0].partition("#")[0]
    after_userinfo = authority.rpartition("@")[-1]
    if after_userinfo and after_userinfo[0] == "[":
        bracketed = after_userinfo.partition("]")
        if bracketed[1] == "]":
            return f"{bracketed[0]}]"
    return after_userinfo.partition(":")[0].strip().rstrip(".\u3002\uff0e\uff61")


def _is_ipv6(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def split_host(host: str) -> tuple[str, str]:
    """``(domain label, public suffix)`` of a host: ``("bbc", "co.uk")`` for
    ``news.bbc.co.uk``. Either is empty when there is none (an IP address, a bare suffix, a
    name under no known suffix)."""
    netloc = _netloc(host).replace("\u3002", ".").replace("\uff0e", ".").replace("\uff61", ".")
    if len(netloc) >= 4 and netloc[0] == "[" and netloc[-1] == "]" and _is_ipv6(netloc[1:-1]):
        return "", ""  # an IPv6 literal has no suffix
    labels = netloc.split(".")
    idx = _suffix_index(labels)
    if idx is None:
        return "", ""
    return (labels[idx - 1] if idx > 0 else ""), ".".join(labels[idx:])
