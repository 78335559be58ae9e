"""Clusters and how they hold together: `clusters`, `link`, `explain`, `evaluate`, and the
analysts' `cluster` decisions and `suggestions`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ringtrace.cli.base import handle_errors, open_store, ref, settings

cluster_app = typer.Typer(
    help="Analysts' decisions on clusters (audited, kept through rebuilds).", no_args_is_help=True
)
suggest_app = typer.Typer(
    help="Suggested links from weak signals (never merged on their own).", no_args_is_help=True
)


@handle_errors
def clusters(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON document of the spec.")
    ] = False,
) -> None:
    """List every cluster of two or more reports with the keys that hold it together."""
    with open_store(settings(ctx)) as store:
        found = store.clusters.many()
    if as_json:
        typer.echo(
            json.dumps({"clusters": [c.to_dict() for c in found]}, ensure_ascii=False, indent=2)
        )
        return
    if not found:
        typer.echo("no clusters yet")
    for c in found:
        keys = ", ".join(f"{lk.key.type}:{lk.key.value} ({len(lk.reports)})" for lk in c.links[:4])
        more = f" +{len(c.links) - 4} more" if len(c.links) > 4 else ""
        typer.echo(f"cluster {c.id}: {len(c.reports)} reports; {keys}{more}")


@handle_errors
def link(
    ctx: typer.Context,
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded) or spark (pyspark, local mode).")
    ] = "duckdb",
    source: Annotated[
        Path | None,
        typer.Option(
            "--from", help="A folder from `ringtrace export parquet` (default: export now)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compare only; do not write the clusters back.")
    ] = False,
    queue: Annotated[
        bool,
        typer.Option(
            "--queue",
            help="Run it as a background job on `ringtrace worker`; "
            "prints the job id for `ringtrace job`.",
        ),
    ] = False,
) -> None:
    """Re-cluster every report with the batch linker and write the result back."""
    from ringtrace import batch_link

    config = settings(ctx)
    if queue:
        if dry_run or source is not None:
            raise typer.BadParameter("--queue links the whole store: no --dry-run or --from")
        from ringtrace.jobs import LINK_BATCH
        from ringtrace.jobs.queued import HueyRunner
        from ringtrace.tasks import JobQueue

        with open_store(config):
            pass  # fail here, clearly, if the database is not ready
        # Through Redis only: a thread of this command would end with it.
        typer.echo(HueyRunner(JobQueue(config)).submit(LINK_BATCH, engine=engine))
        return
    with open_store(config) as store:
        run = batch_link.run(store, engine, source, write=not dry_run)
    typer.echo(
        f"{run.engine}: {run.reports} reports, {run.clusters} clusters of 2+, {run.rounds} rounds, "
        f"{run.bridges} bridging payment accounts, {run.differences} reports placed differently "
        f"from the online linker, {run.moved} moved, {run.seconds:.1f}s"
    )


@handle_errors
def explain(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of one report.")],
    b: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of the other.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The shortest chain of shared keys that puts two reports in one cluster."""
    from ringtrace.services.linking import explain_chain

    with open_store(settings(ctx)) as store:
        hops = explain_chain(store, ref(a), ref(b))
    if hops is None:
        typer.echo(f"{a} and {b} are not in the same cluster", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps({"chain": hops}, ensure_ascii=False, indent=2))
        return
    typer.echo(a)
    for h in hops:
        via = (
            f"{h['key']['type']}:{h['key']['value']}"
            if h["key"]
            else f"analyst merge ({h['merge_reason']})"
        )
        typer.echo(f"  -- {via} --> {h['to']['source']}/{h['to']['external_id']}")


