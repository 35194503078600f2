"""Benchmark 2 of issue 8: confirmations on one hot petition, POST /confirm/<token>, at speed.

    .venv/bin/python bench/confirm.py              # 3 rounds of 20 s, alternating with the ceiling
    .venv/bin/python bench/confirm.py --quick      # 1 round of 5 s, to check it works

What runs: as in bench/intake.py (gunicorn.conf.py, APP_ENV=production, PostgreSQL, Redis,
rate limits on, TRUSTED_PROXIES=1, the worker and an SMTP sink), plus beat, whose count
fold (every COUNT_REFRESH_SECONDS, 2 s) is what makes a petition's count exact.
The data: before each round, one hot petition gets that round's pending signatures and
their outbox rows, already sent, by INSERT ... SELECT generate_series (a fifth ticked the
newsletter box, so their click also subscribes them, as in production); enough for twice
the rate a warm-up measured. Their tokens are made by the app's own
make_confirmation_token with the run's SECRET_KEY, dated when the rows were.
The load: wrk with bench/lua/confirm.lua, each token confirmed once with a session and
its CSRF token from the petition page, each request from its own address (the per-address
RATELIMIT_CONFIRM is on and never hit). The ceiling: bench/ceiling_app.py under the same
gunicorn configuration, alternating, with the same connections; medians of the rounds.
Lock waits, two ways: every app connection runs with log_lock_waits=on and
deadlock_timeout=50ms (session settings in DATABASE_URL's options; nothing changes on the
server), so PostgreSQL logs every lock wait that reaches 50 ms, and the run counts its own
backends' lines in the server log; and pg_locks is sampled every 10 ms for this run's
backends (waitstart gives each wait's age) for the longest wait seen.
The count: after each round, the time from wrk's end (its last response) until
petitions.signature_count and count.json both equal the confirmed signatures.
Goals: confirmations/s >= 0.3 of the ceiling's requests/s; no lock wait of 50 ms or more;
the count exact within 5 s of the load stopping.
Results: bench/results/confirm.json (confirm_quick.json) and a section in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from signing_stack import (  # noqa: E402
    ClientAddresses,
    Stack,
    ceiling_round,
    cpu_used,
    create_petition,
    forget_redis_keys,
    form_pool,
    lua_script,
    service_stack,
)

GOALS = {"ratio": 0.3, "lock_wait_ms": 50.0, "exact_within_s": 5.0}
LOCK_SETTINGS = "-clog_lock_waits%3Don%20-cdeadlock_timeout%3D50ms%20-clog_min_messages%3Dlog"
WAITED = re.compile(r"process (\d+) (?:still waiting|acquired) .* after ([\d.]+) ms")
HOT = "clean-air-now"


def add_pending(db: psycopg.Connection, petition_id: int, count: int) -> tuple[str, int]:
    """`count` pending signatures with their sent confirmations; (batch tag, issued at)."""
    batch, issued = secrets.token_hex(3), int(time.time())
    db.execute(
        "INSERT INTO signatures (petition_id, name, email, canonical_email, postcode, country,"
        " show_name_publicly, email_updates, subscribe_newsletter, state, counted, ip_address,"
        " flagged, created_at, confirmation_sent_at, confirmation_sends, notices_sent)"
        " SELECT %(petition)s, 'Supporter ' || g, %(tag)s || g || '@example.org',"
        " %(tag)s || g || '@example.org', '20004', 'US', g %% 5 <> 0, g %% 2 = 0, g %% 5 = 1,"
        " 'pending', false, '2001:db8::' || to_hex(g), false, to_timestamp(%(issued)s),"
        " to_timestamp(%(issued)s), 1, 0 FROM generate_series(1, %(count)s) AS g",
        {"petition": petition_id, "tag": f"c.{batch}.", "issued": issued, "count": count})
    db.execute(
        "INSERT INTO outbox (kind, to_address, subject, payload, headers, message_id, state,"
        " attempts, next_attempt_at, sent_at, signature_id, created_at)"
        " SELECT 'signature_confirmation', email, 'Please confirm your signature',"
        " json_build_object('issued_at', %(issued)s, 'locale', 'en'),"
        " '{\"Auto-Submitted\": \"auto-generated\"}', '<' || id || '.' || %(batch)s"
        " || '@bench.invalid>', 'sent', 1, now(), now(), id, now() FROM signatures"
        " WHERE email LIKE %(like)s",
        {"issued": issued, "batch": batch, "like": f"c.{batch}.%"})
    return batch, issued


def write_tokens(stack: Stack, batch: str, issued: int, path: Path) -> int:
    """The batch's confirmation tokens, made as the app makes them, one a line."""
    sys.path.insert(0, str(harness.ROOT))
    from flask import Flask

    from petitions.signing.tokens import make_confirmation_token

    app = Flask("bench-tokens")
    app.config.update(SECRET_KEY=stack.env["SECRET_KEY"], SECRET_KEY_FALLBACKS=[])
    rows = stack.db.execute("SELECT id, canonical_email FROM signatures WHERE email LIKE %s"
                            " ORDER BY id", (f"c.{batch}.%",)).fetchall()
    with app.app_context():
        path.write_text("".join(f"{make_confirmation_token(i, e, issued_at=issued)}\n"
                                for i, e in rows))
    return len(rows)


