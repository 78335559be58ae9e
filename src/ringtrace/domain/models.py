"""Value types for indicators, link keys and clusters.

Reports themselves are validated documents (:mod:`ringtrace.intake.schema`); what is derived
from them lives here and always carries its provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Sources whose strength does not depend on reading free text: a structured offender field,
# a payment record, the app, an analyst (indicators/roles.py names them).
FIRM_SOURCES = frozenset({"structured", "payment", "apk", "analyst"})


@dataclass(frozen=True, order=True, slots=True)
class LinkKey:
    """A normalised value two reports can share: ``("phone", "+85261234567")``."""

    type: str
    value: str

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Where an indicator was found: a field of the report (or a piece of evidence), the raw
    text as written, and its character span in that field; the kind of ``source`` it is
    and the ``role`` it plays there (:mod:`ringtrace.indicators.roles`); ``strong`` when it
    is evidence that links on its own (a structured field, a payment, the app, or text that
    says the victim was made to install from it or pay into it)."""

    field: str
    raw: str
    start: int
    end: int
    source: str = ""
    role: str = "offender"
    strong: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "field": self.field, "raw": self.raw, "start": self.start, "end": self.end,
        }  # fmt: skip
        if self.source:
            out.update(source=self.source, role=self.role, strong=self.strong)
        return out


@dataclass(slots=True)
class Indicator:
    """One normalised value found in one report, with every place it was found.

    ``excluded_reason`` is set when the value is known not to identify an offender (a
    platform's own domain, a private address, the reporter's own number); such indicators
    are kept and shown but never link reports.
    """

    type: str
    value: str
    extractor: str
    extractor_version: str
    occurrences: list[Occurrence] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    excluded_reason: str | None = None

    @property
    def key(self) -> LinkKey:
        return LinkKey(self.type, self.value)

    @property
    def linkable(self) -> bool:
        return self.excluded_reason is None

    @property
    def role(self) -> str:
        """The offender's when any occurrence is; otherwise the first occurrence's role."""
        roles = [o.role for o in self.occurrences]
        return "offender" if not roles or "offender" in roles else roles[0]

    @property
    def strong(self) -> bool:
        """Whether an occurrence is offender evidence that links on its own."""
        return any(o.strong and o.role == "offender" for o in self.occurrences)

    @property
    def cue_strong(self) -> bool:
        """Whether it is strong only by a cue in free text (no structured field, payment,
        app or analyst says so): strength the key's other holders can outvote."""
        return self.strong and not any(
            o.strong and o.role == "offender" and o.source in FIRM_SOURCES for o in self.occurrences
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "value": self.value,
            "extractor": f"{self.extractor}/{self.extractor_version}",
            "excluded_reason": self.excluded_reason,
            "attributes": dict(self.attributes),
            "occurrences": [o.to_dict() for o in self.occurrences],
        }


@dataclass(frozen=True, order=True)
class ReportRef:
    """How other tools name a report: the sender and the sender's own reference."""

    source: str
    external_id: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "external_id": self.external_id}


@dataclass
class ClusterLink:
    """A link key and the reports of one cluster that share it."""

    key: LinkKey
    reports: list[ReportRef]
    excluded_reason: str | None = None


@dataclass
class Cluster:
    """A connected group of reports: every report shares a chain of link keys with the rest."""

    id: int
    reports: list[ReportRef]
    links: list[ClusterLink]
    excluded: list[ClusterLink] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reports": [r.to_dict() for r in self.reports],
            "links": [
                {"key": lk.key.to_dict(), "reports": [r.to_dict() for r in lk.reports]}
                for lk in self.links
            ],
        }
