"""Preparing a data folder and database, and the demo's."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ringtrace.errors import BadRequest

if TYPE_CHECKING:
    from ringtrace.settings import Settings
    from ringtrace.store import Store


@dataclass(frozen=True)
class Initialised:
    where: str  # the database: its dialect, or the SQLite file
    revision: str | None
    admin_password: str | None  # the first admin's, when this run created one (shown once)


def initialise(store: Store, settings: Settings) -> Initialised:
    """Create or migrate the schema, the vault folder and the home agency; create the first
    admin when there is no user yet."""
    store.migrate()
    settings.vault_dir.mkdir(parents=True, exist_ok=True)
    store.accounts.ensure_agency(settings.home_agency)
    where = (settings.database_url and store.dialect) or str(settings.sqlite_path)
    password = None
    if store.accounts.count_users() == 0:
        import secrets

        password = secrets.token_urlsafe(15)
        store.accounts.add_user("admin", password, settings.home_agency, "instance_admin")
    return Initialised(where, store.schema_revision(), password)


DEMO_MARKER = ".ringtrace-demo"
# Synthetic accounts of the demo only (the demo's data folder is recreated on every run).
DEMO_PASSWORD = "demo-only-password"
DEMO_USERS = (
    ("sg-analyst", "sg-police", "analyst"),
    ("sg-support", "sg-police", "victim_support"),
    ("sg-supervisor", "sg-police", "supervisor"),
    ("sg-admin", "sg-police", "admin"),
    ("hk-analyst", "hk-police", "analyst"),
    ("my-analyst", "my-helpline", "analyst"),
    # Someone at every agency the public page routes to (demo/scenario.py PUBLIC_ROUTES).
    ("intake-support", "intake-helpline", "victim_support"),
    ("in-support", "in-cybercell", "victim_support"),
    ("kr-support", "kr-police", "victim_support"),
    ("gb-support", "gb-helpline", "victim_support"),
    ("us-support", "us-tipline", "victim_support"),
    ("tw-support", "tw-165", "victim_support"),
)


def demo_settings(settings: Settings, data_dir: Path) -> Settings:
    """A fresh demo folder (refusing one that holds anything but an earlier demo) and the
    settings that use it."""
    from ringtrace.demo import INTAKE_AGENCY, PUBLIC_ROUTES

    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / DEMO_MARKER).exists():
            raise BadRequest(f"{data_dir} holds data that is not a ringtrace demo; "
                                "choose another --data-dir")  # fmt: skip
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    (data_dir / DEMO_MARKER).write_text("created by `ringtrace demo`; deleted by the next run\n")
    return settings.model_copy(update={
        "data_dir": data_dir, "database_url": None, "public_routes": PUBLIC_ROUTES,
        "public_intake_agency": INTAKE_AGENCY,
    })  # fmt: skip


@dataclass(frozen=True)
class Demo:
    reports: int
    clusters: int


def build_demo(store: Store, seed: int, background: int) -> Demo:
    """The synthetic scenario imported into a new store, with the demo's accounts."""
    from ringtrace.demo import generate
    from ringtrace.services.intake import import_lines

    store.migrate()
    scenario = generate(seed=seed, background=background)
    summary = import_lines(store, [json.dumps(d, ensure_ascii=False) for d in scenario.reports])
    clusters = len(store.clusters.ids())
    for name, agency, role in DEMO_USERS:
        store.accounts.add_user(name, DEMO_PASSWORD, agency, role)
    for source in sorted({d["source"] for d in scenario.reports}):
        store.accounts.ensure_agency(source)
    from ringtrace.demo.partners import confirm_all_matches

    confirm_all_matches(store)  # the demo's agencies are partners: no hit left unconfirmed
    return Demo(summary.created, clusters)
