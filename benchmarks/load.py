"""Load and crash test against the real server on PostgreSQL, loopback only.

Starts `ringtrace serve --workers N` on a fresh PostgreSQL database and sends open-loop mixed
traffic for a bounded time: report submissions with a small attachment (80%), console page
views (10%) and API searches (10%), at a target rate. Prints the achieved rates and latency
percentiles, and counts errors.

With --crash K the server's process group (server, workers and their analysis children) is
killed with SIGKILL K times during the run and restarted (with --redis, the `ringtrace
worker` too); with --pg-restart K PostgreSQL
itself is restarted K times (needs root and pg_ctlcluster). Afterwards every report
acknowledged with a 2xx must be stored exactly once (zero loss, no duplicates), with its
evidence in the vault, and every APK it brought analysed or queued again;
unacknowledged submissions are resent by the client, as a real client would, and are
idempotent. tests/test_crash.py runs a short version of this in CI.

Usage: python benchmarks/load.py [--seconds 120] [--rate 125] [--workers 2] [--crash 0]
       [--pg-restart 0] [--apk-every 0] [--redis redis://127.0.0.1:6379/14]
       [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
(--rate counts every request; 80% of them are report submissions.)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import operator
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RINGTRACE = str(ROOT / ".venv" / "bin" / "ringtrace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def restart_postgresql() -> None:
    """Restart the local PostgreSQL cluster (fast shutdown: open connections are cut)."""
    version, name = subprocess.run(
        ["pg_lsclusters", "-h"], check=True, capture_output=True, text=True
    ).stdout.split()[:2]
    subprocess.run(["pg_ctlcluster", version, name, "restart", "-m", "fast"], check=True,
                   capture_output=True, timeout=120)  # fmt: skip


def can_restart_postgresql() -> bool:
    import shutil

    return os.geteuid() == 0 and shutil.which("pg_ctlcluster") is not None


def _tiny_apk() -> bytes:
    """A zip named like an APK but without a manifest: its analysis ends as failed, which
    is a finished analysis all the same (the point is that none is left behind)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("classes.dex", b"dex\n035\x00" + bytes(64))
    return buf.getvalue()


def _fresh_database(admin_url: str) -> str:
    import sqlalchemy as sa

    name = f"ringtrace_load_{os.getpid()}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