@cluster_app.command("merge")
@handle_errors
def cluster_merge(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of a report in one cluster.")],
    b: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of a report in the other.")],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Join two clusters."""
    from ringtrace.services import decisions

    with open_store(settings(ctx)) as store:
        cid = decisions.merge(store, ref(a), ref(b), reason=reason)
    typer.echo(f"merged into cluster {cid}")


@cluster_app.command("cut")
@handle_errors
def cluster_cut(
    ctx: typer.Context,
    key_type: Annotated[str, typer.Argument(help="Key type, e.g. phone.")],
    value: Annotated[
        str, typer.Argument(help="Normalised value, as `ringtrace clusters` shows it.")
    ],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Stop one key from linking (split what it held together)."""
    from ringtrace.domain.models import LinkKey
    from ringtrace.services import decisions

    with open_store(settings(ctx)) as store:
        after = decisions.cut(store, LinkKey(key_type, value), reason=reason)
    typer.echo(f"cut {key_type}:{value}; its reports are now in {len(after)} cluster(s): {after}")


@cluster_app.command("unrelated")
@handle_errors
def cluster_unrelated(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of one report.")],
    b: Annotated[str, typer.Argument(help="SOURCE/EXTERNAL_ID of the other.")],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Mark two reports as unrelated: cut every key they share directly."""
    from ringtrace.services.linking import mark_unrelated

    with open_store(settings(ctx)) as store:
        cut, still_linked = mark_unrelated(store, ref(a), ref(b), reason)
    typer.echo(f"cut {len(cut)} shared key(s): " + ", ".join(f"{k.type}:{k.value}" for k in cut))
    if still_linked:
        typer.echo("they are still linked through other reports; see `ringtrace explain`")


@handle_errors
def evaluate(
    hard: Annotated[
        bool, typer.Option(help="The hard-case scenario (mule account, rotating numbers, ...).")
    ] = True,
    seed: Annotated[int, typer.Option(help="Scenario seed.")] = 2024,
    background: Annotated[int, typer.Option(help="Unrelated background reports.")] = 2000,
    classes: Annotated[
        str,
        typer.Option(
            help="Classes of real input to plant in the scenario, comma-separated: "
            "helplines, references, hosting, handle_words, unknown_ids, crowd, cue_context, "
            "warnings; 'all' or 'none'."
        ),
    ] = "all",
    reports_file: Annotated[
        Path | None,
        typer.Option("--reports", help="Score your own collection: a JSON Lines file of reports."),
    ] = None,
    truth_file: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help='Its ground truth: a JSON object {"source|external_id": group}; a report '
            "absent from it is alone.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Link a labelled collection in a temporary store and score it against its ground
    truth: pairwise precision/recall and B-cubed. Without --reports, a generated scenario."""
    from ringtrace.services.evaluation import evaluate_file, evaluate_scenario

    if (reports_file is None) != (truth_file is None):
        raise typer.BadParameter("--reports and --truth go together")
    if reports_file is not None and truth_file is not None:
        done = evaluate_file(reports_file, truth_file)
    else:
        from ringtrace.demo.scenario import CLASSES

        done = evaluate_scenario(seed, background, hard, _classes(classes, CLASSES))
    result = done.result
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    pw, b3 = result.pairwise, result.bcubed
    typer.echo(f"{done.label}: {result.reports} reports, {len(result.groups)} true groups")
    typer.echo(f"pairwise precision {pw.precision:.4f}  recall {pw.recall:.4f}  F1 {pw.f1:.4f}")
    typer.echo(f"B-cubed  precision {b3.precision:.4f}  recall {b3.recall:.4f}  F1 {b3.f1:.4f}")


def _classes(text: str, known: tuple[str, ...]) -> frozenset[str]:
    if text.strip() == "all":
        return frozenset(known)
    if text.strip() in ("none", ""):
        return frozenset()
    chosen = frozenset(c.strip() for c in text.split(",") if c.strip())
    unknown = chosen - set(known)
    if unknown:
        raise typer.BadParameter(f"unknown classes: {', '.join(sorted(unknown))}")
    return chosen


@suggest_app.command("list")
@handle_errors
def suggestions_list(
    ctx: typer.Context,
    refresh: Annotated[
        bool, typer.Option(help="Look for new near-duplicate scripts first.")
    ] = False,
    threshold: Annotated[float, typer.Option(help="Minimum estimated Jaccard similarity.")] = 0.5,
    status: Annotated[str, typer.Option(help="open, accepted, rejected or all.")] = "open",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Suggested links between clusters, strongest first."""
    from ringtrace.services import suggestion_finder

    with open_store(settings(ctx)) as store:
        if refresh:
            new = suggestion_finder.refresh(store, threshold)
            typer.echo(f"{new} new suggestion(s)", err=True)
        rows = store.suggestions.find(None if status == "all" else status)
    if as_json:
        typer.echo(json.dumps({"suggestions": rows}, ensure_ascii=False, indent=2))
        return
    for r in rows:
        typer.echo(
            f"#{r['id']} {r['kind']} {r['score']:.2f}  {r['a']['source']}/{r['a']['external_id']}"
            f"  ~  {r['b']['source']}/{r['b']['external_id']}  [{r['status']}]"
        )


@suggest_app.command("accept")
@handle_errors
def suggestions_accept(
    ctx: typer.Context,
    suggestion: Annotated[int, typer.Argument(help="The suggestion's number.")],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Accept a suggestion: merge the two clusters."""
    from ringtrace.services import decisions

    with open_store(settings(ctx)) as store:
        decisions.decide_suggestion(store, suggestion, accept=True, reason=reason)
    typer.echo(f"suggestion {suggestion} accepted: clusters merged")


@suggest_app.command("reject")
@handle_errors
def suggestions_reject(
    ctx: typer.Context,
    suggestion: Annotated[int, typer.Argument(help="The suggestion's number.")],
    reason: Annotated[str, typer.Option(help="Why (required; audited).")],
) -> None:
    """Reject a suggestion; it will not be suggested again."""
    from ringtrace.services import decisions

    with open_store(settings(ctx)) as store:
        decisions.decide_suggestion(store, suggestion, accept=False, reason=reason)
    typer.echo(f"suggestion {suggestion} rejected")
