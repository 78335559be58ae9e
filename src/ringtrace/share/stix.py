"""STIX 2.1 export and import (docs/sharing.md).

- Every object has a deterministic id (UUIDv5 from its content), so a re-export gives the
  same ids and a partner's import of it is idempotent.
- Observables use standard STIX Cyber Observables where they exist (domain-name, url,
  ipv4/ipv6-addr, email-addr, file, x509-certificate, software). Phone numbers, messaging
  handles, wallets and payment accounts, which STIX lacks, use one new SCO,
  ``ringtrace-identifier``, declared by the extension definition below.
- Each victim report is a STIX ``report``; a ring is a ``grouping`` with ``related-to``
  relationships whose descriptions carry the link explanation; an analysed app is a
  ``malware`` (not a family) with its file and ``communicates-with`` relationships to its
  servers.
- Every object carries a TLP 2.0 marking. An export for a partner agency contains only what
  the sharing rules allow that partner (access/policy.py): never TLP AMBER+STRICT or RED
  reports of another agency, never the reporter's personal data, and the narrative only when
  asked for and consented to.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ringtrace.access.policy import SHAREABLE_TLP
from ringtrace.domain.models import ReportRef
from ringtrace.errors import InvalidReport

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ringtrace.invalid/stix")
EXTENSION_ID = "extension-definition--" + str(uuid.uuid5(NAMESPACE, "ringtrace-identifier/1"))
REPORT_EXTENSION_ID = "extension-definition--" + str(uuid.uuid5(NAMESPACE, "ringtrace-report/1"))
RINGTRACE_IDENTITY = "identity--" + str(uuid.uuid5(NAMESPACE, "identity:ringtrace"))
EPOCH = "2026-11-28T00:00:00.000Z"

# TLP 2.0 marking definitions, as published by OASIS (fixed ids).
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_ORDER = ("clear", "green", "amber", "amber+strict", "red")
_TLP_BY_ID = {v: k for k, v in TLP_IDS.items()}

# Indicator types that have no standard STIX observable.
IDENTIFIER_TYPES = frozenset(
    {
        "phone",
        "whatsapp",
        "telegram",
        "instagram",
        "facebook",
        "snapchat",
        "tiktok",
        "wechat",
        "line",
        "kakaotalk",
        "skype",
        "discord",
        "x",
        "dating_profile",
        "crypto_wallet",
        "bank_account",
        "iban",
        "upi",
        "paynow",
        "fps",
        "giftcard",
    }
)


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, kind + ':' + '|'.join(parts))}"


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def tlp_marking(level: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def _extension_definitions() -> list[dict[str, Any]]:
    base = {
        "spec_version": "2.1",
        "created": EPOCH,
        "modified": EPOCH,
        "created_by_ref": RINGTRACE_IDENTITY,
        "version": "1.0.0",
    }
    return [
        {
            **base,
            "type": "extension-definition",
            "id": EXTENSION_ID,
            "name": "ringtrace identifier",
            "description": "An identifier STIX has no observable for: a phone number, a "
            "messaging handle, a crypto wallet or a payment account. "
            "identifier_type names the kind (ringtrace's report-v1 types), value "
            "is the normalised value. See ringtrace docs/sharing.md for how "
            "OpenCTI and MISP represent the same things.",
            "schema": "https://ringtrace.invalid/docs/sharing.md#ringtrace-identifier",
            "extension_types": ["new-sco"],
        },
        {
            **base,
            "type": "extension-definition",
            "id": REPORT_EXTENSION_ID,
            "name": "ringtrace report",
            "description": "Where a victim report came from (source and external_id), so an "
            "import keeps it and is idempotent; and its country.",
            "schema": "https://ringtrace.invalid/docs/sharing.md#ringtrace-report",
            "extension_types": ["property-extension"],
        },
    ]


def observable(typ: str, value: str) -> dict[str, Any] | None:
    """The STIX observable of one link key, with its standard deterministic id."""
    import stix2

    obj: Any
    if typ == "domain":
        obj = stix2.DomainName(value=value)
    elif typ == "url":
        obj = stix2.URL(value=value)
    elif typ == "ip":
        obj = stix2.IPv6Address(value=value) if ":" in value else stix2.IPv4Address(value=value)
    elif typ == "email":
        obj = stix2.EmailAddress(value=value)
    elif typ in ("apk_sha256", "hash") and len(value) == 64:
        obj = stix2.File(hashes={"SHA-256": value})
    elif typ == "apk_cert":
        obj = stix2.X509Certificate(hashes={"SHA-256": value})
    elif typ == "android_package":
        obj = stix2.Software(name=value)
    elif typ in IDENTIFIER_TYPES:
        obj = _identifier_class()(identifier_type=typ, value=value)
    else:
        return None
    out: dict[str, Any] = json.loads(obj.serialize())
    return out


_IDENT_CLASS: Any = None


def _identifier_class() -> Any:
    global _IDENT_CLASS
    if _IDENT_CLASS is None:
        from stix2 import CustomObservable
        from stix2.properties import StringProperty

        @CustomObservable(
            "ringtrace-identifier",
            [
                ("identifier_type", StringProperty(required=True)),
                ("value", StringProperty(required=True)),
            ],
            ["identifier_type", "value"],
            extension_name=EXTENSION_ID,
        )
        class RingtraceIdentifier:
            pass

        _IDENT_CLASS = RingtraceIdentifier
    return _IDENT_CLASS


def from_observable(obj: dict[str, Any]) -> tuple[str, str] | None:
    """The report-v1 identifier (type, value) an observable stands for, if any."""
    t = obj.get("type")
    if t in ("domain-name", "url", "email-addr", "ipv4-addr", "ipv6-addr"):
        kind = {"domain-name": "domain", "url": "url", "email-addr": "email"}.get(str(t), "ip")
        return kind, str(obj["value"])
    if t == "ringtrace-identifier":
        return str(obj["identifier_type"]), str(obj["value"])
    return None


class Exporter:
    """Builds one bundle for one viewer agency (or for a partner)."""

    def __init__(self, store: Any, *, agency: str | None, include_narratives: bool = False) -> None:
        from ringtrace.access.policy import Principal
        from ringtrace.access.sharing import Sharing

        self.store = store
        self.agency = agency
        self.include_narratives = include_narratives
        self.sharing = (
            Sharing(store, Principal(0, "export", "analyst", agency, "cli")) if agency else None
        )
        self.objects: dict[str, dict[str, Any]] = {}
        self.markings: set[str] = set()
        # object id -> the newest report (highest id) it comes from, for TAXII's date added
        self.added: dict[str, int] = {}
        self._current = 0

    def _put(self, obj: dict[str, Any], level: str) -> str:
        obj = {**obj, "object_marking_refs": [TLP_IDS[level]]}
        self.added[obj["id"]] = max(self.added.get(obj["id"], 0), self._current)
        existing = self.objects.get(obj["id"])
        if existing is not None:
            # An observable from several reports: the least restrictive marking among them.
            old = _TLP_BY_ID[existing["object_marking_refs"][0]]
            if TLP_ORDER.index(level) >= TLP_ORDER.index(old):
                return str(obj["id"])
        self.objects[obj["id"]] = obj
        self.markings.add(level)
        return str(obj["id"])

    def _allowed(self, report_id: int, source: str, tlp: str) -> tuple[bool, bool]:
        """(may include the report at all, may include its content)."""
        if self.sharing is None:  # a full export by the data owner
            return True, True
        from ringtrace.access.policy import View

        view = self.sharing.view(report_id)
        if view >= View.FULL:
            return True, True
        if tlp not in SHAREABLE_TLP:
            return False, False
        return view >= View.INDICATORS, view >= View.CONTENT

    def add_report(self, report_id: int) -> str | None:
        d = self.store.reports.get(report_id)
        s = d.summary
        if d.withdrawn:
            return None
        ok, content = self._allowed(report_id, s.ref.source, s.tlp)
        if not ok:
            return None
        self._current = report_id
        level = s.tlp
        identity = self._identity(s.ref.source)
        refs = []
        for ind in d.indicators:
            if not ind.linkable:
                continue
            obs = observable(ind.type, ind.value)
            if obs is not None:
                refs.append(self._put(obs, level))
        ext: dict[str, Any] = {
            "extension_type": "property-extension",
            "source": s.ref.source,
            "external_id": s.ref.external_id,
        }
        if s.country and content:  # where the reporter lives goes only with their content
            ext["country"] = s.country
        rep: dict[str, Any] = {
            "type": "report",
            "spec_version": "2.1",
            "id": _id("report", s.ref.source, s.ref.external_id),
            "created": _ts(s.received_at),
            "modified": _ts(s.received_at),
            "created_by_ref": identity,
            "name": f"Sextortion report {s.ref.source}/{s.ref.external_id}",
            "report_types": ["threat-report"],
            "published": _ts(s.received_at),
            "object_refs": sorted(set(refs)) or [identity],
            "extensions": {REPORT_EXTENSION_ID: ext},
        }
        narrative = d.document.get("narrative") if isinstance(d.document, dict) else None
        reporter = d.document.get("reporter") if isinstance(d.document, dict) else None
        consent = isinstance(reporter, dict) and reporter.get("consent_share") is True
        if self.include_narratives and content and consent and narrative:
            rep["description"] = narrative
        rid = self._put(rep, level)
        for a in self.store.apk.analyses(report_id):
            if a["status"] == "done" and a["result"] and content:
                self._malware(a["result"], level, identity)
        return rid

    def _identity(self, source: str) -> str:
        owner = self.sharing.owner(source) if self.sharing else source
        ident = {
            "type": "identity",
            "spec_version": "2.1",
            "id": _id("identity", owner),
            "created": EPOCH,
            "modified": EPOCH,
            "name": owner,
            "identity_class": "organization",
        }
        self.objects.setdefault(ident["id"], ident)
        return str(ident["id"])

    def _malware(self, r: dict[str, Any], level: str, identity: str) -> None:
        file_obs = observable("apk_sha256", r["sha256"])
        assert file_obs is not None
        sample = self._put(file_obs, level)
        mal = {
            "type": "malware",
            "spec_version": "2.1",
            "id": _id("malware", r["sha256"]),
            "created": EPOCH,
            "modified": EPOCH,
            "created_by_ref": identity,
            "name": r.get("label") or r.get("package") or r["sha256"][:16],
            "is_family": False,
            "malware_types": ["spyware"]
            if r["risk"]["level"] in ("high", "critical")
            else ["unknown"],
            "description": f"Android app {r.get('package')}; risk {r['risk']['level']}: "
            + "; ".join(r["risk"]["reasons"]),
            "sample_refs": [sample],
        }
        mid = self._put(mal, level)
        for ep in r.get("endpoints", []):
            if not ep.get("link_key", True):  # an SDK's host or a low-confidence string
                continue
            obs = observable(ep["type"], ep["value"])
            if obs is None:
                continue
            target = self._put(obs, level)
            self._put(
                {
                    "type": "relationship",
                    "spec_version": "2.1",
                    "id": _id("relationship", mid, "communicates-with", target),
                    "created": EPOCH,
                    "modified": EPOCH,
                    "relationship_type": "communicates-with",
                    "source_ref": mid,
                    "target_ref": target,
                    "description": f"found in {', '.join(ep['found_in'])}",
                },
                level,
            )

    def add_cluster(self, cluster_id: int) -> str | None:
        c = self.store.clusters.get(cluster_id)
        ids = self.store.reports.ids_of(c.reports)
        if self.sharing is not None:
            c = self.sharing.filter_cluster(c, ids)
        included: dict[ReportRef, str] = {}
        for ref in c.reports:
            rid = self.add_report(ids[ref])
            if rid:
                included[ref] = rid
        if len(included) < 2:
            return None
        self._current = max(ids[r] for r in included)
        levels = [self.objects[r]["object_marking_refs"][0] for r in included.values()]
        level = max((_TLP_BY_ID[x] for x in levels), key=TLP_ORDER.index)
        refs = list(included.values())
        for lk in c.links:
            obs = observable(lk.key.type, lk.key.value)
            holders = [included[r] for r in lk.reports if r in included]
            if obs is None or len(holders) < 1:
                continue
            target = str(obs["id"])
            if target not in self.objects:
                continue
            refs.append(target)
            for h in holders:
                self._put(
                    {
                        "type": "relationship",
                        "spec_version": "2.1",
                        "id": _id("relationship", h, "related-to", target),
                        "created": EPOCH,
                        "modified": EPOCH,
                        "relationship_type": "related-to",
                        "source_ref": h,
                        "target_ref": target,
                        "description": f"links this report to the ring: {lk.key.type} "
                        f"{lk.key.value} is shared by {len(lk.reports)} reports",
                    },
                    _TLP_BY_ID[self.objects[h]["object_marking_refs"][0]],
                )
        first = min(included)
        grouping = {
            "type": "grouping",
            "spec_version": "2.1",
            "id": _id("grouping", first.source, first.external_id),
            "created": EPOCH,
            "modified": EPOCH,
            "created_by_ref": RINGTRACE_IDENTITY,
            "name": f"Sextortion ring ({len(included)} reports)",
            "context": "suspicious-activity",
            "object_refs": sorted(set(refs)),
        }
        return self._put(grouping, level)

    def bundle(self) -> dict[str, Any]:
        objects = [tlp_marking(level) for level in sorted(self.markings, key=TLP_ORDER.index)]
        ringtrace = {
            "type": "identity",
            "spec_version": "2.1",
            "id": RINGTRACE_IDENTITY,
            "created": EPOCH,
            "modified": EPOCH,
            "name": "ringtrace",
            "identity_class": "system",
        }
        if self.objects:
            objects += [ringtrace, *_extension_definitions()]
        objects += [self.objects[k] for k in sorted(self.objects)]
        content = json.dumps(objects, sort_keys=True)
        return {
            "type": "bundle",
            "id": "bundle--" + str(uuid.uuid5(NAMESPACE, content)),
            "objects": objects,
        }


def export(
    store: Any,
    *,
    agency: str | None = None,
    cluster_id: int | None = None,
    report_ids: Iterable[int] | None = None,
    since: datetime | None = None,
    include_narratives: bool = False,
) -> dict[str, Any]:
    """A STIX 2.1 bundle: one cluster, some reports, or everything (changed since a time) that
    ``agency`` may receive (None: the owner's full export)."""
    ex = Exporter(store, agency=agency, include_narratives=include_narratives)
    if cluster_id is not None:
        ex.add_cluster(cluster_id)
    elif report_ids is not None:
        for rid in report_ids:
            ex.add_report(rid)
    else:
        for cid, _ in store.clusters.ids():
            ex.add_cluster(cid)
        for r in store.reports.page(limit=10_000_000):
            if since is None or r.received_at >= since:
                ex.add_report(r.id)
    return ex.bundle()


def validate(bundle: dict[str, Any]) -> list[str]:
    """Errors from the official stix2-validator (empty when valid)."""
    from stix2validator import ValidationOptions, validate_instance

    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    return [str(e) for e in result.errors]


def to_reports(bundle: dict[str, Any], default_source: str) -> list[dict[str, Any]]:
    """report-v1 documents for the STIX reports in a bundle, their source kept. A malformed
    bundle is an :class:`InvalidReport`, never another error."""
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        raise InvalidReport("not a STIX bundle")
    if not isinstance(bundle.get("objects", []), list):
        raise InvalidReport("a STIX bundle's objects must be a list")
    try:
        return _to_reports(bundle, default_source)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise InvalidReport(f"malformed STIX object ({type(e).__name__}: {e})") from None


def _to_reports(bundle: dict[str, Any], default_source: str) -> list[dict[str, Any]]:
    objects = {o.get("id"): o for o in bundle.get("objects", []) if isinstance(o, dict)}
    identities = {i: o.get("name") for i, o in objects.items() if o.get("type") == "identity"}
    out = []
    for o in objects.values():
        if o.get("type") != "report":
            continue
        ext = (o.get("extensions") or {}).get(REPORT_EXTENSION_ID, {})
        creator = identities.get(o.get("created_by_ref")) or default_source
        source = str(ext.get("source") or f"stix:{creator}")[:200]
        external = str(ext.get("external_id") or o["id"])[:200]
        idents = []
        for ref in o.get("object_refs", []):
            found = from_observable(objects.get(ref, {}))
            if found:
                idents.append({"type": found[0], "value": found[1]})
        tlp = next(
            (_TLP_BY_ID[m] for m in o.get("object_marking_refs", []) if m in _TLP_BY_ID), "amber"
        )
        doc: dict[str, Any] = {
            "format": "ringtrace.report/1",
            "external_id": external,
            "source": source,
            "received_at": str(o.get("published") or o.get("created")).replace(".000Z", "Z"),
            "offender_identifiers": sorted(idents, key=lambda i: (i["type"], i["value"])),
            "tlp": tlp,
            "stix_id": o["id"],
        }
        if ext.get("country"):
            doc["reporter"] = {"country": ext["country"]}
        if o.get("description"):
            doc["narrative"] = o["description"]
        out.append(doc)
    return sorted(out, key=lambda d: (d["source"], d["external_id"]))