class LockWatch:
    """Samples pg_locks every 10 ms for this run's backends, in a thread of its own."""

    def __init__(self, conninfo: str, application_name: str) -> None:
        self.conninfo, self.name = conninfo, application_name
        self.longest_ms, self.samples_waiting, self.backends = 0.0, 0, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def _watch(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            deadline = time.monotonic() + 3600
            while not self._stop.is_set() and time.monotonic() < deadline:
                rows = conn.execute(
                    "SELECT a.pid, 1000 * extract(epoch FROM now() - l.waitstart)"
                    " FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid"
                    " AND NOT l.granted WHERE a.application_name = %s", (self.name,)).fetchall()
                self.backends.update(pid for pid, _ in rows)
                waits = [float(ms) for _, ms in rows if ms is not None]
                if waits:
                    self.samples_waiting += 1
                    self.longest_ms = max(self.longest_ms, *waits)
                self._stop.wait(0.01)


def server_log(db: psycopg.Connection) -> Path | None:
    """Debian's log of this PostgreSQL, when this machine's server is the one we use."""
    major = int(db.execute("SHOW server_version_num").fetchone()[0]) // 10000
    path = Path(f"/var/log/postgresql/postgresql-{major}-main.log")
    return path if path.exists() else None


def logged_waits(path: Path | None, offset: int, backends: set[int]) -> list[float] | None:
    if path is None:
        return None
    with open(path, "rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    return [float(ms) for pid, ms in WAITED.findall(text) if int(pid) in backends]


def seconds_to_exact(stack: Stack, petition_id: int, slug: str, since: float) -> float | None:
    """From `since` until the stored count and count.json equal the confirmed signatures."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        confirmed, stored = stack.db.execute(
            "SELECT (SELECT count(*) FROM signatures WHERE petition_id = %(p)s AND state ="
            " 'confirmed' AND NOT flagged), signature_count FROM petitions WHERE id = %(p)s",
            {"p": petition_id}).fetchone()
        if confirmed == stored:
            with urllib.request.urlopen(stack.url(f"/petitions/{slug}/count.json"), timeout=5) as r:
                if json.load(r)["signature_count"] == confirmed:
                    return round(time.monotonic() - since, 2)
        time.sleep(0.05)
    return None


def confirm_round(args, stack: Stack, petition_id: int, pool: Path,
                  addresses: ClientAddresses, seconds: float, rate_guess: float) -> dict:
    count = int(2 * rate_guess * seconds) + 500
    batch, issued = add_pending(stack.db, petition_id, count)
    tokens = stack.folder / f"tokens-{batch}.txt"
    write_tokens(stack, batch, issued, tokens)
    script = lua_script("confirm", 200, "confirmed", tokens=str(tokens), pool=str(pool),
                        client_block=addresses.next_block(), threads=1)
    log = server_log(stack.db)
    offset = log.stat().st_size if log else 0
    before = stack.cpu()
    with LockWatch(args.database, stack.schema) as watch:
        summary = harness.run_wrk(stack.url("/confirm/"), script, seconds=seconds,
                                  connections=args.connections)
        ended = time.monotonic()
        web = harness.process_tree_cpu(stack.pids["web"])
        exact_after = seconds_to_exact(stack, petition_id, HOT, ended)
    confirmed = summary["extra"]["confirmed"]
    summary["cpu_ms_per_confirmation"] = cpu_used(before, {**stack.cpu(), "web": web},
                                                  confirmed)
    stored = stack.db.execute("SELECT count(*) FROM signatures WHERE email LIKE %s AND state"
                              " = 'confirmed'", (f"c.{batch}.%",)).fetchone()[0]
    return {**summary, "confirmations_per_second": round(confirmed / summary["seconds"], 1),
            "load_average": round(os.getloadavg()[0], 1),
            "prepared": count, "stored_confirmed": stored, "count_exact_after_s": exact_after,
            "lock_waits": {"longest_sampled_ms": round(watch.longest_ms, 1),
                           "samples_with_a_wait": watch.samples_waiting,
                           "logged_50ms_or_more": logged_waits(log, offset, watch.backends),
                           "server_log": str(log) if log else None}}


def measure(args) -> dict:
    addresses = ClientAddresses()
    schema = f"bench_{secrets.token_hex(4)}"
    # Every lock wait of 50 ms or more is logged by the server, for this run's sessions only.
    database_url = (f"{args.database}?options=-csearch_path%3D{schema}%20{LOCK_SETTINGS}"
                    f"&application_name={schema}")
    with service_stack(args, beat=True, name=schema, DATABASE_URL=database_url) as stack:
        try:
            petition_id = create_petition(stack.db, HOT)
            pool = form_pool(stack, HOT)
            # Warm both; the warm-up's rate sizes the rounds' batches of tokens.
            harness.run_wrk(stack.url("/", ceiling=True), seconds=2,
                            connections=args.connections)
            warm = confirm_round(args, stack, petition_id, pool, addresses, 3, 300)
            rate = max(warm["confirmations_per_second"], 50)
            ceilings, rounds = [], []
            for number in range(1, args.rounds + 1):
                ceilings.append(ceiling_round(stack, args.seconds, args.connections))
                rounds.append(confirm_round(args, stack, petition_id, pool, addresses,
                                            args.seconds, rate))
                r = rounds[-1]
                print(f"round {number}: ceiling {ceilings[-1]['requests_per_second']} req/s;"
                      f" {r['confirmations_per_second']} confirmations/s, p99 {r['p99_ms']} ms,"
                      f" {r['errors']} errors, exact after {r['count_exact_after_s']} s, locks"
                      f" {r['lock_waits']}, CPU ms each {r['cpu_ms_per_confirmation']}",
                      flush=True)
        finally:
            forget_redis_keys(args.redis, stack.env["CELERY_QUEUE"], addresses.prefix)
    return summarise(ceilings, rounds)


def summarise(ceilings: list, rounds: list) -> dict:
    rate = statistics.median(r["confirmations_per_second"] for r in rounds)
    ratio = statistics.median(r["confirmations_per_second"] / c["requests_per_second"]
                              for c, r in zip(ceilings, rounds, strict=True))
    logged = [ms for r in rounds for ms in (r["lock_waits"]["logged_50ms_or_more"] or [])]
    sampled = max(r["lock_waits"]["longest_sampled_ms"] for r in rounds)
    exact = [r["count_exact_after_s"] for r in rounds]
    slowest = None if None in exact else max(exact)
    errors = sum(r["errors"] for r in rounds)
    all_stored = all(r["stored_confirmed"] == r["extra"]["confirmed"] for r in rounds)
    cpu = {group: statistics.median(r["cpu_ms_per_confirmation"][group] for r in rounds)
           for group in ("web", "worker", "database")}
    return {
        "ceilings": ceilings, "rounds": rounds, "cpu_ms_per_confirmation": cpu,
        "ceiling_cpu_ms_per_request": statistics.median(
            c["cpu_ms_per_request"]["ceiling"] for c in ceilings),
        "load_averages": [r["load_average"] for r in rounds],
        "ceiling_per_second": statistics.median(c["requests_per_second"] for c in ceilings),
        "confirmations_per_second": rate, "ratio": round(ratio, 3),
        "p99_ms": statistics.median(r["p99_ms"] for r in rounds), "errors": errors,
        "lock_waits_logged_50ms_or_more": len(logged), "longest_lock_wait_sampled_ms": sampled,
        "lock_log_read": all(r["lock_waits"]["server_log"] for r in rounds),
        "count_exact_after_s": slowest, "every_200_confirmed": all_stored,
        "goals": {"ratio": ratio >= GOALS["ratio"],
                  "lock_waits": not logged and sampled < GOALS["lock_wait_ms"],
                  "count_exact": slowest is not None and slowest <= GOALS["exact_within_s"],
                  "errors": errors == 0},
    }


def report(args, result: dict) -> None:
    met, cpu = result["goals"], result["cpu_ms_per_confirmation"]
    verdict = lambda ok: "met" if ok else "NOT MET"  # noqa: E731
    stamp = harness.stamp()
    logged = (f"{result['lock_waits_logged_50ms_or_more']} logged"
              if result["lock_log_read"] else "server log not readable")
    markdown = "\n".join([
        f"\n## Confirmations on one hot petition — {stamp} — {harness.machine()}\n",
        f"Command: `.venv/bin/python bench/confirm.py{' --quick' if args.quick else ''}` "
        f"({args.rounds} round(s) of {args.seconds:g} s, ceiling and confirmations alternating;"
        f" wrk, {args.connections} connections; gunicorn.conf.py, production settings, "
        "PostgreSQL, Redis, rate limits on, worker and beat). Medians of the rounds.\n",
        harness.table(
            ["measure", "value", "goal", "verdict"],
            [["ceiling req/s", f"{result['ceiling_per_second']:,}", "", ""],
             ["confirmations/s", f"{result['confirmations_per_second']:,}", "", ""],
             ["ratio to ceiling", result["ratio"], f"≥ {GOALS['ratio']}", verdict(met["ratio"])],
             ["lock waits ≥ 50 ms", f"{logged}; longest sampled "
              f"{result['longest_lock_wait_sampled_ms']} ms", "none", verdict(met["lock_waits"])],
             ["count exact after (s)", result["count_exact_after_s"],
              f"≤ {GOALS['exact_within_s']:g}", verdict(met["count_exact"])],
             ["p99 ms", result["p99_ms"], "", ""],
             ["errors", result["errors"], "0", verdict(met["errors"])]]),
        f"CPU per confirmation (ms): gunicorn {cpu['web']}, worker {cpu['worker']} (a fifth "
        f"of them subscribe and get a welcome email; the count fold), PostgreSQL "
        f"{cpu['database']}; per ceiling request: {result['ceiling_cpu_ms_per_request']}. "
        f"Load average during the rounds: {', '.join(map(str, result['load_averages']))} "
        "(2 cores).\n",
    ])
    document = {"date": stamp, "machine": harness.machine(), "quick": args.quick,
                "seconds": args.seconds, "connections": args.connections, **result}
    harness.save("confirm_quick" if args.quick else "confirm", document, markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of 5 s")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database", default=harness.DATABASE_URL)
    parser.add_argument("--redis", default=harness.REDIS_URL)
    parser.add_argument("--keep", action="store_true", help="keep the scratch schema")
    parser.add_argument("--no-save", action="store_true",
                        help="print the results; write neither JSON nor RESULTS.md")
    args = parser.parse_args()
    args.seconds = args.seconds or (5 if args.quick else 20)
    args.rounds = args.rounds or (1 if args.quick else 3)
    result = measure(args)
    if args.no_save:
        print(json.dumps({k: v for k, v in result.items() if k not in ("ceilings", "rounds")},
                         indent=2))
    else:
        report(args, result)


if __name__ == "__main__":
    main()
