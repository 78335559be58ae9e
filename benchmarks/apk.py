"""APK analysis speed and memory: ringtrace beside androguard's full AnalyzeAPK.

Builds test APKs from source (tests/apk_build.py: the contact-stealer fixture, plus ordinary
filler classes to reach realistic sizes). Each analysis of each file runs in a fresh process
pinned to one core. The time covers the analysis only: imports are excluded for both tools.
The memory figure is that process's peak resident size. For ringtrace the figure is also
measured end to end through the sandbox (fork server and child process, as the product
runs it). Both tools must find the planted server.

With ``--real`` it measures whole commands on the real apps in ../shared/data/real-apks
(never copied into the repository; without them it says so and exits 2):
``ringtrace apk analyze FILE --json`` as a user runs it (interpreter start-up, imports, the
sandboxed child and the JSON output included) beside a script that runs androguard's
``AnalyzeAPK`` on the same file, also from start-up. Each command runs in turn, pinned to one
core, after one untimed run of each (bytecode compiled, as an installed package has it, and
the file cached); the median wall time of ``--runs`` runs and the peak resident memory of the
command's largest process are reported. It exits 1 if an app is under the ``--floor`` speed-up (3x), if
ringtrace's runs printed different results, or if the two tools disagree on a fact both read:
the package, the signing certificates, or an endpoint ringtrace found in the code, manifest
or resources that is not a string androguard sees there (checked in one more, untimed run).

Usage: python benchmarks/apk.py [--runs 3] [--sizes 0,1500,3300]
       python benchmarks/apk.py --real [--runs 5] [--floor 3]
(sizes are filler classes; 3,300 gives a ~2 MB APK with a ~5 MB classes.dex).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one(tool: str, path: str) -> None:
    """Child mode: analyse ``path`` once with ``tool`` and print time and peak memory."""
    import resource

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if tool == "ringtrace":
        import ringtrace.apk.preload  # noqa: F401  (loaded and warmed, as in the sandbox)
        from ringtrace.apk.analysis import analyze_bytes

        data = Path(path).read_bytes()
        t0 = time.perf_counter()
        r = analyze_bytes(data)
        elapsed = time.perf_counter() - t0
        found = any(e["value"] == "chat-priv.top" for e in r["endpoints"])
    elif tool == "sandboxed":
        from ringtrace.apk.sandbox import analyze_isolated

        analyze_isolated(Path(path))  # starts the fork server
        t0 = time.perf_counter()
        r = analyze_isolated(Path(path))
        elapsed = time.perf_counter() - t0
        found = any(e["value"] == "chat-priv.top" for e in r["endpoints"])
        from ringtrace.apk import sandbox

        print(json.dumps({"s": elapsed, "mib": sandbox.last_peak_rss_mib, "found": found}))
        return
    else:
        from loguru import logger

        logger.remove()
        from androguard.misc import AnalyzeAPK

        t0 = time.perf_counter()
        _apk, _dexes, dx = AnalyzeAPK(path)
        elapsed = time.perf_counter() - t0
        found = any("chat-priv.top" in s.get_value() for s in dx.get_strings())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"s": elapsed, "mib": peak, "found": found}))


def measure(tool: str, path: Path, runs: int) -> tuple[float, float, bool]:
    times, mems, found = [], [], True
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--one", tool, str(path)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rec = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(rec["s"])
        mems.append(rec["mib"])
        found = found and rec["found"]
    return statistics.median(times), max(mems), found


REAL = ROOT.parent / "shared" / "data" / "real-apks"
FLOOR = 3.0  # issue 22: the whole command at least 3x faster than AnalyzeAPK, per app
ANDROGUARD_SCRIPT = (
    "import sys\n"
    "from loguru import logger\n"
    "logger.remove()\n"
    "from androguard.misc import AnalyzeAPK\n"
    "AnalyzeAPK(sys.argv[1])\n"
)
# Untimed: what AnalyzeAPK knows of the facts ringtrace reports (package, signing
# certificates, and whether each endpoint ringtrace found in the code, manifest or resources
# is a string androguard sees there too).
ANDROGUARD_FACTS = """
import hashlib, json, sys
from loguru import logger
logger.remove()
from androguard.misc import AnalyzeAPK
from androguard.core.axml import AXMLPrinter
a, _dexes, dx = AnalyzeAPK(sys.argv[1])
wanted = json.load(open(sys.argv[2]))
texts = [s.get_value() for s in dx.get_strings()]
texts.append(a.get_android_manifest_axml().get_xml().decode("utf-8", "replace"))
arsc = a.get_android_resources()
pool = arsc.stringpool_main if arsc is not None else None
if pool is not None:
    texts += [pool.getString(i) for i in range(pool.stringCount)]
for name in a.get_files():
    if name.startswith("res/") and name.endswith(".xml"):
        try:
            texts.append(AXMLPrinter(a.get_file(name)).get_xml().decode("utf-8", "replace"))
        except Exception:
            pass
blob = "\\n".join(texts).lower()
certs = sorted({hashlib.sha256(c.dump()).hexdigest() for c in a.get_certificates()})
print(json.dumps({"package": a.get_package(), "certificates": certs,
                  "missing": sorted(h for h in wanted if h.lower() not in blob)}))
