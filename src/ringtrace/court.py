"""Gathering a cluster or a report into a court package (see evidence/package.py)."""

from __future__ import annotations

from pathlib import Path

from ringtrace.domain.models import ReportRef
from ringtrace.errors import NotFound
from ringtrace.evidence.package import EvidenceFile, PackageContents, build
from ringtrace.linking.clusters import reasons_for
from ringtrace.store.database import Store, report_subject


def parse_target(target: str) -> int | ReportRef:
    """``cluster:12`` / ``12`` for a cluster, ``SOURCE/EXTERNAL_ID`` for a report."""
    t = target.removeprefix("cluster:")
    if t.isdigit():
        return int(t)
    if "/" in target:
        source, external_id = target.split("/", 1)
        return ReportRef(source, external_id)
    raise NotFound(f"{target!r} is neither a cluster id nor SOURCE/EXTERNAL_ID")


def make_package(store: Store, target: str, out: Path, *, actor: str | None = None) -> str:
    """Write the package for ``target`` and audit the export; return the manifest hash."""
    parsed = parse_target(target)
    if isinstance(parsed, int):
        cluster = store.cluster(parsed)
        subject = f"cluster:{parsed}"
        title = f"Cluster {parsed}: {len(cluster.reports)} linked reports"
    else:
        rid = store.report_id(parsed)
        cid = store.report(rid).summary.cluster_id or rid
        cluster = store.cluster(cid)
        cluster.reports = [parsed]
        subject = report_subject(parsed)
        title = f"Report {parsed.source}/{parsed.external_id}"
    why = reasons_for(cluster)
    reports, files, subjects = [], [], [subject]
    for ref in cluster.reports:
        detail = store.report(store.report_id(ref))
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
                _, data = store.attachment(store.report_id(ref), att.position, actor=actor)
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
        audit=store.audit_entries(subjects), files=files,
    )  # fmt: skip
    digest = build(contents, out)
    store.record(
        "export.court_package", subject, {"manifest_sha256": digest, "files": len(files)}, actor
    )
    return digest
