"""APK analysis on apps built from source here (tests/apk_fixtures, tests/apk_build.py):
planted facts found, nothing invented for the benign app, hostile files refused cleanly, and
reports linked through the app's signing key."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ringtrace.apk.analysis import ApkError
from ringtrace.apk.sandbox import SandboxLimits, analyze_isolated
from ringtrace.cli import app
from ringtrace.domain.models import ReportRef
from ringtrace.indicators import extract_report
from ringtrace.services import apk_jobs, relink
from ringtrace.services.intake import import_lines
from ringtrace.settings import Settings
from ringtrace.store import Store
from tests.factories import line, report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def analysed(apks: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {
        name: analyze_isolated(path)
        for name, path in apks.items()
        if name
        in ("stealer", "sibling", "benign", "unsigned", "packed", "toolchain", "other_author")
    }


def _ids(r: dict[str, Any]) -> list[str]:
    return [b["id"] for b in r["behaviours"]]


def _evidence(r: dict[str, Any], bid: str) -> list[dict[str, Any]]:
    return next(b["evidence"] for b in r["behaviours"] if b["id"] == bid)


def test_stealer_every_planted_fact(analysed: dict[str, dict[str, Any]]) -> None:
    r = analysed["stealer"]
    assert (r["package"], r["label"], r["version_code"], r["version_name"]) == (
        "com.privatechat.app", "PrivateChat", "7", "2.3.1",
    )  # fmt: skip
    assert (str(r["min_sdk"]), str(r["target_sdk"])) == ("21", "28")
    assert r["signed"] and len(r["certificates"]) == 1
    cert = r["certificates"][0]
    assert cert["schemes"] == ["v1", "v2", "v3"]
    assert "ring developer" in cert["subject"] and len(cert["sha256"]) == 64
    assert [d["name"] for d in r["dex"]] == ["classes.dex"] and len(r["dex"][0]["sha256"]) == 64
    assert {p["name"]: p["protection_level"] for p in r["permissions"]} == {
        "android.permission.INTERNET": "normal|instant",
        "android.permission.READ_CONTACTS": "dangerous",
        "android.permission.READ_SMS": "dangerous",
    }
    assert _ids(r) == [
        "contacts_exfiltration", "sms_exfiltration", "reads_contacts", "reads_sms", "uploads_http",
        "hides_icon",
    ]  # fmt: skip
    main = "Lcom/privatechat/app/MainActivity;"
    [chain] = _evidence(r, "contacts_exfiltration")
    assert chain["method"] == f"{main}->onCreate"
    assert chain["reads_via"] == [f"{main}->onCreate", f"{main}->collect"]
    assert chain["sends_via"] == [f"{main}->onCreate", "Lcom/privatechat/app/Uploader;->send"]
    [read] = _evidence(r, "reads_contacts")
    assert read["method"] == f"{main}->collect"
    assert read["call"].endswith("ContactsContract$CommonDataKinds$Phone;->CONTENT_URI")
    assert _evidence(r, "reads_sms")[0]["call"] == "'content://sms/inbox'"
    assert (
        _evidence(r, "uploads_http")[0]["call"] == "Ljava/net/HttpURLConnection;->getOutputStream"
    )
    assert _evidence(r, "hides_icon")[0]["method"] == f"{main}->hideIcon"
    # The server, planted in the code, the resources, an asset and a native library: one
    # link key with where and how each sighting was used.
    # The ring's Telegram bot: its number is a link key; the secret token is never kept.
    [bot] = r["bots"]
    assert (bot["key"], bot["service"]) == ("telegram-bot:5012345678", "Telegram bot")
    assert bot["found_in"] == ["classes.dex Lcom/privatechat/app/Uploader;->notify"]
    assert "NotARealBotToken" not in json.dumps(r)
    assert ("messaging_bot", "telegram-bot:5012345678") in _keys(r)
    [ep] = [e for e in r["endpoints"] if e["link_key"]]
    assert (ep["type"], ep["value"], ep["owner"]) == ("domain", "chat-priv.top", "app")
    assert ep["found_in"] == [
        "classes.dex", "resources.arsc", "assets/config.json", "lib/x86_64/librelay.so",
    ]  # fmt: skip
    assert (ep["usage"], ep["confidence"]) == ("network", "high")
    assert {u["url"]: u["confidence"] for u in ep["urls"]} == {
        "http://api.chat-priv.top/v1/upload": "high",  # handed to URL, then posted to
        "https://cdn.chat-priv.top/app/config": "high",  # string/server_url
        "ws://push.chat-priv.top:9001/ws": "high",  # a configuration asset
        "tcp://gate.chat-priv.top:7000": "low",  # a native string, no network imports
    }
    where = {(w["file"], w.get("method") or w.get("resource"), w["usage"]) for w in ep["where"]}
    assert ("classes.dex", "Lcom/privatechat/app/Uploader;->send", "network") in where
    assert ("resources.arsc", "string/server_url", "configuration") in where
    call = next(w for w in ep["where"] if w["file"] == "classes.dex")
    assert call["via"] == "Ljava/net/URL;-><init>"
    # The platform's schema URL is everybody's; templates and carrier proxies are noise.
    context = {e["value"]: e["owner"] for e in r["endpoints"] if not e["link_key"]}
    assert context == {"android.com": "third_party", "telegram.org": "third_party"}
    ignored = {e["value"]: e["reason"] for e in r["ignored_endpoints"]}
    assert set(ignored) == {"0.0.0.0", "10.0.0.172"}
    assert r["packer_signs"] == []
    assert r["risk"]["level"] == "critical"
    assert "sends it off the device" in r["risk"]["reasons"][0]
    assert "hides its launcher icon and takes personal data" in r["risk"]["reasons"]
    assert {d["level"] for d in r["risk"]["drivers"]} == {"critical", "high", "low"}


def test_benign_app_gets_nothing_it_does_not_do(analysed: dict[str, dict[str, Any]]) -> None:
    r = analysed["benign"]
    assert r["package"] == "org.example.contactsbook" and r["label"] == "Contacts Book"
    assert _ids(r) == ["reads_contacts"]
    assert r["endpoints"] == [] and r["ignored_endpoints"] == []
    assert [p["name"] for p in r["permissions"]] == ["android.permission.READ_CONTACTS"]
    assert r["packer_signs"] == []
    assert r["risk"]["level"] == "low"
    assert r["risk"]["reasons"] == ["reads the contact list; no code that sends data was found"]


def test_two_apps_one_key_and_an_unsigned_app(analysed: dict[str, dict[str, Any]]) -> None:
    stealer, sibling, benign = analysed["stealer"], analysed["sibling"], analysed["benign"]
    assert sibling["package"] == "com.securevid.player"
    assert stealer["certificates"][0]["sha256"] == sibling["certificates"][0]["sha256"]
    assert stealer["certificates"][0]["sha256"] != benign["certificates"][0]["sha256"]
    assert _keys(sibling) & _keys(stealer) == {("apk_cert", sibling["certificates"][0]["sha256"])}
    unsigned = analysed["unsigned"]
    assert unsigned["signed"] is False and unsigned["certificates"] == []
    assert unsigned["risk"]["level"] == "medium"
    assert any("not signed" in x for x in unsigned["risk"]["reasons"])


def test_packer_signs(analysed: dict[str, dict[str, Any]]) -> None:
    r = analysed["packed"]
    assert _ids(r) == ["dynamic_code_loading"]
    assert (
        _evidence(r, "dynamic_code_loading")[0]["call"] == "Ldalvik/system/DexClassLoader;-><init>"
    )
    assert len(r["packer_signs"]) == 2
    assert "assets/payload.bin" in r["packer_signs"][0]
    assert r["risk"]["level"] == "high"


def _keys(r: dict[str, Any]) -> set[tuple[str, str]]:
    from ringtrace.apk.keys import link_keys

    return {(i.type, i.value) for i in link_keys(r, "attachments.0", "x.apk") if i.linkable}


def test_what_every_app_carries_is_not_an_endpoint(analysed: dict[str, dict[str, Any]]) -> None:
    """Each false positive seen in real apps, planted in one app built with ordinary libraries
    beside its own Firebase project and one real server call."""
    r = analysed["toolchain"]
    linked = {e["value"]: e for e in r["endpoints"] if e["link_key"]}
    assert set(linked) == {
        "clip-share.top", "clip-share-prod.firebaseio.com", "clip-share-prod.appspot.com",
    }  # fmt: skip
    own = linked["clip-share.top"]
    assert set(own["hosts"]) == {
        "gate.clip-share.top", "push.clip-share.top", "relay.clip-share.top",
        "invite.clip-share.top", "www.clip-share.top", "upload.clip-share.top",
    }  # fmt: skip
    assert {u["url"]: u["confidence"] for u in own["urls"]} == {
        "https://gate.clip-share.top/api/v2/": "high",
        "tcp://relay.clip-share.top:7001": "medium",  # a native library that imports connect
    }
    ways = {(w["file"], w.get("method") or w.get("resource")): w for w in own["where"]}
    # Kept in a static field by <clinit>, read by fetch(), which reaches URL through a helper.
    gate = ways[("classes.dex", "Lcom/clipshare/app/Api;-><clinit>")]
    assert gate["via"] == (
        "Lcom/clipshare/app/Api;->fetch -> Lcom/clipshare/app/Net;->open -> Ljava/net/URL;-><init>"
    )
    push = ways[("classes.dex", "Lcom/clipshare/app/Api;->push")]
    assert push["via"] == "Ljava/net/InetSocketAddress;-><init>"
    assert ways[("AndroidManifest.xml", "intent-filter data host")]["usage"] == "configuration"
    nsc = ("res/xml/network_security_config.xml", "network-security-config domain")
    assert ways[nsc]["usage"] == "configuration"
    fb = linked["clip-share-prod.firebaseio.com"]
    assert (
        fb["service"] == "Firebase" and fb["where"][0]["resource"] == "string/firebase_database_url"
    )
    # SDK and platform hosts are recorded as third-party services, never linked.
    others = {e["value"]: e for e in r["endpoints"] if not e["link_key"]}
    assert others["facebook.com"]["owner"] == "third_party"
    assert others["facebook.com"]["service"] == "Facebook SDK"
    assert others["firebaseinstallations.googleapis.com"]["owner"] == "third_party"
    assert others["google.com"]["owner"] == others["android.com"]["owner"] == "third_party"
    # A bare string that happens to end in a TLD, used by no network call: context only.
    assert others["extra.email"]["confidence"] == "low"
    # Source file names, Android constants, packages and native libraries are never hosts.
    values = {e["value"] for e in r["endpoints"] + r["ignored_endpoints"]}
    for junk in ("r.java", "mainactivity.java", "metadata.author", "action.send", "com.google",
                 "libc.so", "libdl.so", "googlesource.com"):  # fmt: skip
        assert junk not in values
    skipped = r["not_endpoints"]
    assert "MainActivity.java" in skipped["source_file"]["examples"]
    assert "libc.so" in skipped["native_library"]["examples"]
    assert {"android.intent.extra.EMAIL", "com.google"} <= set(skipped["identifier"]["examples"])
    assert [p["key"] for p in r["cloud_projects"]] == [
        "firebase:clip-share-prod", "google-project:512345678901",
    ]  # fmt: skip
    assert ("cloud_project", "firebase:clip-share-prod") in _keys(r)
    assert r["risk"]["level"] == "low"  # it only talks to its server


def test_two_authors_same_libraries_share_no_key(analysed: dict[str, dict[str, Any]]) -> None:
    a, b = analysed["toolchain"], analysed["other_author"]
    assert {e["value"] for e in b["endpoints"] if e["link_key"]} == {
        "snap-vault.top", "snap-vault-prod.firebaseio.com", "snap-vault-prod.appspot.com",
    }  # fmt: skip
    shared = _keys(a) & _keys(b)
    assert shared == set()
    assert len([k for k in _keys(b) if k[0] == "cloud_project"]) == 2


def test_shared_test_key_does_not_link() -> None:
    from ringtrace.apk.keys import link_keys

    aosp_subject = (
        "Email Address: android@android.com, Common Name: Android, Organizational Unit: "
        "Android, Organization: Android, Locality: Mountain View, State/Province: "
        "California, Country: US"
    )
    testkey = "a40da80a59d170caa950cf15c18c454d47a39b26989d8b640ecd745ba71bf5dc"
    result = {
        "sha256": "ab" * 32, "package": "com.example.x", "endpoints": [],
        "certificates": [{"sha256": testkey, "subject": aosp_subject}],
    }  # fmt: skip
    [cert] = [i for i in link_keys(result, "attachments.0", "x.apk") if i.type == "apk_cert"]
    assert not cert.linkable and "test key" in (cert.excluded_reason or "")
    # A ring's own key that copies the test key's subject is still its own: it links.
    result["certificates"][0]["sha256"] = "cd" * 32
    [cert] = [i for i in link_keys(result, "attachments.0", "x.apk") if i.type == "apk_cert"]
    assert cert.linkable
    result["certificates"][0]["subject"] = "Common Name: Android Debug, Organization: Android"
    [cert] = [i for i in link_keys(result, "attachments.0", "x.apk") if i.type == "apk_cert"]
    assert cert.linkable  # made per developer machine


def _zip(entries: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compress) as z:
        for name, data in entries.items():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=compress)
    return buf.getvalue()


def test_hostile_files_get_clear_errors(apks: dict[str, Path]) -> None:
    manifest = zipfile.ZipFile(apks["benign"]).read("AndroidManifest.xml")
    cases = {
        "truncated": apks["truncated"].read_bytes(),
        "not_apk": apks["not_apk"].read_bytes(),
        "zip_bomb": _zip({"AndroidManifest.xml": manifest, "assets/x": b"\0" * 30_000_000}),
        "path_traversal": _zip({"AndroidManifest.xml": manifest, "../../lib/evil.so": b"x"}),
    }
    for code, data in cases.items():
        with pytest.raises(ApkError) as e:
            analyze_isolated(data)
        assert e.value.code == code, (code, e.value)
    with pytest.raises(ApkError, match="no AndroidManifest") as e:
        analyze_isolated(_zip({"classes.dex": b"dex\n035\0"}))
    with pytest.raises(ApkError) as e:
        analyze_isolated(_zip({"AndroidManifest.xml": b"\x03\x00garbage" * 10}))
    assert e.value.code in ("not_apk", "crashed")
    broken_dex = b"dex\n035\0" + b"\xff" * 200
    with pytest.raises(ApkError, match=r"classes\.dex is malformed"):
        analyze_isolated(_zip({"AndroidManifest.xml": manifest, "classes.dex": broken_dex}))


def test_child_process_limits(apks: dict[str, Path]) -> None:
    with pytest.raises(ApkError) as e:
        analyze_isolated(apks["stealer"], sandbox=SandboxLimits(timeout_s=0.001))
    assert e.value.code == "timeout"
    # An app whose analysis needs more memory than allowed (a 60 MiB second DEX, stored, which
    # is read whole): refused cleanly. The same app within the default limits is analysed.
    # (A small app may need no memory beyond what the preloaded server already mapped.)
    big = io.BytesIO()
    with zipfile.ZipFile(apks["stealer"]) as zin, zipfile.ZipFile(big, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("classes2.dex", b"dex\n035\0" + bytes(60 * 2**20))
    with pytest.raises(ApkError) as e:
        analyze_isolated(big.getvalue(), sandbox=SandboxLimits(memory_bytes=40 * 2**20))
    assert e.value.code in ("memory_limit", "crashed")
    assert analyze_isolated(big.getvalue())["package"] == "com.privatechat.app"
    from ringtrace.apk.analysis import Limits

    with pytest.raises(ApkError) as e:
        analyze_isolated(apks["stealer"], limits=Limits(max_file_bytes=1000))
    assert e.value.code == "too_large"
    # And a normal analysis still works after those.
    assert analyze_isolated(apks["benign"])["package"] == "org.example.contactsbook"


def test_cli_contract(apks: dict[str, Path]) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["apk", "analyze", str(apks["stealer"]), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    for key in ("sha256", "package", "label", "certificates", "permissions", "behaviours",
                "endpoints", "risk"):  # fmt: skip
        assert key in doc
    assert set(doc["risk"]) == {"level", "reasons", "drivers"} and doc["certificates"][0]["sha256"]
    assert all({"value", "found_in"} <= set(e) for e in doc["endpoints"])
    assert all({"id", "evidence"} <= set(b) for b in doc["behaviours"])
    r = runner.invoke(app, ["apk", "analyze", str(apks["truncated"]), "--json"])
    assert r.exit_code != 0
    assert json.loads(r.stdout)["error"]["code"] == "truncated"
    r = runner.invoke(app, ["apk", "analyze", str(apks["stealer"])])
    assert "risk: CRITICAL" in r.stdout and "server: chat-priv.top" in r.stdout
    assert "context: android.com" in r.stdout
    assert "account: telegram-bot:5012345678  (Telegram bot)" in r.stdout


def _with_apk(path: Path, **fields: Any) -> dict[str, Any]:
    content = base64.b64encode(path.read_bytes()).decode()
    return report(attachments=[{"filename": path.name, "content_base64": content}], **fields)


def test_reports_link_through_the_signing_key(store: Store, apks: dict[str, Path]) -> None:
    a = _with_apk(apks["stealer"], external_id="APK-1")
    b = _with_apk(apks["sibling"], external_id="APK-2")
    c = _with_apk(apks["benign"], external_id="APK-3")
    import_lines(store, [line(a), line(b), line(c)])
    assert [j["status"] for j in store.apk.pending()] == ["queued"] * 3
    assert store.clusters.many() == []
    counts = apk_jobs.run(store)
    assert counts == {"done": 3, "failed": 0, "retry": 0}
    [cluster] = store.clusters.many()
    assert sorted(r.external_id for r in cluster.reports) == ["APK-1", "APK-2"]
    keys = {(link.key.type, link.key.value) for link in cluster.links}
    cert = store.apk.analyses(store.reports.id_of(ReportRef("test-agency", "APK-1")))[0]
    cert_sha = cert["result"]["certificates"][0]["sha256"]
    assert keys == {("apk_cert", cert_sha)}  # the only thing the two apps share
    hops = store.clusters.explain(
        ReportRef("test-agency", "APK-1"), ReportRef("test-agency", "APK-2")
    )
    assert hops is not None and [h.key.type for h in hops] == ["apk_cert"]
    detail = store.reports.get(store.reports.id_of(ReportRef("test-agency", "APK-1")))
    found = {(i.type, i.value, i.linkable) for i in detail.indicators}
    assert ("domain", "chat-priv.top", True) in found
    assert ("android_package", "com.privatechat.app", False) in found  # weak on its own
    # Audited, and kept through a rebuild without analysing again.
    entries = store.audit.entries(["report:test-agency/APK-1"])
    assert any(e.action == "apk.analyze" for e in entries)
    relink.rebuild(store, extract_report)
    [cluster] = store.clusters.many()
    assert sorted(r.external_id for r in cluster.reports) == ["APK-1", "APK-2"]
    assert store.apk.pending() == []
    # A victim who only wrote down the app's server joins the ring through it.
    told = report(external_id="TXT-4", narrative="The app uploaded to gate.chat-priv.top")
    import_lines(store, [line(told)])
    [cluster] = store.clusters.many()
    assert sorted(r.external_id for r in cluster.reports) == ["APK-1", "APK-2", "TXT-4"]


def test_unanalysable_apk_evidence_is_failed_with_reason(
    sqlite_store: Store, apks: dict[str, Path]
) -> None:
    bad = _with_apk(apks["truncated"], external_id="APK-BAD")
    bad["attachments"][0]["filename"] = "PrivateChat.apk"
    # The broken zip is kept as evidence (it is what the victim has) and fails analysis.
    assert import_lines(sqlite_store, [line(bad)]).created == 1
    apk_jobs.run(sqlite_store)
    [job] = sqlite_store.apk.analyses(
        sqlite_store.reports.id_of(ReportRef("test-agency", "APK-BAD"))
    )
    assert (job["status"], job["error_code"]) == ("failed", "truncated")


def test_api_apk_evidence_analysed_in_background_and_shown(
    sqlite_settings: Settings, apks: dict[str, Path]
) -> None:
    from ringtrace.web.app import create_app

    setup = Store.open(sqlite_settings)
    setup.migrate()
    setup.accounts.add_user("apk-analyst", "a long test password", "test-agency", "analyst")
    token = setup.accounts.create_token("apk-analyst", "tests")
    setup.close()
    with TestClient(create_app(sqlite_settings)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        for path, ext in ((apks["stealer"], "WEB-APK-1"), (apks["sibling"], "WEB-APK-2")):
            resp = client.post("/api/reports", json=_with_apk(path, external_id=ext))
            assert resp.status_code == 201, resp.text
        rid = client.get("/api/reports").json()["reports"][-1]["id"]
        deadline = time.monotonic() + 60
        while True:
            statuses = [
                a["status"]
                for r in client.get("/api/reports").json()["reports"]
                for a in client.get(f"/api/reports/{r['id']}").json()["apk_analyses"]
            ]
            if statuses == ["done", "done"]:
                break
            assert time.monotonic() < deadline, statuses
            time.sleep(0.2)
        detail = client.get(f"/api/reports/{rid}").json()
        assert detail["apk_analyses"][0]["result"]["risk"]["level"] == "critical"
        page = client.get(f"/console/reports/{rid}").text
        assert "risk critical" in page and "apk-cert" in page and "chat-priv.top" in page
        context = page.split("never linked)", 1)[1].split("</tr>", 1)[0]
        assert "android.com" in context and "chat-priv.top" not in context
        assert "telegram-bot:" in page
        clusters = client.get("/api/clusters").json()["clusters"]
        assert len(clusters) == 1 and len(clusters[0]["reports"]) == 2
