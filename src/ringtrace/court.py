"""Gathering a cluster or a report into a court package (see evidence/package.py)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from ringtrace.domain.models import Cluster, ClusterLink, ReportRef
from ringtrace.errors import NotFound
from ringtrace.evidence.package import EvidenceFile, PackageContents, build
from ringtrace.linking.clusters import reasons_for
from ringtrace.services import evidence_access
from ringtrace.store.database import Store
from ringtrace.store.rows import report_subject


def parse_target(target: str) -> int | ReportRef:
    """``cluster:12`` / ``12`` for a cluster, ``SOURCE/EXTERNAL_ID`` for a report."""
    t = target.removeprefix("cluster:")
    if t.isdigit():
        return int(t)
    if "/" in target:
        source, external_id = target.split("/", 1)
        return ReportRef(source, external_id)
    raise NotFound(f"{target!r} is neither a cluster id nor SOURCE/EXTERNAL_ID")


def make_package(
    store: Store, target: str, out: Path, *, actor: str | None = None,
    only: Collection[int] | None = None,
) -> str:  # fmt: skip
    """Write the package for ``target`` and audit the export; return the manifest hash.
    ``only``: the report ids a console user may read; the others (and their keys) are left
    out, so a package never carries what the sharing rules keep from its maker."""
    parsed = parse_target(target)
    if isinstance(parsed, int):
        cluster = store.clusters.get(parsed)
        if only is not None:
            ids = store.reports.ids_of(cluster.reports)
            keep = {ref for ref, rid in ids.items() if rid in only}
            kept = [r for r in cluster.reports if r in keep]
            links, excluded = _keep(cluster.links, keep), _keep(cluster.excluded, keep)
            cluster = Cluster(cluster.id, kept, links, excluded)
        subject = f"cluster:{parsed}"
        title = f"Ring {parsed}: {len(cluster.reports)} linked reports"
    else:
        rid = store.reports.id_of(parsed)
        cid = store.reports.get(rid).summary.cluster_id or rid
        cluster = store.clusters.get(cid)
        cluster.reports = [parsed]
        subject = report_subject(parsed)
        title = f"Report {parsed.source}/{parsed.external_id}"
    why = reasons_for(cluster)
    reports, files, subjects = [], [], [subject]
    for ref in cluster.reports:
        detail = store.reports.get(store.reports.id_of(ref))
        subjects.append(report_subject(ref))
        reports.append(
            {
                "source": ref.source, "external_id": ref.external_id,
                "received_at": detail.summary.received_at.isoformat(), "tlp": detail.summary.tlp,
                "withdrawn": detail.withdrawn,
                "linked_by": [f"{k.type}:{k.value}" for k in why.get(ref, [])],
            }
        )  # fmt: skip
        for att in detail.attachments:
            if att.stored:
                _, data = evidence_access.view_attachment(
                    store, store.reports.id_of(ref), att.position, actor=actor
                )
                files.append(
                    EvidenceFile(
                        f"{ref.source}/{ref.external_id}", att.filename, data, att.detected_type
                    )
                )
    explanation = cluster.to_dict()
    explanation["excluded"] = [
        {
            "key": lk.key.to_dict(),
            "reason": lk.excluded_reason,
            "reports": [r.to_dict() for r in lk.reports],
        }
        for lk in cluster.excluded
    ]
    contents = PackageContents(
        subject=subject, title=title, reports=reports, explanation=explanation,
        audit=store.audit.entries(subjects), files=files,
    )  # fmt: skip
    digest = build(contents, out)
    store.audit.record(
        "export.court_package", subject, {"manifest_sha256": digest, "files": len(files)}, actor
    )
    return digest


def _keep(links: list[ClusterLink], keep: set[ReportRef]) -> list[ClusterLink]:
    out = []
    for lk in links:
        reports = [r for r in lk.reports if r in keep]
        if reports:
            out.append(ClusterLink(lk.key, reports, lk.excluded_reason))
    return out
