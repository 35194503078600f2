"""Run every benchmark, or some by name, each bounded in time, and table their goals.

    .venv/bin/python bench/run.py                    # all of them, full size (about an hour)
    .venv/bin/python bench/run.py --quick            # all of them, small (a few minutes)
    .venv/bin/python bench/run.py intake digest      # just these
    .venv/bin/python bench/run.py --list

It makes sure this machine's PostgreSQL and Redis are up (starting them as CI does when
one has stopped); each benchmark then starts what else it needs (gunicorn, the Celery
worker and beat, Postfix's smtp-sink, wrk) on loopback and stops it afterwards. Each one
runs as its own process, killed if it overruns its time limit, and writes
bench/results/<name>.json and a dated section of bench/RESULTS.md. At the end this
reads those JSON files and appends one table of every goal, met or not, to RESULTS.md.
A --quick run checks the harness: it writes to bench/out/quick/ instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goals import GOALS  # noqa: E402  (bench/goals.py)

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Benchmark:
    script: str
    minutes: float  # the time limit of a full run
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ("--quick",)


BENCHMARKS: dict[str, Benchmark] = {
    "intake": Benchmark("intake.py", 15),
    "confirm": Benchmark("confirm.py", 15),
    "counts": Benchmark("count_reads.py", 40, full=("--keep",)),
    "email": Benchmark("email_throughput.py", 15),
    "digest": Benchmark("digest_run.py", 20),
    "export-signers": Benchmark("export_signers.py", 20, quick=("--sizes", "20000")),
    "export-counts": Benchmark("export_counts.py", 40, full=("--keep",),
                               quick=("--signatures", "200000")),
    "soak": Benchmark("soak.py", 20),
    "spam": Benchmark("spam_score.py", 2),
    "dkim": Benchmark("dkim_cost.py", 2),
}


def services_up() -> None:
    """PostgreSQL and Redis, as .ci/run starts them when one has stopped."""
    ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False)
    if ready.returncode != 0:
        clusters = sorted(Path("/etc/postgresql").iterdir())
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1].name, "main",
                        "start"], check=False)
    ping = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"],
                          capture_output=True, check=False)
    if ping.returncode != 0:
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
                        "--port", "6379", "--save", "", "--appendonly", "no", "--dir",
                        "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"], check=False)


def run_one(name: str, quick: bool) -> dict:
    benchmark = BENCHMARKS[name]
    arguments = benchmark.quick if quick else benchmark.full
    limit = 60 * (min(benchmark.minutes, 5) if quick else benchmark.minutes)
    command = [sys.executable, str(ROOT / "bench" / benchmark.script), *arguments]
    print(f"\n=== {name}: {' '.join(command[1:])} (at most {limit / 60:.0f} min)", flush=True)
    started = time.monotonic()
    try:
        status = subprocess.run(command, cwd=ROOT, timeout=limit, check=False).returncode
        outcome = "ok" if status == 0 else f"failed ({status})"
    except subprocess.TimeoutExpired:
        outcome = f"over its {limit / 60:.0f} min limit, stopped"
    return {"benchmark": name, "outcome": outcome,
            "seconds": round(time.monotonic() - started, 1)}


def goal_rows(names: list[str], started_at: float, results: Path) -> list[list]:
    """One row per goal, read from the results this run wrote (older files are not used)."""
    rows = []
    for goal in (g for g in GOALS if g.benchmark in names):
        path = results / f"{goal.results}.json"
        if not path.exists() or path.stat().st_mtime < started_at:
            rows.append([goal.benchmark, goal.text, "no result", "—"])
            continue
        measured, met = goal.check(json.loads(path.read_text()))
        rows.append([goal.benchmark, goal.text, measured, "yes" if met else "**NO**"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the harness")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args()
    if args.list:
        for name, benchmark in BENCHMARKS.items():
            print(f"{name:15} bench/{benchmark.script} (at most {benchmark.minutes:.0f} min)")
        return
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; see --list")
    names = args.names or list(BENCHMARKS)

    if args.quick:  # before harness is imported, which reads it
        os.environ["BENCH_RESULTS_DIR"] = str(ROOT / "bench" / "out" / "quick" / "results")
    services_up()
    started_at = time.time()
    outcomes = [run_one(name, args.quick) for name in names]
    from harness import RESULTS, machine, save, stamp, table  # after BENCH_RESULTS_DIR is set

    when = stamp()
    rows = goal_rows(names, started_at, RESULTS)
    kind = "quick run" if args.quick else "full run"
    markdown = (
        f"\n## Goals — {when} — {machine()} ({kind}: `bench/run.py"
        f"{' --quick' if args.quick else ''}{''.join(' ' + n for n in args.names)}`)\n\n"
        + table(["benchmark", "goal", "measured", "met"], [list(r) for r in rows], "llll")
        + "\n" + table(["benchmark", "outcome", "seconds"],
                       [[o["benchmark"], o["outcome"], o["seconds"]] for o in outcomes], "llr")
    )
    save("run", {"date": when, "machine": machine(), "quick": args.quick, "outcomes": outcomes,
                 "goals": [dict(zip(("benchmark", "goal", "measured", "met"), r, strict=True))
                           for r in rows]},
         markdown)
    if any(o["outcome"] != "ok" for o in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
