"""Static analysis of an Android app: what it is, who signed it, what it does with the victim's
data and which servers it talks to. The app is never run.

androguard parses the container: the binary manifest, resources.arsc, the v1/v2/v3 signatures
and the permission details. Its logging is silenced. The DEX files are read with
:mod:`ringtrace.apk.dex`. It reads the reference tables and decodes only methods that can
hold a reference of interest. Call-graph work happens only for the one behaviour that needs
it: contacts read, then sent.

Use :func:`ringtrace.apk.sandbox.analyze_isolated` for untrusted files. It runs this module in
a child process with time, memory and size limits. This module is what runs inside.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from ringtrace.apk import behaviours as B
from ringtrace.apk import endpoints as E
from ringtrace.apk import testkeys
from ringtrace.apk.dex import Dex, DexError, index_pattern
from ringtrace.apk.risk import rate
from ringtrace.apk.thirdparty import builtin as builtin_third_party
from ringtrace.errors import RingtraceError

ANALYZER_VERSION = "2"


class ApkError(RingtraceError):
    """An APK that cannot be analysed; ``code`` says why (not_apk, truncated, zip_bomb,
    path_traversal, too_large, timeout, memory_limit, crashed)."""

    http_status = 422
    exit_code = 2

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 200 * 2**20
    max_entries: int = 50_000
    max_uncompressed: int = 1 * 2**30  # all entries together
    max_entry: int = 256 * 2**20
    max_ratio: int = 200  # uncompressed/compressed, for entries over 1 MiB
    max_scan_bytes: int = 8 * 2**20  # per asset or native library scanned for strings


DEFAULT_LIMITS = Limits()

_PRINTABLE = re.compile(rb"[\x20-\x7e]{6,}")
# Cheap tests for "may hold a host": a scheme, a dotted quad, or a dot before two letters.
_CANDIDATE_BYTES = re.compile(rb"://|[A-Za-z0-9-]\.[A-Za-z]{2}|\d\.\d{1,3}\.\d")
_MEDIA_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"OggS", b"RIFF",
                b"\x1f\x8b", b"ID3", b"fLaC", b"\x00\x00\x00\x18ftyp", b"\x00\x00\x00\x20ftyp",
                b"wOFF", b"\x00\x01\x00\x00", b"OTTO", b"dex\n")  # fmt: skip


def _silence_androguard() -> None:
    import logging

    from loguru import logger

    from ringtrace.apk.platform import prepare

    prepare()  # before androguard loads: its platform resource table is built on first use

    logger.disable("androguard")
    logging.getLogger("androguard").setLevel(logging.CRITICAL)


# -- the container ------------------------------------------------------------------------


def check_zip(data: bytes, limits: Limits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """Open the APK as a zip after checking it is safe to read: no zip bomb, no path
    traversal, not truncated."""
    if len(data) > limits.max_file_bytes:
        raise ApkError("too_large", f"the file is over {limits.max_file_bytes // 2**20} MiB")
    if not data.startswith(b"PK"):
        raise ApkError("not_apk", "not an APK: the file is not a zip archive")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        raise ApkError(
            "truncated", "the APK is truncated or its zip directory is damaged"
        ) from None
    if len(infos) > limits.max_entries:
        raise ApkError("zip_bomb", f"the archive has {len(infos)} entries")
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name) or ":" in name[:3]:
            raise ApkError("path_traversal", f"an entry escapes the archive: {name[:200]!r}")
        total += info.file_size
        if info.file_size > limits.max_entry or total > limits.max_uncompressed:
            raise ApkError("zip_bomb", "the archive expands to more than the allowed size")
        if info.file_size > 2**20 and info.file_size > limits.max_ratio * max(
            1, info.compress_size
        ):
            raise ApkError(
                "zip_bomb",
                f"{name[:200]!r} expands {info.file_size // max(1, info.compress_size)}x",
            )
    if "AndroidManifest.xml" not in zf.namelist():
        raise ApkError("not_apk", "not an APK: there is no AndroidManifest.xml")
    return zf


def _read(zf: zipfile.ZipFile, name: str, cap: int | None = None) -> bytes:
    try:
        with zf.open(name) as f:
            return f.read(cap) if cap is not None else f.read()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as e:
        raise ApkError("truncated", f"{name} cannot be read ({type(e).__name__})") from None


def _entropy(data: bytes) -> float:
    if not data:
        return 0.0
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values())


# -- behaviours -------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    behaviour: str
    method: str  # the calling method, Lclass;->name
    target: str  # what it references
    pc: int  # code-unit offset of the instruction in the method

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "call": self.target, "offset": self.pc}


_ALL_METHODS = frozenset().union(*(b.methods for b in B.BEHAVIOURS))
_ALL_FIELDS = frozenset().union(*(b.fields for b in B.BEHAVIOURS))
_ALL_PREFIXES = tuple(p for b in B.BEHAVIOURS for p in b.string_prefixes)
_CONTENT_URI = re.compile(rb"content://")


def _scan_dex(dex: Dex) -> list[Finding]:
    """Behaviour findings in one DEX: each reference of interest, with its call site."""
    wanted: dict[str, dict[int, list[str]]] = {
        "method": defaultdict(list), "field": defaultdict(list), "string": defaultdict(list),
    }  # fmt: skip
    names: dict[tuple[str, int], str] = {}
    for i, sig in dex.find_methods(set(_ALL_METHODS)).items():
        wanted["method"][i] = [b.id for b in B.BEHAVIOURS if sig in b.methods]
        names[("method", i)] = sig
    for i, sig in dex.find_fields(set(_ALL_FIELDS)).items():
        wanted["field"][i] = [b.id for b in B.BEHAVIOURS if sig in b.fields]
        names[("field", i)] = sig
    for i in dex.strings_matching(_CONTENT_URI):
        text = dex.string(i)
        if text.startswith(_ALL_PREFIXES):
            wanted["string"][i] = [
                b.id for b in B.BEHAVIOURS if text.startswith(b.string_prefixes or ("\0",))
            ]
            names[("string", i)] = repr(text)
    findings: list[Finding] = []
    candidates: dict[int, Any] = {}
    for kind, table in wanted.items():
        pattern = index_pattern(kind, set(table))
        if pattern is not None:
            for m in dex.methods_containing(pattern):
                candidates[m.insns_off] = m
    for m in sorted(candidates.values(), key=lambda m: m.insns_off):
        caller = dex.method(m.index)
        for ref in dex.refs(m):
            bids = wanted.get(ref.kind, {}).get(ref.index)
            for bid in bids or ():
                findings.append(Finding(bid, caller, names[(ref.kind, ref.index)], ref.pc))
    return findings


def _callers(dexes: list[Dex], targets: set[str]) -> dict[str, set[str]]:
    """For each method that calls one of ``targets``: which of them it calls."""
    out: dict[str, set[str]] = defaultdict(set)
    for dex in dexes:
        ids = dex.find_methods(targets)
        pattern = index_pattern("method", set(ids))
        if pattern is None:
            continue
        for m in dex.methods_containing(pattern):
            caller = dex.method(m.index)
            for ref in dex.refs(m):
                if ref.kind == "method" and ref.index in ids:
                    out[caller].add(ids[ref.index])
    return out


def _towards(dexes: list[Dex], start: set[str], depth: int) -> dict[str, str | None]:
    """Every method that reaches one of ``start`` through at most ``depth`` calls, with the
    next method on the way (None for the start methods themselves)."""
    step: dict[str, str | None] = dict.fromkeys(start)
    frontier = set(start)
    for _ in range(depth):
        new = set()
        for caller, callees in _callers(dexes, frontier).items():
            if caller not in step:
                step[caller] = min(callees)
                new.add(caller)
        if not new:
            break
        frontier = new
    return step


def _path(step: dict[str, str | None], node: str) -> list[str]:
    path = [node]
    while (nxt := step[path[-1]]) is not None and len(path) < 50:
        path.append(nxt)
    return path


def _exfiltration(
    findings: list[Finding], dexes: list[Dex], reader: str, max_depth: int = 6
) -> list[dict[str, Any]]:
    """Evidence that personal data (``reader``: contacts, SMS, call log) is read and then
    sent: in the same method, or by one method that reaches a reader and a sender through
    calls (depth-limited). Only this behaviour needs call-graph work, and only the callers of
    readers and senders are decoded."""
    readers = {f.method for f in findings if f.behaviour == reader}
    senders = {f.method for f in findings if B.BY_ID[f.behaviour].sends}
    if not readers or not senders:
        return []
    same = sorted(readers & senders)
    if same:
        return [{"method": m, "chain": [m]} for m in same]
    to_reader = _towards(dexes, readers, max_depth)
    to_sender = _towards(dexes, senders, max_depth)
    common = set(to_reader) & set(to_sender)
    if not common:
        return []
    paths = {c: (_path(to_reader, c), _path(to_sender, c)) for c in common}
    best = min(len(a) + len(b) for a, b in paths.values())
    return [
        {"method": c, "reads_via": a, "sends_via": b}
        for c, (a, b) in sorted(paths.items())
        if len(a) + len(b) == best
    ][:10]


def _strings_of_binary(data: bytes, min_len: int = 6) -> list[str]:
    pattern = _PRINTABLE if min_len == 6 else re.compile(rb"[\x20-\x7e]{%d,}" % min_len)
    return [m.group(0).decode("ascii") for m in pattern.finditer(data)]


_ANDROID_NS = "{http://schemas.android.com/apk/res/android}"


def _scan_resources(apk: Any, out: E.Collector) -> dict[str, str]:
    """String resources by name (what a config name holds is configuration), then any other
    URL in the resource table's string pool as a plain string."""
    arsc = apk.get_android_resources()
    if arsc is None:
        return {}
    named: dict[str, str] = {}
    for pkg in arsc.get_packages_names():
        xml = arsc.get_string_resources(pkg)
        for m in re.finditer(rb'<string name="([^"]+)">(.*?)</string>', xml, re.S):
            named[m.group(1).decode("utf-8", "replace")] = m.group(2).decode("utf-8", "replace")
    E.scan_resources(named, out)
    seen = set(named.values())
    pool = arsc.stringpool_main
    if pool is not None:
        rest = []
        for i in range(pool.stringCount):
            text = pool.getString(i)
            if "://" in text and text not in seen:
                rest.append(text)
        E.scan_text(rest, "resources.arsc", out, config=False)
    return named


