"""Benchmark: `flask export counts` over 10 million signatures on PostgreSQL.

    .venv/bin/python bench/export_counts.py                     # 10,000,000 over 20 petitions
    .venv/bin/python bench/export_counts.py --signatures 1000000  # a quick look
    .venv/bin/python bench/export_counts.py --keep              # keep (and next time reuse) the data

In a schema of its own (bench_export_counts; `flask db upgrade` builds it) it loads 20
petitions and N signatures spread over them (INSERT ... SELECT generate_series, a million
at a time; 93% confirmed, 5% pending, 2% invalidated; 8 postcodes, 4 countries, 90 days),
then VACUUM ANALYZE, as autovacuum would. It times each
`flask export counts --format csv --by petition|day|country|postcode > /dev/null`, a whole
process (start-up measured apart as `flask export counts --help`), repeated and alternated,
and reports the medians and peak RSS. Goal (issue 4): a few seconds each, not minutes.
--extra-sql "CREATE INDEX ...; CREATE STATISTICS ..." tries an index or statistics by hand in
the scratch schema first (they stay there with --keep).
Results: bench/results/export_counts.json (export_counts_extra_sql.json with --extra-sql) and
a dated table appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

from export_signers import insert_signatures, make_petition, run_process, vacuum_analyze
from harness import (
    BIN,
    DATABASE_URL,
    app_env,
    connect,
    drop_schema,
    machine,
    prepare_schema,
    save,
    stamp,
)

KINDS = ("petition", "day", "country", "postcode")
PETITIONS = 20
LOAD_STEP = 1_000_000


def load(conn, signatures: int) -> tuple[float, bool]:
    """(seconds, loaded): 20 petitions sharing the signatures; reused when already there."""
    total = conn.execute("SELECT count(*) FROM signatures").fetchone()[0]
    if total == signatures:
        return 0.0, False
    conn.execute("TRUNCATE signatures CASCADE")
    ids = [make_petition(conn, f"bench-counts-{n:02d}", 0)[0] for n in range(PETITIONS)]
    started = time.monotonic()
    for first in range(1, signatures + 1, LOAD_STEP):
        last = min(first + LOAD_STEP - 1, signatures)
        insert_signatures(conn, ids, first, last, states=True)
        print(f"  {last:,} signatures loaded, {time.monotonic() - started:.0f} s")
    vacuum_analyze(conn)
    return time.monotonic() - started, True


def measure(args, env: dict) -> list[dict]:
    flask = [BIN / "flask", "export", "counts", "--format", "csv"]
    startup = min(run_process([*flask, "--help"], env=env)["seconds"] for _ in range(2))
    runs: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    deadline = time.monotonic() + args.budget
    for _ in range(args.repeat):
        for kind in KINDS:
            runs[kind].append(run_process([*flask, "--by", kind], env=env))
        if time.monotonic() > deadline:
            break
    return [{
        "by": kind,
        "runs": len(runs[kind]),
        "seconds": round(statistics.median(r["seconds"] for r in runs[kind]), 2),
        "slowest_seconds": round(max(r["seconds"] for r in runs[kind]), 2),
        "startup_seconds": round(startup, 2),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs[kind]), 1),
    } for kind in KINDS]


def write_results(args, rows: list[dict], extra: dict) -> None:
    when = stamp()
    note = f" {args.note}" if args.note else ""
    lines = [
        f"\n## Signature counts export — {when} — {machine()}{note}\n",
        f"Command: `.venv/bin/python bench/export_counts.py` ({args.signatures:,} signatures over "
        f"{PETITIONS} petitions on PostgreSQL; each run is `flask export counts --format csv "
        f"--by KIND > /dev/null`, the whole process, start-up included; medians of "
        f"{rows[0]['runs']} alternating runs). Goal: a few seconds each.",
        f"Extra SQL before timing: {extra['extra_sql'] or 'none'}.\n",
        "| by | seconds | slowest s | start-up s | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['by']} | {r['seconds']} | {r['slowest_seconds']} | "
                     f"{r['startup_seconds']} | {r['peak_rss_mb']} |")
    save("export_counts_extra_sql" if args.extra_sql else "export_counts", {"date": when, "machine": machine(), "signatures": args.signatures,
                           "petitions": PETITIONS, **extra, "runs": rows},
         "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=10_000_000)
    parser.add_argument("--database", default=DATABASE_URL)
    parser.add_argument("--schema", default="bench_export_counts")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per kind, at most")
    parser.add_argument("--budget", type=float, default=600,
                        help="seconds of timed runs, at most (then it stops repeating)")
    parser.add_argument("--extra-sql", default="",
                        help='run before timing, e.g. "CREATE INDEX ... ON signatures ..."')
    parser.add_argument("--keep", action="store_true", help="keep the schema for the next run")
    parser.add_argument("--note", default="", help="appended to the results heading")
    parser.add_argument("--no-save", action="store_true", help="print only; write no results")
    args = parser.parse_args()

    env = app_env(args.database, args.schema)
    try:
        prepare_schema(args.database, args.schema, env)
        with connect(args.database, args.schema) as conn:
            load_seconds, loaded = load(conn, args.signatures)
            if args.extra_sql:
                conn.execute(args.extra_sql)
                vacuum_analyze(conn)
        rows = measure(args, env)
    finally:
        if not args.keep:
            drop_schema(args.database, args.schema)
    for row in rows:
        print(row)
    if not args.no_save:
        write_results(args, rows, {"extra_sql": args.extra_sql,
                                   "load_seconds": round(load_seconds, 1) if loaded else None})


if __name__ == "__main__":
    main()
