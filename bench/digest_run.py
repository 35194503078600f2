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
import json
import os
import platform
import re
import secrets
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import system  # noqa: E402  (bench/system.py)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CATEGORIES = 5
ARTICLES = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def start_sink(port: int, stats_file: Path) -> tuple[str, subprocess.Popen]:
    """Postfix's smtp-sink (C, from Debian's postfix package) when installed, so that the
    sink is not the bottleneck; else bench/sink.py."""
    smtp_sink = system.ensure("smtp-sink")
    if smtp_sink:
        out = open(stats_file, "wb")
        process = subprocess.Popen([smtp_sink, "-c", "-u", "nobody", f"127.0.0.1:{port}", "256"],
                                   stdout=out, stderr=subprocess.STDOUT)
        kind = "postfix smtp-sink"
    else:
        process = subprocess.Popen([sys.executable, ROOT / "bench" / "sink.py", str(port),
                                    str(stats_file)], cwd=ROOT)
        kind = "bench/sink.py"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return kind, process
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the SMTP sink did not start")


def read_sink(kind: str, stats_file: Path) -> dict:
    if kind == "bench/sink.py":
        return json.loads(stats_file.read_text())
    # smtp-sink -c keeps rewriting one line: "sess=N quit=N mesg=N\r".
    counts = re.findall(rb"mesg=(\d+)", stats_file.read_bytes())
    return {"messages": int(counts[-1]) if counts else 0}


def process_tree_pss(pid: int) -> int:
    """Proportional set size of pid and its children, in bytes: shared pages counted
    once across the tree, so the sum is what the whole worker really holds."""
    total = 0
    for member in process_tree_rss(pid):
        try:
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
    return total


def process_tree_rss(pid: int) -> dict[int, int]:
    """RSS in bytes of pid and its children."""
    rss: dict[int, int] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[current] = int(line.split()[1]) * 1024
        pending.extend(int(child) for child in children)
    return rss


def sent_count(conninfo: str, schema: str) -> tuple[int, int]:
    with psycopg.connect(conninfo) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FROM outbox WHERE kind = 'digest'"
        ).fetchone()
    return row[0], row[1]


def run_size(args, subscribers: int) -> dict:
    schema = f"bench_{secrets.token_hex(4)}"
    conninfo = args.database
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    instance = ROOT / "bench" / "out" / schema
    instance.mkdir(parents=True, exist_ok=True)
    sink_port, stats_file = free_port(), instance / "sink.json"
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"{conninfo}?options=-csearch_path%3D{schema}",
        "REDIS_URL": args.redis,
        "CELERY_QUEUE": f"bench-{schema}",
        "SMTP_URL": f"smtp://127.0.0.1:{sink_port}",
        "BASE_URL": "https://petitions.example.org",
        "MAIL_FROM": "Petitions <petitions@petitions.example.org>",
        # The sink is local: lift the relay-friendly default rate to measure the pipeline.
        "MAIL_RATE_PER_SECOND": "100000",
        "INSTANCE_PATH": str(instance),
        "FLASK_APP": "petitions",
    }
    bin_dir = Path(sys.executable).parent
    processes: list[subprocess.Popen] = []
    try:
        subprocess.run([bin_dir / "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                       capture_output=True)
        started = time.monotonic()
        seed(conninfo, schema, subscribers)
        seed_seconds = time.monotonic() - started
        sink_kind, sink = start_sink(sink_port, stats_file)
        processes.append(sink)
        log = open(instance / "worker.log", "wb")
        worker = subprocess.Popen(
            [bin_dir / "celery", "-A", "worker", "worker", "--concurrency", str(args.concurrency),
             "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        processes.append(worker)
        deadline = time.monotonic() + 60
        while b"ready." not in (instance / "worker.log").read_bytes():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError("worker did not start; see " + str(instance / "worker.log"))
            time.sleep(0.2)
        idle_rss = process_tree_rss(worker.pid)

        started = time.monotonic()
        subprocess.run([bin_dir / "flask", "digests", "send", "--frequency", "daily", "--queue"],
                       env=env, cwd=ROOT, check=True, capture_output=True)
        peak: dict[int, int] = {}
        peak_pss = 0
        sent = total = 0
        deadline = started + args.timeout
        while time.monotonic() < deadline:
            for pid, rss in process_tree_rss(worker.pid).items():
                peak[pid] = max(peak.get(pid, 0), rss)
            peak_pss = max(peak_pss, process_tree_pss(worker.pid))
            sent, total = sent_count(conninfo, schema)
            if sent >= subscribers:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        time.sleep(0.6)
        sink_stats = read_sink(sink_kind, stats_file)
        return {
            "subscribers": subscribers,
            "seconds": round(elapsed, 1),
            "finished": sent >= subscribers,
            "digests_sent": sent,
            "digests_queued": total,
            "sink": sink_kind,
            "sink_messages": sink_stats["messages"],
            "per_second": round(sent / elapsed, 1),
            "peak_rss_mb_per_process": round(max(peak.values()) / 2**20, 1),
            "peak_rss_mb_all_worker_processes": round(sum(peak.values()) / 2**20, 1),
            "peak_pss_mb_whole_worker": round(peak_pss / 2**20, 1),
            "idle_rss_mb_per_process": round(max(idle_rss.values()) / 2**20, 1),
            "seed_seconds": round(seed_seconds, 1),
            "concurrency": args.concurrency,
        }
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def write_results(rows: list[dict]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (RESULTS / "digest_run.json").write_text(json.dumps(
        {"date": stamp, "machine": machine, "runs": rows}, indent=2) + "\n")
    lines = [
        f"\n## Digest run — {stamp} — {machine}\n",
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
    text = "\n".join(lines) + "\n"
    with open(ROOT / "bench" / "RESULTS.md", "a") as results:
        results.write(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--database", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per size, at most")
    args = parser.parse_args()
    rows = [run_size(args, int(size)) for size in args.sizes.split(",")]
    write_results(rows)


if __name__ == "__main__":
    main()