def _scan_manifest(apk: Any, zf: zipfile.ZipFile, out: E.Collector) -> None:
    """Hosts the manifest declares (deep-link hosts on http/https, meta-data values) and the
    domains of the network security config."""
    xml = apk.get_android_manifest_xml()
    declared: list[tuple[str, str]] = []
    if xml is not None:
        for el in xml.iter("data"):
            host = el.get(f"{_ANDROID_NS}host")
            scheme = (el.get(f"{_ANDROID_NS}scheme") or "").lower()
            if host and scheme in ("", "http", "https"):
                declared.append(("intent-filter data host", host))
        for el in xml.iter("meta-data"):
            value = el.get(f"{_ANDROID_NS}value")
            if value and ("://" in value or "." in value):
                name = el.get(f"{_ANDROID_NS}name") or "?"
                declared.append((f"meta-data {name}", value))
    E.scan_declared(declared, "AndroidManifest.xml", out)
    ref = apk.get_attribute_value("application", "networkSecurityConfig")
    arsc = apk.get_android_resources()
    if not ref or arsc is None:
        return
    from androguard.core.axml import AXMLPrinter

    rid = int(str(ref).lstrip("@"), 16)
    for _config, path in arsc.get_resolved_res_configs(rid):
        if not isinstance(path, str) or path not in zf.namelist():
            continue
        tree = AXMLPrinter(_read(zf, path)).get_xml_obj()
        if tree is None:
            continue
        domains = [("network-security-config domain", (d.text or "").strip())
                   for d in tree.iter("domain")]  # fmt: skip
        E.scan_declared(domains, path, out)


