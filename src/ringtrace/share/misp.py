"""MISP events: a ring exported as one event, and MISP event JSON imported as a report.

Built with PyMISP's own classes, so MISP's object templates (bundled with PyMISP) are used
where they fit: ``phone`` (msisdn), ``btc-wallet`` / ``coin-address``, ``bank-account``
(account or IBAN), ``telegram-account`` and ``android-app``. Domains, URLs, IPs and e-mail
addresses are plain attributes. A handle MISP has no type for is a ``text`` attribute whose
comment names the platform. The event carries the ring's TLP tag, and the same partner rules
as STIX apply (share/stix.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from ringtrace.errors import InvalidReport
from ringtrace.share.stix import NAMESPACE, TLP_ORDER

_ATTRIBUTE = {"domain": "domain", "url": "url", "ip": "ip-dst", "email": "email-src"}
_BTC = ("1", "3", "bc1")


def export_event(store: Any, cluster_id: int, *, agency: str | None = None) -> dict[str, Any]:
    """The ring as a MISP event (as JSON), as ``agency`` may receive it."""
    from pymisp import MISPEvent, MISPObject

    from ringtrace.share.stix import Exporter

    ex = Exporter(store, agency=agency)
    c = store.clusters.get(cluster_id)
    ids = store.reports.ids_of(c.reports)
    if ex.sharing is not None:
        c = ex.sharing.filter_cluster(c, ids)
    members = [r for r in c.reports if ex.add_report(ids[r])]
    if not members:
        raise InvalidReport("nothing in this ring may be shared with that agency")
    levels = [store.reports.get(ids[r]).summary.tlp for r in members]
    level = max(levels, key=TLP_ORDER.index)
    first = min(members)
    event = MISPEvent()
    event.uuid = str(uuid.uuid5(NAMESPACE, f"misp-event:{first.source}/{first.external_id}"))
    event.info = f"Sextortion ring ({len(members)} reports)"
    event.date = min(store.reports.get(ids[r]).summary.received_at for r in members).date()
    event.distribution = 0
    event.threat_level_id = 2
    event.analysis = 1
    event.add_tag(f"tlp:{level}")
    keys: dict[tuple[str, str], int] = {}
    for r in members:
        for ind in store.reports.get(ids[r]).indicators:
            if ind.linkable:
                keys[(ind.type, ind.value)] = keys.get((ind.type, ind.value), 0) + 1
    for (typ, value), n in sorted(keys.items()):
        comment = f"in {n} report(s) of the ring"
        if typ in _ATTRIBUTE:
            event.add_attribute(_ATTRIBUTE[typ], value, comment=comment, to_ids=False)
        elif typ in ("phone", "whatsapp"):
            obj = MISPObject("phone")
            obj.add_attribute("msisdn", value.lstrip("+"), comment=f"{typ}; {comment}")
            event.add_object(obj)
        elif typ == "crypto_wallet":
            obj = MISPObject("btc-wallet" if value.startswith(_BTC) else "coin-address")
            obj.add_attribute(
                "wallet-address" if value.startswith(_BTC) else "address", value, comment=comment
            )
            event.add_object(obj)
        elif typ in ("bank_account", "iban"):
            obj = MISPObject("bank-account")
            obj.add_attribute("iban" if typ == "iban" else "account", value, comment=comment)
            event.add_object(obj)
        elif typ == "telegram":
            obj = MISPObject("telegram-account")
            obj.add_attribute("username", value, comment=comment)
            event.add_object(obj)
        elif typ == "apk_cert":
            obj = MISPObject("android-app")
            obj.add_attribute("certificate-sha256", value, comment=f"signing key; {comment}")
            event.add_object(obj)
        elif typ in ("apk_sha256", "android_package"):
            obj = MISPObject("android-app")
            obj.add_attribute("sha256" if typ == "apk_sha256" else "appid", value, comment=comment)
            event.add_object(obj)
        else:
            event.add_attribute("text", value, comment=f"{typ} handle; {comment}", to_ids=False)
    # Deterministic uuids (from content), so a re-export is identical.
    for obj in event.objects:
        first_value = str(obj.attributes[0].value) if obj.attributes else ""
        obj.uuid = str(uuid.uuid5(NAMESPACE, f"misp-object:{event.uuid}:{obj.name}:{first_value}"))
        for a in obj.attributes:
            a.uuid = str(
                uuid.uuid5(NAMESPACE, f"misp-attr:{obj.uuid}:{a.object_relation}:{a.value}")
            )
    for attr in event.attributes:
        attr.uuid = str(uuid.uuid5(NAMESPACE, f"misp-attr:{event.uuid}:{attr.type}:{attr.value}"))
    out: dict[str, Any] = json.loads(event.to_json())
    return {"Event": out}


def event_to_report(data: dict[str, Any], default_source: str) -> dict[str, Any]:
    """A report-v1 document for a MISP event (its identifiers as offender identifiers). A
    malformed event is an :class:`InvalidReport`, never another error."""
    try:
        return _event_to_report(data, default_source)
    except InvalidReport:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise InvalidReport(f"malformed MISP event ({type(e).__name__})") from None


def _event_to_report(data: dict[str, Any], default_source: str) -> dict[str, Any]:
    from pymisp import MISPEvent

    event = MISPEvent()
    try:
        event.load(json.loads(json.dumps(data)))  # PyMISP consumes the dict it loads
    except Exception as e:  # PyMISP raises several types for malformed events
        raise InvalidReport(f"not a MISP event ({type(e).__name__})") from None
    idents: list[dict[str, str]] = []
    back = {v: k for k, v in _ATTRIBUTE.items()} | {"ip-src": "ip", "email-dst": "email"}
    for a in event.attributes:
        if a.type in back:
            idents.append({"type": back[a.type], "value": str(a.value)})
        elif a.type == "text" and " handle" in (a.comment or ""):
            idents.append({"type": str(a.comment).split(" handle")[0], "value": str(a.value)})
        elif a.type == "phone-number":
            idents.append({"type": "phone", "value": str(a.value)})
    for obj in event.objects:
        for a in obj.attributes:
            rel, val = a.object_relation, str(a.value)
            if obj.name == "phone" and rel == "msisdn":
                kind = "whatsapp" if (a.comment or "").startswith("whatsapp") else "phone"
                idents.append({"type": kind, "value": "+" + val.lstrip("+")})
            elif obj.name in ("btc-wallet", "coin-address") and rel in (
                "wallet-address",
                "address",
            ):
                idents.append({"type": "crypto_wallet", "value": val})
            elif obj.name == "bank-account" and rel in ("iban", "account"):
                idents.append({"type": "iban" if rel == "iban" else "bank_account", "value": val})
            elif obj.name == "telegram-account" and rel == "username":
                idents.append({"type": "telegram", "value": val})
    tlp = next((t.name.split(":", 1)[1] for t in event.tags if t.name.startswith("tlp:")), "amber")
    orgc = getattr(getattr(event, "Orgc", None), "name", None)
    when = event.date if getattr(event, "date", None) else datetime.now(UTC).date()
    doc: dict[str, Any] = {
        "format": "ringtrace.report/1",
        "external_id": str(event.uuid),
        "source": f"misp:{orgc}" if orgc else default_source,
        "received_at": f"{when.isoformat()}T00:00:00Z",
        "narrative": event.info or None,
        "offender_identifiers": sorted(
            {(i["type"], i["value"]): i for i in idents}.values(),
            key=lambda i: (i["type"], i["value"]),
        ),
        "tlp": tlp if tlp in TLP_ORDER else "amber",
    }
    return {k: v for k, v in doc.items() if v not in (None, [])}