"""
_BOTH_READ = ("classes", "AndroidManifest.xml", "resources.arsc", "res/")


# As installed packages run: with their bytecode compiled (pip compiles it at install; an
# environment that forbids writing it would make only ringtrace, installed from source here,
# compile itself at every start).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _command(cmd: list[str], stdout: Any = subprocess.DEVNULL) -> tuple[float, float]:
    """Wall time and peak resident memory (MiB, largest process) of one command."""
    core = str(min(os.sched_getaffinity(0)))
    t0 = time.perf_counter()
    proc = subprocess.Popen(["taskset", "-c", core, *cmd], stdout=stdout,
                            stderr=subprocess.DEVNULL, env=_ENV)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss / 1024


def disagreements(ours: dict[str, Any], apk: Path) -> list[str]:
    """Facts both tools read that they do not agree on: the package, the signing
    certificates, and endpoints ringtrace found in what androguard also reads."""
    hosts = set()
    for ep in ours["endpoints"]:
        if all(f.startswith(_BOTH_READ) for f in ep["found_in"]):
            hosts.update(ep["hosts"] or [ep["value"]])
        elif any(f.startswith(_BOTH_READ) for f in ep["found_in"]):
            hosts.add(ep["value"])  # some hosts may come from assets or native code only
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(sorted(hosts), f)
        f.flush()
        out = subprocess.run([sys.executable, "-c", ANDROGUARD_FACTS, str(apk), f.name],
                             capture_output=True, text=True, check=True)  # fmt: skip
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    problems = []
    if theirs["package"] != ours["package"]:
        problems.append(f"package: {ours['package']} vs androguard's {theirs['package']}")
    mine = sorted(c["sha256"] for c in ours["certificates"])
    if mine != theirs["certificates"]:
        problems.append(f"certificates: {mine} vs androguard's {theirs['certificates']}")
    if theirs["missing"]:
        problems.append(f"endpoints androguard does not see: {theirs['missing']}")
    return problems


def real(runs: int, floor: float) -> int:
    apks = sorted(REAL.glob("*.apk")) if REAL.is_dir() else []
    if not apks:
        print(f"no real apps in {REAL}: this benchmark needs ../shared/data/real-apks "
              "(kept out of the repository); nothing was measured", file=sys.stderr)  # fmt: skip
        return 2
    ringtrace = str(Path(sys.executable).with_name("ringtrace"))
    print(f"whole commands, each pinned to one core, run in turn, median of {runs} runs; "
          f"peak RSS of the largest process; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    print(f"{'app':<40} {'size':>8} | {'ringtrace apk analyze':>22} | "
          f"{'AnalyzeAPK script':>22} | speed-up")  # fmt: skip
    failed = []
    for apk in apks:
        ours, theirs, outputs = [], [], set()
        commands = ([ringtrace, "apk", "analyze", str(apk), "--json"],
                    [sys.executable, "-c", ANDROGUARD_SCRIPT, str(apk)])  # fmt: skip
        for cmd in commands:
            _command(cmd)  # untimed: bytecode written, the file in the page cache, for both
        for _ in range(runs):  # alternate, so both see the same machine load
            with tempfile.TemporaryFile("w+") as out:
                ours.append(_command(commands[0], out))
                out.seek(0)
                outputs.add(out.read())
            theirs.append(_command(commands[1]))
        o = statistics.median(t for t, _ in ours), max(m for _, m in ours)
        a = statistics.median(t for t, _ in theirs), max(m for _, m in theirs)
        ratio = a[0] / o[0]
        print(f"{apk.name:<40} {apk.stat().st_size / 2**20:6.2f}MB | "
              f"{o[0]:7.3f} s {o[1]:7.0f} MiB | {a[0]:7.3f} s {a[1]:7.0f} MiB | "
              f"{ratio:5.1f}x")  # fmt: skip
        if len(outputs) != 1:
            failed.append(f"{apk.name}: the runs printed different results")
        for problem in disagreements(json.loads(outputs.pop()), apk):
            failed.append(f"{apk.name}: {problem}")
        if ratio < floor:
            failed.append(f"{apk.name}: {ratio:.1f}x is under the {floor:g}x floor")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    for problem in failed:
        print(f"FAIL {problem}", file=sys.stderr)
    if not failed:
        print(f"ok: every app at least {floor:g}x, and both tools agree on package, "
              "certificates and endpoints")  # fmt: skip
    return 1 if failed else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="0,1500,3300")
    ap.add_argument("--real", action="store_true", help="whole commands on the real apps")
    ap.add_argument("--floor", type=float, default=FLOOR, help="least speed-up per app (--real)")
    ap.add_argument("--one", nargs=2, metavar=("TOOL", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(*args.one)
        return
    if args.real:
        sys.exit(real(args.runs, args.floor))
    from tests.apk_build import build, keystore, missing_tools

    if missing_tools():
        raise SystemExit(f"missing: {', '.join(missing_tools())} (see scripts/test)")
    folder = Path(tempfile.mkdtemp(prefix="ringtrace-apk-bench-"))
    key = keystore(folder, "ring")
    print(f"{os.cpu_count()} cores available; each analysis pinned to one core; "
          f"median of {args.runs} runs")  # fmt: skip
    print(f"{'APK':>9} {'dex':>9} | {'ringtrace':>18} | {'sandboxed':>18} | "
          f"{'AnalyzeAPK':>18} | speed-up")  # fmt: skip
    for n in (int(x) for x in args.sizes.split(",")):
        path = build("stealer", folder / f"stealer-{n}.apk", key=key, filler_classes=n)
        import zipfile

        dex = zipfile.ZipFile(path).getinfo("classes.dex").file_size
        ours = measure("ringtrace", path, args.runs)
        boxed = measure("sandboxed", path, args.runs)
        full = measure("androguard", path, args.runs)
        assert ours[2] and boxed[2] and full[2], "a tool missed the planted server"
        print(f"{path.stat().st_size / 2**20:7.2f}MB {dex / 2**20:7.2f}MB | "
              f"{ours[0]:6.3f} s {ours[1]:6.0f} MiB | {boxed[0]:6.3f} s {boxed[1]:6.0f} MiB | "
              f"{full[0]:6.3f} s {full[1]:6.0f} MiB | {full[0] / ours[0]:5.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