# -- the analysis -------------------------------------------------------------------------


def analyze_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Analyse one APK given as bytes. Raises :class:`ApkError` for a file that cannot be
    analysed."""
    _silence_androguard()
    from androguard.core.apk import APK

    zf = check_zip(data, limits)
    names = zf.namelist()
    try:
        apk = APK(data, raw=True)
    except ApkError:
        raise
    except (MemoryError, RecursionError):
        raise
    except Exception as e:  # androguard raises many types for malformed manifests
        raise ApkError("not_apk", f"the manifest cannot be parsed ({type(e).__name__})") from None
    if not _safe(apk.get_package):
        raise ApkError("not_apk", "the manifest is not a valid Android manifest (no package)")
    result: dict[str, Any] = {
        "analyzer": f"ringtrace-apk/{ANALYZER_VERSION}",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "package": apk.get_package(),
        "label": _safe(apk.get_app_name),
        "version_code": _safe(apk.get_androidversion_code),
        "version_name": _safe(apk.get_androidversion_name),
        "min_sdk": _safe(apk.get_min_sdk_version),
        "target_sdk": _safe(apk.get_target_sdk_version),
    }
    result.update(_signing(apk))
    permissions = _permissions(apk)
    result["permissions"] = permissions

    endpoints = E.Collector(third_party=builtin_third_party().for_app(_safe(apk.get_package)))
    dex_names = sorted(
        (n for n in names if re.fullmatch(r"classes\d*\.dex", n)),
        key=lambda n: (len(n), n),
    )
    result["dex"] = []
    findings: list[Finding] = []
    dexes: list[Dex] = []
    for name in dex_names:
        raw = _read(zf, name)
        result["dex"].append(
            {"name": name, "sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}
        )
        dex, found = analyze_dex(raw, name, endpoints)
        findings += found
        dexes.append(dex)

    result["cloud_projects"] = []
    try:
        named = _scan_resources(apk, endpoints)
        result["cloud_projects"] = E.cloud_projects(named)
    except (MemoryError, RecursionError):
        raise
    except Exception:  # a damaged resource table: the rest of the analysis still stands
        result.setdefault("warnings", []).append("resources.arsc could not be read")
    try:
        _scan_manifest(apk, zf, endpoints)
    except (MemoryError, RecursionError):
        raise
    except Exception:
        result.setdefault("warnings", []).append("the network security config could not be read")

    opaque = []
    packer_files = []
    for name in names:
        low = name.lower()
        if any(p in low.rsplit("/", 1)[-1] for p in B.PACKER_FILES):
            packer_files.append(name)
        if low.startswith("assets/") and not name.endswith("/"):
            blob = _read(zf, name, limits.max_scan_bytes)
            plain = not blob.startswith(_MEDIA_MAGIC)
            if plain and E.NOTICE_ASSET.search(low.rsplit("/", 1)[-1]):
                E.scan_text([blob.decode("utf-8", "replace")], name, endpoints, config=False)
            elif plain and E.CONFIG_ASSET.search(low):
                E.scan_config(blob.decode("utf-8", "replace"), name, endpoints)
            elif plain and E.SCRIPT_ASSET.search(low):
                E.scan_script(blob.decode("utf-8", "replace"), name, endpoints)
            elif _CANDIDATE_BYTES.search(blob):
                E.scan_text(_strings_of_binary(blob), name, endpoints, config=False)
            if len(blob) >= 16_384 and not blob.startswith(_MEDIA_MAGIC) and _entropy(blob) > 7.5:
                opaque.append(name)
        elif low.startswith("lib/") and low.endswith(".so"):
            blob = _read(zf, name, limits.max_scan_bytes)
            if blob.startswith(b"\x7fELF"):
                E.scan_native(_strings_of_binary(blob, 3), name, endpoints)

    try:
        behaviours = _behaviours(apk, findings, dexes)
    except DexError as e:
        raise ApkError("not_apk", f"a DEX file is malformed: {e}") from None
    result["behaviours"] = behaviours
    result["endpoints"], result["ignored_endpoints"] = endpoints.results()
    result["not_endpoints"] = endpoints.summary()
    result["bots"] = sorted(endpoints.accounts.values(), key=lambda a: a["key"])
    total_dex = sum(d["size"] for d in result["dex"])
    packer: list[str] = []
    if opaque and total_dex < 64 * 1024:
        packer.append(f"a tiny DEX ({total_dex} bytes) beside opaque data: {', '.join(opaque)}")
    if packer_files:
        packer.append(f"files of a commercial packer: {', '.join(packer_files[:5])}")
    # Only the app's own code counts: SDKs (Play services, multidex, test runners) load
    # code at run time for their own reasons.
    if any(
        b["id"] == "dynamic_code_loading" and any("sdk" not in ev for ev in b["evidence"])
        for b in behaviours
    ):
        packer.append("loads code at run time (DexClassLoader or similar)")
    result["packer_signs"] = packer
    result["risk"] = rate(result)
    return result


def analyze_dex(raw: bytes, name: str, endpoints: E.Collector) -> tuple[Dex, list[Finding]]:
    """Behaviour findings and endpoints of one DEX file. A malformed file raises
    :class:`ApkError` (``not_apk``) and nothing else."""
    try:
        dex = Dex(raw)
        findings = _scan_dex(dex)
        E.scan_dex(dex, name, dex.strings_matching(_CANDIDATE_BYTES), endpoints)
        E.scan_bots(dex, name, endpoints)
    except DexError as e:
        raise ApkError("not_apk", f"{name} is malformed: {e}") from None
    return dex, findings


def _safe(fn: Any) -> Any:
    try:
        return fn()
    except (MemoryError, RecursionError):
        raise
    except Exception:
        return None


def _signing(apk: Any) -> dict[str, Any]:
    import asn1crypto.x509

    schemes: dict[bytes, set[str]] = defaultdict(set)
    try:
        for c in apk.get_certificates_v1():
            schemes[c.dump()].add("v1")
        for der in apk.get_certificates_der_v2():
            schemes[der].add("v2")
        for der in apk.get_certificates_der_v3():
            schemes[der].add("v3")
    except (MemoryError, RecursionError):
        raise
    except Exception:
        return {
            "signed": False,
            "certificates": [],
            "signature_error": "the signature block is malformed",
        }
    certs = []
    for der, sch in schemes.items():
        cert = asn1crypto.x509.Certificate.load(der)
        validity = cert["tbs_certificate"]["validity"]
        certs.append({
            "sha256": hashlib.sha256(der).hexdigest(),
            "subject": cert.subject.human_friendly,
            "issuer": cert.issuer.human_friendly,
            "not_before": validity["not_before"].native.isoformat(),
            "not_after": validity["not_after"].native.isoformat(),
            "schemes": sorted(sch),
        })  # fmt: skip
    for c in certs:  # the analyst sees why a certificate does not link
        why = testkeys.why_not_linked(c["sha256"])
        c["link_key"] = why is None
        if why is not None:
            c["why_not_linked"] = why
    certs.sort(key=lambda c: c["sha256"])
    return {"signed": bool(certs), "certificates": certs}


def _permissions(apk: Any) -> list[dict[str, Any]]:
    details = _safe(apk.get_details_permissions) or {}
    out = []
    for name in sorted(set(apk.get_permissions() or [])):
        level, label = "unknown", None
        if name in details:
            level = details[name][0] or "unknown"
            label = details[name][1]
        out.append({"name": name, "protection_level": level, "label": label})
    return out


def _behaviours(apk: Any, findings: list[Finding], dexes: list[Dex]) -> list[dict[str, Any]]:
    third_party = builtin_third_party().for_app(_safe(apk.get_package))
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        ev = f.to_dict()
        sdk = third_party.code(f.method)
        if sdk is not None:
            ev["sdk"] = sdk  # the SDK's own code, not the app's: shown, not rated
        # Up to 25 of the app's own and 25 of SDKs' each: SDK code must not crowd out the
        # app's own evidence (which alone is rated).
        same_side = [e for e in by[f.behaviour] if ("sdk" in e) == (sdk is not None)]
        if ev not in same_side and len(same_side) < 25:
            by[f.behaviour].append(ev)
    for comp in ("receiver", "service"):
        for item in _safe(lambda c=comp: apk.find_tags(c)) or []:
            perm = item.get(f"{_ANDROID_NS}permission")
            if perm in B.MANIFEST_PERMISSION_BEHAVIOURS:
                name = item.get(f"{_ANDROID_NS}name")
                by[B.MANIFEST_PERMISSION_BEHAVIOURS[perm]].append(
                    {"manifest": f"{comp} {name} requires {perm}"}
                )
    out = [
        {"id": bid, "title": B.BY_ID[bid].title, "evidence": by[bid]}
        for bid in (b.id for b in B.BEHAVIOURS)
        if by.get(bid)
    ]
    app_findings = [f for f in findings if third_party.code(f.method) is None]
    thefts = []
    for reader, (tid, title) in B.THEFTS.items():
        chain = _exfiltration(app_findings, dexes, reader)
        if chain:
            thefts.append({"id": tid, "title": title, "evidence": chain})
    return thefts + out
