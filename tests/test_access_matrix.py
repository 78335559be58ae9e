"""The access matrix: every route of the app (from its route table, every method) x every
role (anonymous, and each role by API token) x the object's relation to the viewer's agency x
TLP, against rules written here, independently of the code (docs/access.md). A route with no
rule here fails the test, so a new route cannot ship without one.

Relations of an object to the viewer's agency (agency-a):
- ``own``: a report of agency-a (in a ring agency-b shares into);
- ``shared``: a report agency-b put into a ring of agency-a's (it held a key agency-a's report
  already held): readable under the TLP rules;
- ``hit``: a report of agency-b that a later report of agency-a matched: agency-a knows it
  exists and whose it is, nothing more (agency-b has not shared it);
- ``unshared``: a report of agency-b in a ring without agency-a's reports: unknown.

Every report of the world carries canary strings (reference, identifier, narrative, the
reporter's contact); no answer to agency-a may hold a canary above what it may see of that
report, whatever the route, role or status.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ringtrace.domain.models import ReportRef
from ringtrace.services.intake import import_lines
from ringtrace.settings import Settings
from ringtrace.store import Store
from ringtrace.web.app import create_app
from tests.conftest import _pg_admin_conninfo
from tests.factories import line, report

PASSWORD = "access-matrix-password"
VIEWER, OTHER = "agency-a", "agency-b"
TLPS = ("clear", "green", "amber", "amber+strict", "red")
RELATIONS = ("own", "shared", "hit", "unshared")
ROLES = ("victim_support", "analyst", "supervisor", "admin", "instance_admin")
ADMINS = {"admin", "instance_admin"}

# What agency-a may see of a report: 0 nothing, 1 that it exists (its reference, agency,
# date, marking), 2 its identifiers, 3 its content, 4 everything (its contact details too).
NONE, EXISTS, INDICATORS, CONTENT, FULL = range(5)


def expected_view(relation: str, tlp: str) -> int:
    if relation == "own":
        return FULL
    if relation == "shared":
        return CONTENT if tlp in ("clear", "green", "amber") else EXISTS
    return EXISTS if relation == "hit" else NONE


# Which role may use which permission (docs/access.md, "Who may do what").
PERMITTED: dict[str, set[str]] = {
    "reports.read": set(ROLES), "reports.write": set(ROLES), "clusters.read": set(ROLES),
    "triage.work": set(ROLES),
    "clusters.edit": {"analyst", "supervisor", *ADMINS},
    "evidence.download": {"analyst", "supervisor", *ADMINS},
    "audit.read": {"supervisor", *ADMINS},
}  # fmt: skip


@dataclass(frozen=True)
class Subject:
    """One object of the world, as the matrix uses it."""

    relation: str
    tlp: str
    id: int
    ref: ReportRef
    key: str  # a telegram handle only this report holds
    ring: int  # the ring it is in
    anchor: int  # a report of agency-a's in the ring S_tlp (for "unrelated")
    solo_ring: int  # a ring of agency-a's reports only (for "merge")
    solo_ref: ReportRef

    @property
    def view(self) -> int:
        return expected_view(self.relation, self.tlp)

    @property
    def ring_visible(self) -> bool:
        return self.relation != "unshared"  # the ring holds a report of agency-a's


Expect = Callable[[Subject], bool]  # may the viewer act on this subject (given the role)?


@dataclass(frozen=True)
class Rule:
    permission: str  # "public", or a permission of PERMITTED
    # How the request is built from a subject (None: the route takes no object).
    build: Callable[[Subject], tuple[str, dict[str, Any] | None]] | None = None
    allowed: Expect | None = None  # when it is allowed (with the permission)
    urls: tuple[str, ...] = ()  # objectless routes: the URLs to try (default: the path)
    data: dict[str, Any] | None = None


def _form(**fields: Any) -> dict[str, Any]:
    return fields


def _ring(s: Subject) -> bool:
    return s.ring_visible


def _exists(s: Subject) -> bool:
    return s.view >= EXISTS


def _indicators(s: Subject) -> bool:
    return s.view >= INDICATORS


def _unrelated(s: Subject) -> bool:
    # The subject and agency-a's anchor share the ring's key when in ring S_tlp; its every
    # holder must be seen in detail, agency-b's shared report of that marking among them.
    return s.relation in ("own", "shared") and s.tlp in ("clear", "green", "amber")


def _taxii_urls(suffix: str) -> tuple[str, ...]:
    from ringtrace.web.taxii import LEVELS, collection_id

    return tuple(f"/taxii2/api/collections/{collection_id(lv)}/{suffix}" for lv in LEVELS)


RULES: dict[tuple[str, str], Rule] = {
    # The public side: no login.
    **{(m, p): Rule("public") for m, p in (
        ("GET", "/"), ("POST", "/report"), ("GET", "/status"), ("POST", "/status"),
        ("POST", "/status/add"), ("POST", "/status/withdraw"), ("GET", "/report"),
        ("GET", "/receipt"), ("GET", "/receipt/code.txt"), ("POST", "/receipt/saved"),
        ("POST", "/status/close"), ("POST", "/status/fingerprint"), ("POST", "/exit"),
        ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/healthz"),
        ("GET", "/readyz"), ("GET", "/openapi.json"),
    )},
    # The API.
    ("POST", "/api/reports"): Rule("reports.write"),
    ("GET", "/api/reports"): Rule("reports.read"),
    ("GET", "/api/reports/{report_id}"): Rule(
        "reports.read", lambda s: (f"/api/reports/{s.id}", None), _exists),
    ("GET", "/api/reports/{report_id}/attachments/{position}"): Rule(
        "evidence.download", lambda s: (f"/api/reports/{s.id}/attachments/0", None),
        lambda s: s.view >= CONTENT),
    ("GET", "/api/clusters"): Rule("clusters.read"),
    ("GET", "/api/clusters/{cluster_id}"): Rule(
        "clusters.read", lambda s: (f"/api/clusters/{s.ring}", None), _ring),
    # The console.
    ("GET", "/console"): Rule("reports.read"), ("GET", "/console/"): Rule("reports.read"),
    ("POST", "/console/alerts/seen"): Rule("reports.read"),
    ("GET", "/console/triage"): Rule("triage.work"),
    ("POST", "/console/triage/{report_id}"): Rule(
        "triage.work", lambda s: (f"/console/triage/{s.id}", _form(action="take")),
        lambda s: s.relation == "own"),
    ("GET", "/console/search"): Rule(
        "reports.read", lambda s: (f"/console/search?q={s.key}", None), lambda s: True),
    ("GET", "/console/clusters"): Rule("clusters.read"),
    ("GET", "/console/clusters/{cluster_id}"): Rule(
        "clusters.read", lambda s: (f"/console/clusters/{s.ring}", None), _ring),
    ("POST", "/console/clusters/{cluster_id}/watch"): Rule(
        "clusters.read", lambda s: (f"/console/clusters/{s.ring}/watch", _form(on="1")), _ring),
    ("GET", "/console/timeline/{cluster_id}"): Rule(
        "clusters.read", lambda s: (f"/console/timeline/{s.ring}", None), _ring),
    ("GET", "/console/clusters/{cluster_id}/cut"): Rule(
        "clusters.edit", lambda s: (f"/console/clusters/{s.ring}/cut?key=telegram|{s.key}", None),
        _indicators),
    ("POST", "/console/clusters/{cluster_id}/cut"): Rule(  # no reason: refused after the check
        "clusters.edit",
        lambda s: (f"/console/clusters/{s.ring}/cut", _form(key=f"telegram|{s.key}", reason="")),
        _indicators),
    ("GET", "/console/clusters/{cluster_id}/unrelated"): Rule(
        "clusters.edit",
        lambda s: (f"/console/clusters/{s.ring}/unrelated?a={s.id}&b={s.anchor}", None),
        _unrelated),
    ("POST", "/console/clusters/{cluster_id}/unrelated"): Rule(
        "clusters.edit",
        lambda s: (f"/console/clusters/{s.ring}/unrelated",
                   _form(report_a=s.id, report_b=s.anchor, reason="")),
        _unrelated),
    ("GET", "/console/merge"): Rule(
        "clusters.edit", lambda s: (f"/console/merge?a={s.solo_ring}&b={s.ring}", None), _ring),
    ("POST", "/console/merge"): Rule(
        "clusters.edit", lambda s: ("/console/merge", _form(a=s.solo_ring, b=s.ring, reason="")),
        _ring),
    ("GET", "/console/reports/{report_id}"): Rule(
        "reports.read", lambda s: (f"/console/reports/{s.id}", None), _exists),
    ("GET", "/console/report"): Rule(
        "reports.read",
        lambda s: (f"/console/report?source={s.ref.source}&external_id={s.ref.external_id}",
                   None),
        _exists),
    ("GET", "/console/explain"): Rule(
        "reports.read",
        lambda s: (f"/console/explain?a={s.solo_ref.source}/{s.solo_ref.external_id}"
                   f"&b={s.ref.source}/{s.ref.external_id}", None),
        _exists),
    ("GET", "/console/audit"): Rule("audit.read"),
    ("GET", "/console/suggestions"): Rule("clusters.read"),
    # No suggestion exists in this world: every permitted role gets the same 404.
    ("POST", "/console/suggestions/{suggestion_id}"): Rule(
        "clusters.edit", lambda s: ("/console/suggestions/999999", _form(decision="accept")),
        lambda s: False),
    ("GET", "/console/keys/{key_type}/{value:path}"): Rule(
        "reports.read", lambda s: (f"/console/keys/telegram/{s.key}", None), _indicators),
    ("POST", "/console/keys/watch"): Rule(
        "reports.read", lambda s: ("/console/keys/watch", _form(key_type="telegram",
                                                                 value=s.key, on="1")),
        _indicators),
    ("POST", "/console/clusters/{cluster_id}/case"): Rule(
        "clusters.edit",
        lambda s: (f"/console/clusters/{s.ring}/case", _form(status="investigating")), _ring),
    ("POST", "/console/clusters/{cluster_id}/notes"): Rule(
        "clusters.edit",
        lambda s: (f"/console/clusters/{s.ring}/notes", _form(text="matrix note")), _ring),
    ("POST", "/console/clusters/{cluster_id}/share"): Rule(
        "clusters.edit",
        lambda s: (f"/console/clusters/{s.ring}/share", _form(agency=OTHER)), _ring),
    ("POST", "/console/clusters/{cluster_id}/exports"): Rule(
        "evidence.download",
        lambda s: (f"/console/clusters/{s.ring}/exports", _form(format="csv")), _ring),
    ("GET", "/console/exports"): Rule("evidence.download"),
    # An export's download is its maker's alone; none is named here: 404 for everyone.
    ("GET", "/console/exports/{job_id}/download"): Rule(
        "evidence.download", lambda s: ("/console/exports/999999/download", None),
        lambda s: False),
    # TAXII.
    ("GET", "/taxii2/"): Rule("reports.read"), ("GET", "/taxii2/api/"): Rule("reports.read"),
    ("GET", "/taxii2/api/collections/"): Rule("reports.read"),
    ("GET", "/taxii2/api/collections/{cid}/"): Rule("reports.read", urls=_taxii_urls("")),
    ("GET", "/taxii2/api/collections/{cid}/objects/"): Rule(
        "reports.read", urls=_taxii_urls("objects/")),
    ("POST", "/taxii2/api/collections/{cid}/objects/"): Rule(
        "reports.write", urls=_taxii_urls("objects/")[:1], data={"objects": [
            {"type": "identity", "spec_version": "2.1", "name": "matrix",
             "id": "identity--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
             "created": "2024-07-01T00:00:00.000Z", "modified": "2024-07-01T00:00:00.000Z",
             "identity_class": "organization"},
            {"type": "report", "spec_version": "2.1", "name": "matrix", "published":
             "2024-07-01T00:00:00.000Z", "report_types": ["threat-report"],
             "id": "report--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0062",
             "created": "2024-07-01T00:00:00.000Z", "modified": "2024-07-01T00:00:00.000Z",
             "object_refs": ["identity--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"],
             "description": "a report posted over TAXII by the matrix"},
        ]}),
}  # fmt: skip


# -- the world ---------------------------------------------------------------------------


def _canaries(ext: str) -> dict[int, str]:
    """The strings of one report, by the view that may show them."""
    tag = ext.lower().replace("-", "").replace("+", "")
    return {
        EXISTS: ext,
        INDICATORS: f"qzkey{tag}",
        CONTENT: f"QZNARR{tag}",
        FULL: f"QZCONTACT{tag}",
    }


def _doc(agency: str, ext: str, tlp: str, keys: list[str]) -> dict[str, Any]:
    c = _canaries(ext)
    return report(
        source=agency, external_id=ext, tlp=tlp,
        reporter={"country": "SG", "contact": c[FULL], "consent_share": True},
        narrative=f"{c[CONTENT]}: they wrote to me on telegram",
        offender_identifiers=[{"type": "telegram", "value": "@" + k}
                              for k in [c[INDICATORS], *keys]],
        attachments=[{"filename": "chat.txt", "content_base64": "UVpFVklERU5DRQ=="}],
    )  # fmt: skip


@dataclass
class World:
    settings: Settings
    tokens: dict[str, str]
    subjects: list[Subject]
    views: dict[str, int]  # external id -> what agency-a may see of it


def _build(settings: Settings) -> World:
    settings = settings.model_copy(update={"home_agency": VIEWER})
    store = Store.open(settings)
    store.migrate()
    for agency in (VIEWER, OTHER):
        store.accounts.ensure_agency(agency)
    # Arrival order matters (who put a report into whose ring), so import in steps.
    rows: list[tuple[dict[str, Any], str, str]] = []  # (doc, relation or "", tlp)
    rows.append((_doc(VIEWER, "A-SOLO-1", "amber", ["ringsolo"]), "", "amber"))
    rows.append((_doc(VIEWER, "A-SOLO-2", "amber", ["ringsolo"]), "", "amber"))
    for i, tlp in enumerate(TLPS):
        rows += [
            (_doc(VIEWER, f"A-RING-{i}", "amber", [f"ringshared{i}"]), "", tlp),
            (_doc(VIEWER, f"A-OWN-{i}", tlp, [f"ringshared{i}"]), "own", tlp),
            (_doc(OTHER, f"B-HIT-{i}", tlp, [f"ringhit{i}"]), "hit", tlp),
            (_doc(OTHER, f"B-UNSHARED-{i}", tlp, [f"ringother{i}"]), "unshared", tlp),
            (_doc(OTHER, f"B-PEER-{i}", "green", [f"ringother{i}"]), "", tlp),
        ]
    # Later: agency-b's reports join agency-a's rings; agency-a's join agency-b's.
    for i, tlp in enumerate(TLPS):
        rows += [
            (_doc(OTHER, f"B-SHARED-{i}", tlp, [f"ringshared{i}"]), "shared", tlp),
            (_doc(VIEWER, f"A-HITTER-{i}", "amber", [f"ringhit{i}"]), "", tlp),
        ]
    for doc, _, _ in rows:
        import_lines(store, [line(doc)])
    ids = {d["external_id"]: store.reports.id_of(ReportRef(d["source"], d["external_id"]))
           for d, _, _ in rows}  # fmt: skip
    entries = store.visibility.report_entries(ids.values())

    def ring_of(ext: str) -> int:
        cid = entries[ids[ext]][2]
        assert cid is not None, f"{ext} is in no ring: the world is not as planned"
        return cid

    subjects = []
    for doc, relation, tlp in rows:
        if not relation:
            continue
        ext = doc["external_id"]
        i = TLPS.index(tlp)
        subjects.append(Subject(
            relation, tlp, ids[ext], ReportRef(doc["source"], ext), _canaries(ext)[INDICATORS],
            ring_of(ext), ids[f"A-RING-{i}"], ring_of("A-SOLO-1"),
            ReportRef(VIEWER, "A-SOLO-1"),
        ))  # fmt: skip
    views: dict[str, int] = {}
    for doc, relation, tlp in rows:
        ext = doc["external_id"]
        if relation:
            views[ext] = expected_view(relation, tlp)
        else:
            views[ext] = FULL if doc["source"] == VIEWER else NONE
    tokens = {}
    for role in ROLES:
        store.accounts.add_user(f"{role}-a", PASSWORD, VIEWER, role)
        tokens[role] = store.accounts.create_token(f"{role}-a", "matrix")
    store.accounts.add_user("analyst-b", PASSWORD, OTHER, "analyst")  # someone work must not go to
    store.close()
    return World(settings, tokens, subjects, views)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One small store per backend for the whole module."""
    data = Path(tmp_path_factory.mktemp("matrix")) / "data"
    if request.param == "sqlite":
        yield _build(Settings(data_dir=data))
        return
    import psycopg
    from sqlalchemy.engine import make_url

    pg = request.getfixturevalue("pg_available")
    name = f"ringtrace_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(pg).set(database=name).render_as_string(hide_password=False)
        yield _build(Settings(data_dir=data, database_url=url))
    finally:
        with psycopg.connect(_pg_admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    app = create_app(world.settings)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


# -- the checks --------------------------------------------------------------------------


def _app_routes(app: Any) -> set[tuple[str, str]]:
    def flatten(routes: Any) -> Iterator[Any]:
        for r in routes:
            if hasattr(r, "original_router"):  # FastAPI includes routers lazily
                yield from flatten(r.original_router.routes)
            else:
                yield r

    return {
        (m, r.path)
        for r in flatten(app.routes)
        for m in (getattr(r, "methods", None) or set()) - {"HEAD"}
        if not r.path.startswith("/static")
    }


def test_every_route_has_a_rule(client: TestClient) -> None:
    routes = _app_routes(client.app)
    assert routes == set(RULES), (
        f"routes without a rule, or rules without a route: {sorted(routes ^ set(RULES))}"
    )


def _leaks(world: World, body: str, sent: str, *, floor: int = NONE) -> list[str]:
    """Canaries in ``body`` above what agency-a may see of their report (what the request
    itself carried is not a leak). ``floor``: at least this much of every report."""
    out = []
    for ext, view in world.views.items():
        view = max(view, floor)
        for level, canary in _canaries(ext).items():
            if (
                level > view
                and canary.lower() not in sent.lower()
                and canary.lower() in body.lower()
            ):
                out.append(f"{canary} (of {ext}, seen at {view})")
    return out


def _send(client: TestClient, method: str, url: str, data: dict[str, Any] | None,
          token: str | None, *, json_body: bool = False) -> Any:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(url, headers=headers, follow_redirects=False)
    if json_body:
        return client.post(url, json=data or {}, headers=headers, follow_redirects=False)
    return client.post(url, data=data or {}, headers=headers, follow_redirects=False)


def _requests(rule: Rule, path: str, world: World) -> Iterator[tuple[Subject | None, str, Any]]:
    if rule.build is None:
        for url in rule.urls or (path,):
            yield None, url, rule.data
        return
    for s in world.subjects:
        url, data = rule.build(s)
        yield s, url, data


def _audit(world: World) -> list[Any]:
    store = Store.open(world.settings)
    try:
        return store.audit.entries()
    finally:
        store.close()


def _audit_seq(world: World) -> int:
    return max((e.seq for e in _audit(world)), default=0)


def test_access_matrix(client: TestClient, world: World) -> None:
    """Every route x anonymous and every role x relation x TLP: the status the rules give,
    and no canary of what the viewer may not see, in any answer."""
    failures: list[str] = []
    checked = 0
    start = _audit_seq(world)
    submitted = iter(range(10**6))
    for (method, path), rule in sorted(RULES.items()):
        for subject, url, data in _requests(rule, path, world):
            where = f"{method} {url}"
            if subject is not None:
                where += f" [{subject.relation}, {subject.tlp}]"
            callers: list[str | None] = [None, *(ROLES if rule.permission != "public" else ())]
            for role in callers:
                body = data
                if (method, path) == ("POST", "/api/reports"):
                    # A report of the caller's own agency holding nothing that links.
                    body = report(source=VIEWER, external_id=f"SUB-{next(submitted)}",
                                  narrative="a report submitted by the matrix")  # fmt: skip
                token = world.tokens[role] if role else None
                res = _send(client, method, url, body, token,
                            json_body=path.startswith(("/api/", "/taxii2/")))  # fmt: skip
                checked += 1
                who = role or "anonymous"
                status = res.status_code
                if status >= 500:
                    failures.append(f"{who} {where}: {status}")
                # The instance's administrator reads every agency's audit entries, which
                # name reports by reference (and nothing from inside them).
                floor = EXISTS if (role, path) == ("instance_admin", "/console/audit") else NONE
                leaks = _leaks(world, res.text, url + repr(body), floor=floor)
                if leaks:
                    failures.append(f"{who} {where}: leaks {leaks[:3]}")
                if rule.permission == "public":
                    if res.headers.get("location", "").startswith("/login?next="):
                        failures.append(f"{who} {where}: a public route asks for a login")
                    continue
                if role is None:
                    machine = path.startswith(("/api/", "/taxii2"))
                    ok = (
                        status == 401
                        if machine
                        else (status == 303 and res.headers["location"].startswith("/login"))
                    )
                    if not ok:
                        failures.append(f"{who} {where}: {status} without a login")
                    continue
                if role not in PERMITTED[rule.permission]:
                    if status != 403:
                        failures.append(f"{who} {where}: {status}, the role may not")
                    continue
                allowed = subject is None or rule.allowed is None or rule.allowed(subject)
                if not allowed and subject is not None and subject.view == NONE:
                    # Unknown to the viewer: exactly as if it did not exist.
                    if status != 404:
                        failures.append(f"{who} {where}: {status}, must answer 404")
                    continue
                if allowed:
                    if status in (401, 403, 404):
                        failures.append(f"{who} {where}: {status}, must be allowed")
                elif status not in (403, 404):
                    failures.append(f"{who} {where}: {status}, must be refused")
    assert checked > 1000
    assert not failures, f"{len(failures)} of {checked} wrong:\n" + "\n".join(failures[:40])
    # Every refused or invalid decision changed nothing: each report is in the ring it was.
    store = Store.open(world.settings)
    try:
        entries = store.visibility.report_entries([s.id for s in world.subjects])
    finally:
        store.close()
    # Every entry the requests wrote names the caller (the public side as itself), never the
    # operating-system user running the server.
    actors = {f"user:{role}-a@{VIEWER}" for role in ROLES} | {"web-public", "login"}
    written = [e for e in _audit(world) if e.seq > start]
    assert written, "the matrix wrote no audit entry: the check below would prove nothing"
    taxii = [e for e in written if e.action == "report.create" and "report--0c7b5b88" in e.subject]
    assert taxii, "the TAXII post stored no report: its audit entry went unchecked"
    assert {e.actor for e in written} <= actors, {
        (e.actor, e.action) for e in written if e.actor not in actors
    }
    moved = [f"{s.ref.external_id}: ring {s.ring} -> {entries[s.id][2]}"
             for s in world.subjects if entries[s.id][2] != s.ring]  # fmt: skip
    assert not moved, moved


def test_work_goes_only_to_the_viewers_agency(client: TestClient, world: World) -> None:
    """Assigning a report or a ring: a user of the assigner's agency, never another's (who
    is answered as unknown)."""
    own = next(s for s in world.subjects if s.relation == "own")
    for role in sorted(PERMITTED["clusters.edit"] & {"supervisor", *ADMINS}):
        h = {"Authorization": f"Bearer {world.tokens[role]}"}
        for assignee, status in (("analyst-b", 404), ("analyst-a", 303)):
            triage = client.post(f"/console/triage/{own.id}", headers=h,
                                 data={"action": "assign", "assignee": assignee},
                                 follow_redirects=False)  # fmt: skip
            ring = client.post(f"/console/clusters/{own.ring}/case", headers=h,
                               data={"status": "investigating", "owner": assignee},
                               follow_redirects=False)  # fmt: skip
            assert (triage.status_code, ring.status_code) == (status, status), (role, assignee)


# -- the command line --------------------------------------------------------------------

# The CLI has no login and no roles: it runs on the server, as whoever holds the database and
# its keys (the operator), and its audit entries name that operating-system user. What each
# command does with data: "writes" (changes state; audited), "reads" (prints or exports
# stored data: the operator's, all of it, unless it takes --agency, when the sharing rules
# of that agency apply) or "none" (no stored data). A new command without a rule fails.
CLI_RULES: dict[str, str] = {
    "init": "writes", "import": "writes", "extract": "none", "clusters": "reads",
    "rebuild": "writes", "serve": "none", "job": "writes", "worker": "writes", "demo": "writes",
    "check": "reads", "link": "writes", "explain": "reads", "evaluate": "none",
    "version": "none", "schema report": "none", "vault rotate-key": "writes",
    "vault check": "reads", "audit verify": "reads", "audit anchor": "writes",
    "evidence package": "reads", "evidence verify": "none", "report withdraw": "writes",
    "export stix": "reads", "export misp": "reads", "export parquet": "reads",
    "cluster merge": "writes", "cluster cut": "writes", "cluster unrelated": "writes",
    "suggestions list": "reads", "suggestions accept": "writes",
    "suggestions reject": "writes", "user add": "writes", "user token": "writes",
    "apk analyze": "none", "apk process": "writes", "media hash": "none",
    "media match": "reads", "media compare": "none", "takedown list": "reads",
    "takedown status": "writes", "takedown export": "reads",
}  # fmt: skip


def test_every_cli_command_has_a_rule() -> None:
    import typer

    from ringtrace.cli import app

    def walk(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[str]:
        subs = getattr(command, "commands", None)
        if not subs:
            yield " ".join(prefix)
            return
        for name, sub in subs.items():
            yield from walk(sub, (*prefix, name))

    commands = set(walk(typer.main.get_command(app)))
    assert commands == set(CLI_RULES), sorted(commands ^ set(CLI_RULES))
    assert set(CLI_RULES.values()) <= {"writes", "reads", "none"}
