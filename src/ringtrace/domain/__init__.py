"""Entities and value types shared by every part of ringtrace. No I/O here."""

from ringtrace.domain.models import (
    Cluster,
    ClusterLink,
    Indicator,
    LinkKey,
    Occurrence,
    ReportRef,
)

__all__ = ["Cluster", "ClusterLink", "Indicator", "LinkKey", "Occurrence", "ReportRef"]