class Server:
    def __init__(self, env: dict[str, str], port: int, workers: int) -> None:
        self.env, self.port, self.workers = env, port, workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = open(Path(env["RINGTRACE_DATA_DIR"]) / "server.log", "ab")  # noqa: SIM115

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [RINGTRACE, "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.log,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        import httpx2 as httpx

        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not become ready")

    def kill(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the server and every worker, at once
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.log.close()


class Worker:
    """`ringtrace worker` (jobs from Redis), in its own process group so it can be killed."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = open(Path(env["RINGTRACE_DATA_DIR"]) / "worker.log", "ab")  # noqa: SIM115

    def start(self) -> None:
        self.proc = subprocess.Popen([RINGTRACE, "worker", "--threads", "2"], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=self.log,
                                     start_new_session=True)  # fmt: skip

    def kill(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the worker and its analysis children
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # graceful: running jobs finish
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def _unfinished(db: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(db)
    with engine.connect() as conn:
        n = conn.execute(sa.text(
            "SELECT count(*) FROM apk_analyses WHERE status NOT IN ('done', 'failed')"
        )).scalar_one()  # fmt: skip
    engine.dispose()
    return int(n)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx2 as httpx

    db = _fresh_database(args.database_url)
    data = Path(tempfile.mkdtemp(prefix="ringtrace-load-"))
    env = {**os.environ, "RINGTRACE_DATABASE_URL": db, "RINGTRACE_DATA_DIR": str(data),
           "RINGTRACE_HOME_AGENCY": "load-agency", "RINGTRACE_SECURE_COOKIES": "false"}  # fmt: skip
    subprocess.run([RINGTRACE, "init"], env=env, check=True, capture_output=True)
    subprocess.run([RINGTRACE, "user", "add", "loader", "--agency", "load-agency", "--role", "analyst"],
                   env=env, check=True, input=b"load test password\n", capture_output=True)  # fmt: skip
    token = subprocess.run([RINGTRACE, "user", "token", "loader", "--name", "load"], env=env,
                           check=True, capture_output=True).stdout.decode().strip()  # fmt: skip
    worker: Worker | None = None
    if args.redis:
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        env["RINGTRACE_REDIS_URL"] = args.redis
        worker = Worker(env)
        worker.start()
    port = _free_port()
    server = Server(env, port, args.workers)
    server.start()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(7)
    latencies: dict[str, list[float]] = {"report": [], "page": [], "search": []}
    errors: dict[str, int] = {}
    acknowledged: set[str] = set()
    files_sent: dict[str, int] = {}
    pending: dict[str, dict[str, Any]] = {}
    attachment = base64.b64encode(
        b"[21:14] lily: send 5000 SGD or I post the video\n" * 20
    ).decode()
    apk = base64.b64encode(_tiny_apk()).decode()

    def new_report(i: int) -> dict[str, Any]:
        ring = rng.randrange(200)
        files = [{"filename": "chat.txt", "content_base64": attachment}]
        if args.apk_every and i % args.apk_every == 0:
            files.append({"filename": f"private-{i}.apk", "content_base64": apk})
        return {"external_id": f"LOAD-{i:07d}", "source": "load-agency",
                "received_at": "2024-07-02T21:14:00+08:00",
                "narrative": f"She asked me to install an app. WhatsApp +8526{ring:03d}4567, paid to DBS 123-{ring:05d}-9",
                "attachments": files}  # fmt: skip

    async def one(client: httpx.AsyncClient, kind: str, payload: dict[str, Any] | None) -> None:
        t0 = time.perf_counter()
        try:
            if kind == "report":
                assert payload is not None
                r = await client.post(f"{base}/api/reports", json=payload, headers=headers)
            elif kind == "page":
                r = await client.get(f"{base}/console/clusters", headers=headers)
            else:
                r = await client.get(f"{base}/api/reports?limit=20", headers=headers)
            ok = r.status_code < 400
            code = str(r.status_code)
        except httpx.HTTPError as e:
            ok, code = False, type(e).__name__
        latencies[kind].append(time.perf_counter() - t0)
        if ok and kind == "report" and payload is not None:
            acknowledged.add(payload["external_id"])
            files_sent[payload["external_id"]] = len(payload["attachments"])
            pending.pop(payload["external_id"], None)
        elif not ok:
            errors[f"{kind}:{code}"] = errors.get(f"{kind}:{code}", 0) + 1

    crash_at = sorted(rng.uniform(0.2, 0.8) * args.seconds for _ in range(args.crash))
    pg_at = sorted(rng.uniform(0.3, 0.7) * args.seconds for _ in range(args.pg_restart))
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    started = time.perf_counter()
    sent = 0
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        while (now := time.perf_counter() - started) < args.seconds:
            if crash_at and now >= crash_at[0]:
                crash_at.pop(0)
                server.kill()
                if worker is not None:
                    worker.kill()
                await asyncio.sleep(0.5)
                if worker is not None:
                    worker.start()
                await asyncio.get_running_loop().run_in_executor(None, server.start)
            if pg_at and now >= pg_at[0]:
                pg_at.pop(0)
                await asyncio.get_running_loop().run_in_executor(None, restart_postgresql)
            target = int(now * args.rate)
            while sent < target:
                roll = rng.random()
                if roll < 0.8:
                    doc = new_report(sent)
                    pending[doc["external_id"]] = doc
                    t = asyncio.create_task(one(client, "report", doc))
                else:
                    t = asyncio.create_task(one(client, "page" if roll < 0.9 else "search", None))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
                sent += 1
            await asyncio.sleep(0.002)
        if tasks:
            await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        acknowledged_in_run = set(acknowledged)  # before any resend: the crashes' window
        # A client resends what was never acknowledged (idempotent on source + external_id).
        resent = list(pending.values())
        for doc in resent:
            await one(client, "report", doc)
    server.stop()
    if worker is not None:
        # The workers finish what is queued; what a kill left running, the sweep (every
        # minute) sends again.
        deadline = time.monotonic() + 150
        while _unfinished(db) and time.monotonic() < deadline:
            await asyncio.sleep(1)
        worker.stop()
    else:
        # What a crash left queued or running is picked up by the next server start; here,
        # by the command an operator runs for leftovers.
        subprocess.run([RINGTRACE, "apk", "process"], env=env, check=True, capture_output=True)
    import sqlalchemy as sa

    engine = sa.create_engine(db)
    with engine.connect() as conn:
        stored = [r[0] for r in conn.execute(sa.text("SELECT external_id FROM reports"))]
        # Each stored report's evidence files, to compare with what was acknowledged.
        files_stored = dict(conn.execute(sa.text(
            "SELECT r.external_id, count(a.report_id) FROM reports r"
            " LEFT JOIN attachments a ON a.report_id = r.id AND a.stored GROUP BY r.external_id"
        )).all())  # fmt: skip
        unfinished = conn.execute(sa.text(
            "SELECT count(*) FROM apk_analyses WHERE status NOT IN ('done', 'failed')"
        )).scalar_one()  # fmt: skip
        apks = conn.execute(sa.text("SELECT count(*) FROM apk_analyses")).scalar_one()
    engine.dispose()
    lost = sorted(acknowledged - set(stored))
    # Acknowledged, stored, but without every file it was acknowledged with.
    incomplete = sorted(
        e for e in acknowledged if e in files_stored and files_stored[e] != files_sent[e]
    )
    duplicates = len(stored) - len(set(stored))
    vault = subprocess.run([RINGTRACE, "vault", "check"], env=env, capture_output=True, text=True)
    chain = subprocess.run([RINGTRACE, "audit", "verify"], env=env, capture_output=True, text=True)

    def pct(xs: list[float], p: float) -> float:
        return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else 0.0

    reports = latencies["report"]
    result = {
        "seconds": round(elapsed, 1), "workers": args.workers, "target_rate": args.rate,
        "requests": sent, "achieved_rps": round(sent / elapsed, 1),
        "reports_acknowledged": len(acknowledged), "report_rps": round(len(acknowledged) / elapsed, 1),
        "report_p50_ms": round(pct(reports, 0.5), 1), "report_p99_ms": round(pct(reports, 0.99), 1),
        "page_p99_ms": round(pct(latencies["page"], 0.99), 1),
        "search_p99_ms": round(pct(latencies["search"], 0.99), 1),
        "median_all_ms": round(statistics.median(functools.reduce(operator.iadd, latencies.values(), [])) * 1000, 1),
        "errors": errors, "crashes": args.crash, "resent_after_run": len(resent),
        "acknowledged_before_resend": len(acknowledged_in_run),
        "lost_acknowledged": len(lost), "incomplete_acknowledged": len(incomplete), "duplicates": duplicates, "stored": len(stored),
        "postgresql_restarts": args.pg_restart, "jobs_via": "redis" if args.redis else "thread",
        "apk_analyses": int(apks),
        "apk_unfinished": int(unfinished), "evidence_ok": vault.returncode == 0,
        "audit_ok": chain.returncode == 0,
    }  # fmt: skip
    if healthy(result):  # keep the database and the server's log only to look into a failure
        import shutil

        shutil.rmtree(data, ignore_errors=True)
        admin = sa.create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()
    else:
        result["kept"] = {"database": db, "data_dir": str(data)}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--rate", type=float, default=125)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--crash", type=int, default=0)
    ap.add_argument("--pg-restart", type=int, default=0)
    ap.add_argument("--apk-every", type=int, default=0)
    ap.add_argument("--redis", default=None,
                    help="run jobs through this Redis (flushed!) and a `ringtrace worker`")  # fmt: skip
    ap.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = ap.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    if not healthy(result):
        sys.exit(1)


def healthy(result: dict[str, Any]) -> bool:
    """Zero loss, every acknowledged report whole, nothing left unanalysed, evidence and
    audit intact."""
    return (
        not result["lost_acknowledged"]
        and not result["incomplete_acknowledged"]
        and not result["duplicates"]
        and not result["apk_unfinished"]
        and bool(result["evidence_ok"])
        and bool(result["audit_ok"])
    )


if __name__ == "__main__":
    main()
