"""Benchmark 3 of issue 8: reading counts at scale, 10 million confirmed signatures.

    .venv/bin/python bench/count_reads.py            # 10,000,000 signatures, 3 rounds
    .venv/bin/python bench/count_reads.py --keep     # keep the data; the next run reuses it
    .venv/bin/python bench/count_reads.py --quick    # 200,000 signatures, 1 short round

Data (schema bench_count_reads, or bench_count_reads_quick; built by INSERT ... SELECT
generate_series through export_signers.insert_signatures, a million at a time): five open
petitions in one category, the hot one holding 80% of the signatures and two published
updates; every signature confirmed and counted, 30% showing their name publicly (the
petition page lists the 10 most recent of those). Counts are set, then VACUUM ANALYZE.

Served by gunicorn with the project's gunicorn.conf.py (APP_ENV=production, PostgreSQL,
Redis; 2 x cores workers of 4 threads), next to the ceiling (bench/ceiling_app.py, a
trivial Flask endpoint) under the same configuration, both with an access log of
`%(D)s` (microseconds from the parsed request to the last byte written). wrk, alternating
in each round, a warm-up before each measured window:
  - the ceiling: GET /
  - count.json: GET /petitions/<hot>/count.json, no If-None-Match, so a 200 with a body
  - count.json 304: the same with the current ETag in If-None-Match (for comparison)
  - the page: GET /petitions/<hot>
Server time is the access log's %(D)s over the measured windows (pooled); wrk's client
latency, requests/s and requests/s over the ceiling's in the same round, and gunicorn's
CPU time per request (which, unlike the times, hardly moves with what else the machine
runs) are reported too. Connections: 2 (one per core) and 8, each in every round; the
goals are judged at the first. The 2 cores are the bottleneck (gunicorn, PostgreSQL and
wrk share them), so more connections only add queueing, much of which %(D)s counts
(threads waiting for the GIL and for a core): 8 shows that cost, 2 the endpoint's own.
Goals: count.json p99 < 5 ms of server time; the petition page p99 < 25 ms.
Results: bench/results/count_reads.json and a dated section in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from export_signers import insert_signatures, make_petition, vacuum_analyze  # noqa: E402

HOT = "bench-reads-hot"
OTHERS = [f"bench-reads-{n}" for n in range(1, 5)]
# insert_signatures deals signatures to the listed ids in turn: the hot one, listed 16
# times out of 20, gets 80%.
HOT_WEIGHT = 16
PUBLIC_PERCENT = 30
LOAD_STEP = 1_000_000
ACCESS_FORMAT = "%(D)s %(s)s %(U)s"
GOALS_MS = {"count.json": 5.0, "page": 25.0}


# --- the data ------------------------------------------------------------------------------

def loaded_already(conn, signatures: int) -> bool:
    """Counts are written last, so a load that was cut short never matches."""
    held = conn.execute("SELECT coalesce(sum(signature_count), 0) FROM petitions"
                        " WHERE slug LIKE 'bench-reads-%%'").fetchone()[0]
    return held == signatures


def add_page_content(conn, hot_id: int, other_ids: list[int]) -> None:
    """A category and two published updates: the page shows and queries both."""
    category = conn.execute(
        "INSERT INTO categories (slug, name, created_at) VALUES ('bench-reads', 'Housing',"
        " now()) ON CONFLICT (slug) DO UPDATE SET name = excluded.name RETURNING id").fetchone()[0]
    conn.execute("UPDATE petitions SET category_id = %s, goal = 10000000, body = %s"
                 " WHERE id = ANY(%s)",
                 (category, "## Why this matters\n\n" + "We ask the council to act. " * 40,
                  [hot_id, *other_ids]))
    conn.execute("DELETE FROM petition_updates WHERE petition_id = %s", (hot_id,))
    for days_ago in (9, 2):
        conn.execute(
            "INSERT INTO petition_updates (petition_id, kind, title, body, state, created_at,"
            " published_at, fanned_out_at) VALUES (%s, 'manual', %s, %s, 'sent',"
            " now() - make_interval(days => %s), now() - make_interval(days => %s), now())",
            (hot_id, f"News from {days_ago} days ago", "The council has replied. " * 20,
             days_ago, days_ago))


def load(conn, signatures: int) -> float:
    """Build the petitions and their signatures; returns the seconds it took."""
    started = time.monotonic()
    conn.execute("TRUNCATE signatures CASCADE")
    hot_id = make_petition(conn, HOT, 0)[0]
    other_ids = [make_petition(conn, slug, 0)[0] for slug in OTHERS]
    add_page_content(conn, hot_id, other_ids)
    conn.execute("UPDATE petitions SET signature_count = 0 WHERE id = ANY(%s)",
                 ([hot_id, *other_ids],))
    deal = [hot_id] * HOT_WEIGHT + other_ids
    for first in range(1, signatures + 1, LOAD_STEP):
        last = min(first + LOAD_STEP - 1, signatures)
        before = conn.execute("SELECT coalesce(max(id), 0) FROM signatures").fetchone()[0]
        insert_signatures(conn, deal, first, last)
        # insert_signatures writes everyone as not public; a share opts in, spread evenly.
        conn.execute("UPDATE signatures SET show_name_publicly = true"
                     " WHERE id > %s AND id %% 100 < %s", (before, PUBLIC_PERCENT))
        print(f"  {last:,} signatures loaded, {time.monotonic() - started:.0f} s", flush=True)
    conn.execute("""
        UPDATE petitions p SET signature_count = c.n
        FROM (SELECT petition_id, count(*) AS n FROM signatures
              WHERE state = 'confirmed' AND counted GROUP BY petition_id) c
        WHERE p.id = c.petition_id""")
    vacuum_analyze(conn)
    return time.monotonic() - started


# --- measuring -----------------------------------------------------------------------------

def percentile(samples: list[float], p: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def server_times_ms(log: Path, offset: int, path: str, status: str) -> list[float]:
    """%(D)s of the matching access-log lines written after offset, in milliseconds."""
    times = []
    with open(log, "rb") as file:
        file.seek(offset)
        for line in file.read().decode(errors="replace").splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[1] == status and parts[2] == path:
                times.append(int(parts[0]) / 1000)
    return times


def etag_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers["ETag"]


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of pid and its children (gunicorn's master and workers)."""
    ticks = 0
    for member in harness.process_tree_rss(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    port: int
    log: Path
    pid: int


class Target:
    """One thing wrk measures: its URL and Lua script, and the server that answers it."""

    def __init__(self, name: str, server: Server, path: str, connections: int,
                 status: str = "200", script: str = ""):
        self.name, self.server, self.path, self.status = name, server, path, status
        self.script, self.connections = script, connections
        self.url = f"http://127.0.0.1:{server.port}{path}"
        self.rounds: list[dict] = []
        self.server_ms: list[float] = []

    def measure(self, args) -> dict:
        harness.run_wrk(self.url, self.script, seconds=args.warmup, connections=self.connections)
        offset = self.server.log.stat().st_size
        cpu_before = tree_cpu_seconds(self.server.pid)
        summary = harness.run_wrk(self.url, self.script, seconds=args.seconds,
                                  connections=self.connections)
        cpu = tree_cpu_seconds(self.server.pid) - cpu_before
        time.sleep(0.2)  # the last lines reach the log after wrk's last reply
        samples = server_times_ms(self.server.log, offset, self.path, self.status)
        self.server_ms += samples
        summary["server_samples"] = len(samples)
        # CPU per request hardly moves with what else runs on the machine; wall times do.
        summary["cpu_ms_per_request"] = round(1000 * cpu / max(summary["requests"], 1), 3)
        summary["load_average"] = float(Path("/proc/loadavg").read_text().split()[0])
        self.rounds.append(summary)
        return summary

    def result(self, ceiling: Target) -> dict:
        ratios = [mine["requests_per_second"] / theirs["requests_per_second"]
                  for mine, theirs in zip(self.rounds, ceiling.rounds, strict=True)]
        goal = GOALS_MS.get(self.name)
        p99 = percentile(self.server_ms, 99)
        return {
            "name": self.name,
            "path": self.path,
            "status": int(self.status),
            "requests_per_second": round(statistics.median(r["requests_per_second"]
                                                           for r in self.rounds), 1),
            "ratio_to_ceiling": round(statistics.median(ratios), 3),
            "client_p50_ms": round(statistics.median(r["p50_ms"] for r in self.rounds), 2),
            "client_p99_ms": round(statistics.median(r["p99_ms"] for r in self.rounds), 2),
            "server_p50_ms": round(percentile(self.server_ms, 50), 2),
            "server_p99_ms": round(p99, 2),
            "server_max_ms": round(max(self.server_ms, default=float("nan")), 2),
            "server_samples": len(self.server_ms),
            "cpu_ms_per_request": round(statistics.median(r["cpu_ms_per_request"]
                                                          for r in self.rounds), 3),
            "load_average": max(r["load_average"] for r in self.rounds),
            "errors": sum(r["errors"] for r in self.rounds),
            "goal_server_p99_ms": goal,
            "goal_met": None if goal is None else bool(p99 < goal),
            "rounds": self.rounds,
        }


def targets_for(connections: int, app: Server, ceiling: Server, etag: str) -> list[Target]:
    count_path = f"/petitions/{HOT}/count.json"
    not_modified = "wrk.headers['If-None-Match'] = '" + etag.replace("'", "\\'") + "'"
    return [Target("ceiling", ceiling, "/", connections),
            Target("count.json", app, count_path, connections),
            Target("count.json 304", app, count_path, connections, "304", not_modified),
            Target("page", app, f"/petitions/{HOT}", connections)]


def measure(args, env: dict) -> list[dict]:
    folder = harness.OUT / args.schema
    folder.mkdir(parents=True, exist_ok=True)
    servers = {}
    with harness.Processes(folder) as processes:
        for name, app in (("app", "petitions:create_app()"), ("ceiling", "bench.ceiling_app:app")):
            port, log = harness.free_port(), folder / f"{name}-access.log"
            log.write_bytes(b"")
            process = processes.gunicorn(env, port, app=app, log_name=f"gunicorn-{name}.log",
                                         extra=("--access-logfile", str(log),
                                                "--access-logformat", ACCESS_FORMAT))
            servers[name] = Server(port, log, process.pid)
        etag = etag_of(f"http://127.0.0.1:{servers['app'].port}/petitions/{HOT}/count.json")
        levels = {c: targets_for(c, servers["app"], servers["ceiling"], etag)
                  for c in args.connections}
        for round_number in range(1, args.rounds + 1):
            for connections, targets in levels.items():
                for target in targets:
                    summary = target.measure(args)
                    print(f"round {round_number}, {connections} connections, {target.name}: "
                          f"{summary['requests_per_second']} req/s, wrk p99 "
                          f"{summary['p99_ms']} ms, {summary['cpu_ms_per_request']} CPU ms/req, "
                          f"load {summary['load_average']}, {summary['errors']} errors",
                          flush=True)
    return [{"connections": connections, **target.result(targets[0])}
            for connections, targets in levels.items() for target in targets]


# --- results -------------------------------------------------------------------------------

def write_results(args, rows: list[dict], load_seconds: float | None) -> None:
    stamp = harness.stamp()
    note = f" {args.note}" if args.note else ""
    judged = [r for r in rows if r["goal_met"] is not None
              and r["connections"] == args.connections[0]]
    lines = [
        f"\n## Reading counts — {stamp} — {harness.machine()}{note}\n",
        f"Command: `.venv/bin/python bench/count_reads.py{' --quick' if args.quick else ''}` "
        f"({args.signatures:,} confirmed signatures over 5 petitions, {100 * HOT_WEIGHT // 20}% "
        f"on the hot one, {PUBLIC_PERCENT}% public; gunicorn with gunicorn.conf.py, production "
        f"settings, PostgreSQL and Redis; wrk, {args.rounds} round(s) of {args.seconds:g} s per "
        "endpoint and connection count, alternating). Ceiling: bench/ceiling_app.py under the "
        "same gunicorn configuration. Server time: gunicorn's access log `%(D)s`, pooled over "
        "the rounds; wrk's client latency and req/s, and gunicorn's CPU ms per request: "
        "medians of the rounds; load: the highest 1-minute load average seen (2 cores). "
        f"Goals, judged at {args.connections[0]} connections: count.json p99 < 5 ms of server "
        "time; the petition page p99 < 25 ms.\n",
        harness.table(
            ["connections", "endpoint", "req/s", "/ceiling", "wrk p50 ms", "wrk p99 ms",
             "server p50 ms", "server p99 ms", "CPU ms/req", "load", "errors"],
            [[r["connections"], r["name"], f"{r['requests_per_second']:,}",
              r["ratio_to_ceiling"], r["client_p50_ms"], r["client_p99_ms"],
              r["server_p50_ms"], r["server_p99_ms"], r["cpu_ms_per_request"],
              r["load_average"], r["errors"]] for r in rows]),
        "\n".join(f"- {r['name']}: server p99 {r['server_p99_ms']} ms against "
                  f"{r['goal_server_p99_ms']:g} ms: "
                  f"{'goal met' if r['goal_met'] else 'GOAL NOT MET'}" for r in judged) + "\n",
    ]
    document = {"date": stamp, "machine": harness.machine(), "quick": args.quick,
                "signatures": args.signatures,
                "connections": args.connections, "seconds": args.seconds,
                "rounds": args.rounds, "load_seconds": load_seconds, "runs": rows}
    harness.save("count_reads", document, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="200,000 signatures, one round of 3 s windows")
    parser.add_argument("--signatures", type=int)
    parser.add_argument("--connections", default="2,8", help="wrk connection counts, each "
                        "measured in every round; goals are judged at the first")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--database", default=harness.DATABASE_URL)
    parser.add_argument("--redis", default=harness.REDIS_URL)
    parser.add_argument("--schema")
    parser.add_argument("--keep", action="store_true", help="keep the data for the next run")
    parser.add_argument("--note", default="", help="appended to the results heading")
    parser.add_argument("--no-save", action="store_true", help="print only; write no results")
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    args.signatures = args.signatures or (200_000 if args.quick else 10_000_000)
    args.seconds = args.seconds or (3 if args.quick else 15)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.schema = args.schema or ("bench_count_reads_quick" if args.quick else "bench_count_reads")

    load_seconds = None
    with harness.scratch_schema(args.database, keep=args.keep, name=args.schema,
                                REDIS_URL=args.redis) as (schema, env):
        with harness.connect(args.database, schema) as conn:
            if not loaded_already(conn, args.signatures):
                load_seconds = round(load(conn, args.signatures), 1)
                print(f"loaded in {load_seconds} s")
        rows = measure(args, env)
    for row in rows:
        print({k: v for k, v in row.items() if k != "rounds"})
    if not args.no_save:
        write_results(args, rows, load_seconds)


if __name__ == "__main__":
    main()
