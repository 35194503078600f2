"""Benchmark: a whole daily digest run, with real workers, PostgreSQL, Redis and an SMTP sink.

    .venv/bin/python bench/digest_run.py                # 10,000 then 100,000 subscribers
    .venv/bin/python bench/digest_run.py --sizes 2000   # a quick look

For each size it builds a scratch schema, loads N confirmed daily subscribers over 5
categories and 50 new articles, starts `celery -A worker worker` (prefork, 2 processes,
production settings) and the sink in bench/sink.py, starts the run with
`flask digests send --queue`, and waits until every digest is marked sent. It samples
the RSS of every worker process while it runs. Goals (issue 3): the 100,000 run within
120 s; worker RSS under 300 MB, and flat from 10,000 to 100,000.
Results: bench/results/digest_run.json and a dated table appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402  (bench/harness.py)
    BIN,
    DATABASE_URL,
    OUT,
    REDIS_URL,
    ROOT,
    Processes,
    free_port,
    machine,
    process_tree_pss,
    process_tree_rss,
    save,
    scratch_schema,
    stamp,
)

CATEGORIES = 5
ARTICLES = 50


def seed(conninfo: str, schema: str, subscribers: int) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(conninfo, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute(f'SET search_path TO "{schema}"')
        for n in range(CATEGORIES):
            cur.execute(
                "INSERT INTO categories (slug, name, created_at) VALUES (%s, %s, %s)",
                (f"category-{n}", f"Category {n}", now),
            )
        for n in range(ARTICLES):
            ingested = now - timedelta(minutes=90 - n)
            cur.execute(
                "INSERT INTO articles (title, url, summary, published_at, category_id,"
                " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (f"Headline number {n} about the city", f"https://news.example/a/{n}",
                 "A short summary of the story, as the site's feed gives it. " * 3,
                 ingested, 1 + n % CATEGORIES, ingested, ingested),
            )
        confirmed = now - timedelta(days=30)
        columns = ("email, canonical_email, state, frequency, all_categories, paused, locale,"
                   " confirmation_sends, created_at, confirmed_at, updated_at")
        with cur.copy(f"COPY subscribers ({columns}) FROM STDIN") as copy:
            for i in range(subscribers):
                email = f"reader{i}@example.org"
                copy.write_row((email, email, "active", "daily", i % 50 == 0, False, "en",
                                1, confirmed, confirmed, confirmed))
        # Follow one, two or three of the five categories, in a spread of combinations.
        with cur.copy("COPY subscriber_categories (subscriber_id, category_id) FROM STDIN") as copy:
            for i in range(1, subscribers + 1):
                for k in range(1 + i % 3):
                    copy.write_row((i, 1 + (i + 2 * k) % CATEGORIES))
        conn.commit()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.execute("ANALYZE")


def sent_count(conninfo: str, schema: str) -> tuple[int, int]:
    with psycopg.connect(conninfo) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FROM outbox WHERE kind = 'digest'"
        ).fetchone()
    return row[0], row[1]


def run_size(args, subscribers: int) -> dict:
    sink_port = free_port()
    settings = {
        "REDIS_URL": args.redis,
        "SMTP_URL": f"smtp://127.0.0.1:{sink_port}",
        # The sink is local: lift the relay-friendly default rate to measure the pipeline.
        "MAIL_RATE_PER_SECOND": "100000",
    }
    with scratch_schema(args.database, **settings) as (schema, env), \
            Processes(OUT / schema) as processes:
        started = time.monotonic()
        seed(args.database, schema, subscribers)
        seed_seconds = time.monotonic() - started
        sink = processes.smtp_sink(sink_port)
        worker = processes.worker(env, concurrency=args.concurrency)
        idle_rss = process_tree_rss(worker.pid)

        started = time.monotonic()
        subprocess.run([BIN / "flask", "digests", "send", "--frequency", "daily", "--queue"],
                       env=env, cwd=ROOT, check=True, capture_output=True)
        peak: dict[int, int] = {}
        peak_pss = 0
        sent = total = 0
        deadline = started + args.timeout
        while time.monotonic() < deadline:
            for pid, rss in process_tree_rss(worker.pid).items():
                peak[pid] = max(peak.get(pid, 0), rss)
            peak_pss = max(peak_pss, process_tree_pss(worker.pid))
            sent, total = sent_count(args.database, schema)
            if sent >= subscribers:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        time.sleep(0.6)
        return {
            "subscribers": subscribers,
            "seconds": round(elapsed, 1),
            "finished": sent >= subscribers,
            "digests_sent": sent,
            "digests_queued": total,
            "sink": sink.kind,
            "sink_messages": sink.messages(),
            "per_second": round(sent / elapsed, 1),
            "peak_rss_mb_per_process": round(max(peak.values()) / 2**20, 1),
            "peak_rss_mb_all_worker_processes": round(sum(peak.values()) / 2**20, 1),
            "peak_pss_mb_whole_worker": round(peak_pss / 2**20, 1),
            "idle_rss_mb_per_process": round(max(idle_rss.values()) / 2**20, 1),
            "seed_seconds": round(seed_seconds, 1),
            "concurrency": args.concurrency,
        }


def write_results(rows: list[dict]) -> None:
    when = stamp()
    lines = [
        f"\n## Digest run — {when} — {machine()}\n",
        f"Sink: {rows[0]['sink']}; worker processes: {rows[0]['concurrency']}.\n",
        "Command: `.venv/bin/python bench/digest_run.py` (PostgreSQL, Redis, a prefork "
        "worker, production settings). Goal: 100,000 in ≤ 120 s; worker memory < 300 MB "
        "and flat from 10,000 to 100,000.\n",
        "| subscribers | seconds | digests/s | all sent | sink msgs | peak RSS/process MB | "
        "peak PSS whole worker MB | idle RSS MB |",
        "|---:|---:|---:|:-:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['subscribers']:,} | {r['seconds']} | {r['per_second']} | "
            f"{'yes' if r['finished'] else 'NO'} | {r['sink_messages']:,} | "
            f"{r['peak_rss_mb_per_process']} | {r['peak_pss_mb_whole_worker']} | "
            f"{r['idle_rss_mb_per_process']} |"
        )
    if len(rows) > 1:
        ratio = rows[-1]["peak_pss_mb_whole_worker"] / rows[0]["peak_pss_mb_whole_worker"]
        lines.append(f"\nPeak worker memory (PSS), largest run over smallest: {ratio:.2f}\n")
    save("digest_run", {"date": when, "machine": machine(), "runs": rows},
         "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--database", default=DATABASE_URL)
    parser.add_argument("--redis", default=REDIS_URL)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per size, at most")
    parser.add_argument("--quick", action="store_true", help="one small run (2,000)")
    parser.add_argument("--no-save", action="store_true", help="print only; write no results")
    args = parser.parse_args()
    sizes = [2000] if args.quick else [int(size) for size in args.sizes.split(",")]
    rows = [run_size(args, size) for size in sizes]
    if args.no_save:
        print(rows)
    else:
        write_results(rows)


if __name__ == "__main__":
    main()
