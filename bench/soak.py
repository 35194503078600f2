"""Soak test of issue 8: signing at half the maximum intake for 10 minutes, then a reconciliation.

    .venv/bin/python bench/soak.py                 # measure the maximum, then 10 minutes
    .venv/bin/python bench/soak.py --quick         # a 20 s maximum, then 1 minute
    .venv/bin/python bench/soak.py --rate 150 --minutes 30

What runs: as in bench/intake.py (gunicorn.conf.py, APP_ENV=production, PostgreSQL, Redis,
rate limits on, TRUSTED_PROXIES=1, the Celery worker, and beat), except the SMTP sink:
bench/sink.py, which writes the recipient of every message it accepts to a file; and
MAIL_RATE_PER_SECOND is 1000 (--mail-rate), as the sink is local: at the default 50 a
second for the whole deployment, the outbox would take as long again to drain.
First the maximum: wrk with bench/lua/sign.lua as fast as the server answers (--rate
skips it). Then the soak: the same requests paced by the script's delay() hook at half
that rate (one schedule per wrk thread, so the rate holds whatever the latency), with
twice the connections the maximum used, so that pacing and not the server sets the pace.
Then, once the outbox has drained, the reconciliation:
  - every accepted signature (a 303, counted by the script's response() hook) is in the
    database, and nothing else of the run is (at most the requests in flight when wrk
    stopped, stored but never answered);
  - every pending signature of the run got exactly one confirmation email: its address
    appears once in the sink's recipients, none appears twice, none is missing, and the
    outbox holds one sent confirmation for each.
Goals: no signature lost, no email lost or sent twice, no errors; the achieved rate and
latency are reported.
Results: bench/results/soak.json (soak_quick.json) and a section in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from signing_stack import (  # noqa: E402
    ClientAddresses,
    Stack,
    cpu_used,
    create_petition,
    forget_redis_keys,
    form_pool,
    service_stack,
    sign_script,
    wait_for_outbox,
)

SLUG = "save-the-library"


def maximum(stack: Stack, pool: Path, addresses: ClientAddresses, args) -> dict:
    script = sign_script(pool, SLUG, f"x{secrets.token_hex(2)}", addresses.next_block())
    return harness.run_wrk(stack.url(f"/petitions/{SLUG}/sign"), script,
                           seconds=args.max_seconds, connections=args.connections)


def reconcile(stack: Stack, run: str, accepted: int, in_flight: int) -> dict:
    """Database, outbox and sink against what the load generator was told."""
    rows = stack.db.execute(
        "SELECT s.email, s.state, count(o.id) FILTER (WHERE o.state = 'sent')"
        " FROM signatures s LEFT JOIN outbox o ON o.signature_id = s.id"
        " AND o.kind = 'signature_confirmation' WHERE s.email LIKE %s"
        " GROUP BY s.id, s.email, s.state", (f"%.{run}.t%",)).fetchall()
    time.sleep(1.5)  # the sink flushes its recipients file every half second
    received = Counter(line for line in stack.sink.recipients_file.read_text().splitlines()
                       if f".{run}.t" in line)
    pending = [email for email, state, _ in rows if state == "pending"]
    outbox_sent = Counter(sent for _, _, sent in rows)
    return {
        "accepted": accepted,
        "stored": len(rows),
        "stored_not_answered": len(rows) - accepted,
        "pending": len(pending),
        "emails_received": sum(received.values()),
        "pending_with_one_email": sum(1 for email in pending if received[email] == 1),
        "pending_without_email": sum(1 for email in pending if received[email] == 0),
        "addresses_emailed_twice_or_more": sum(1 for n in received.values() if n > 1),
        "outbox_rows_sent_per_signature": dict(sorted(outbox_sent.items())),
        "all_stored": accepted <= len(rows) <= accepted + in_flight,
        "each_pending_emailed_once": len(pending) == len(rows) and all(
            received[email] == 1 for email in pending) and set(received) == set(pending),
    }


def measure(args) -> dict:
    addresses = ClientAddresses()
    # The sink is local: mail may leave as fast as the worker sends it (bench/digest_run.py
    # does the same). At the default 50/s the outbox would take as long again to drain.
    with service_stack(args, beat=True, recipients=True,
                       MAIL_RATE_PER_SECOND=str(args.mail_rate)) as stack:
        try:
            create_petition(stack.db, SLUG)
            pool = form_pool(stack, SLUG)
            found = None if args.rate else maximum(stack, pool, addresses, args)
            if found:
                wait_for_outbox(stack.db, timeout=600)
            top = args.rate * 2 if args.rate else found["extra"]["accepted"] / found["seconds"]
            rate = round(top / 2, 1)
            run = secrets.token_hex(3)
            connections = 2 * args.connections
            print(f"soak: {rate} signatures/s for {args.minutes:g} min"
                  f" ({connections} connections)", flush=True)
            before = stack.cpu()
            summary = harness.run_wrk(
                stack.url(f"/petitions/{SLUG}/sign"),
                sign_script(pool, SLUG, run, addresses.next_block(), rate=rate),
                seconds=60 * args.minutes, connections=connections, timeout_s=30)
            web = harness.process_tree_cpu(stack.pids["web"])
            drained = wait_for_outbox(stack.db, timeout=1800)
            accepted = summary["extra"]["accepted"]
            summary["cpu_ms_per_signature"] = cpu_used(before, {**stack.cpu(), "web": web},
                                                       accepted)
            check = reconcile(stack, run, accepted, connections)
        finally:
            forget_redis_keys(args.redis, stack.env["CELERY_QUEUE"], addresses.prefix)
    return {"maximum": found, "maximum_per_second": round(top, 1), "target_per_second": rate,
            "soak": summary, "achieved_per_second": round(accepted / summary["seconds"], 1),
            "outbox_drained_after_s": round(drained, 1), "reconciliation": check,
            "goals": {"nothing_lost": check["all_stored"] and check["pending_without_email"] == 0,
                      "emailed_exactly_once": check["each_pending_emailed_once"]
                      and check["addresses_emailed_twice_or_more"] == 0,
                      "errors": summary["errors"] == 0}}


def report(args, result: dict) -> None:
    check, soak, met = result["reconciliation"], result["soak"], result["goals"]
    verdict = lambda ok: "met" if ok else "NOT MET"  # noqa: E731
    stamp = harness.stamp()
    source = "given (--rate)" if args.rate else "measured just before, same run"
    markdown = "\n".join([
        f"\n## Soak — {stamp} — {harness.machine()}\n",
        f"Command: `.venv/bin/python bench/soak.py{' --quick' if args.quick else ''}"
        f"{f' --rate {args.rate:g}' if args.rate else ''}` ({args.minutes:g} min at half the "
        f"maximum intake of {result['maximum_per_second']:,}/s, {source}; wrk paced by "
        "delay(); production settings, PostgreSQL, Redis, worker and beat; bench/sink.py "
        f"recording every recipient; MAIL_RATE_PER_SECOND {args.mail_rate:g}, the sink being "
        "local).\n",
        harness.table(
            ["measure", "value"],
            [["target / achieved signatures/s",
              f"{result['target_per_second']:,} / {result['achieved_per_second']:,}"],
             ["requests, errors", f"{soak['requests']:,}, {soak['errors']}"],
             ["latency p50 / p99 / max ms", f"{soak['p50_ms']} / {soak['p99_ms']} / "
              f"{soak['max_ms']}"],
             ["accepted (303) / stored", f"{check['accepted']:,} / {check['stored']:,}"],
             ["pending with exactly one email", f"{check['pending_with_one_email']:,} of "
              f"{check['pending']:,}"],
             ["pending without an email", check["pending_without_email"]],
             ["addresses emailed twice or more", check["addresses_emailed_twice_or_more"]],
             ["outbox drained after the load (s)", result["outbox_drained_after_s"]],
             ["CPU ms per signature (gunicorn, worker, PostgreSQL)",
              " / ".join(str(soak["cpu_ms_per_signature"][group])
                         for group in ("web", "worker", "database"))]], "lr"),
        harness.table(["goal", "verdict"],
                      [["nothing lost", verdict(met["nothing_lost"])],
                       ["every pending signature emailed exactly once",
                        verdict(met["emailed_exactly_once"])],
                       ["no errors", verdict(met["errors"])]], "ll"),
    ])
    document = {"date": stamp, "machine": harness.machine(), "quick": args.quick,
                "minutes": args.minutes, **result}
    harness.save("soak_quick" if args.quick else "soak", document, markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 minute")
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--rate", type=float, help="soak at this rate; skip the maximum")
    parser.add_argument("--max-seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--mail-rate", type=float, default=1000,
                        help="MAIL_RATE_PER_SECOND for the run (the app's default is 50)")
    parser.add_argument("--database", default=harness.DATABASE_URL)
    parser.add_argument("--redis", default=harness.REDIS_URL)
    parser.add_argument("--keep", action="store_true", help="keep the scratch schema")
    parser.add_argument("--no-save", action="store_true",
                        help="print the results; write neither JSON nor RESULTS.md")
    args = parser.parse_args()
    args.minutes = args.minutes or (1 if args.quick else 10)
    result = measure(args)
    if args.no_save:
        print(json.dumps({k: v for k, v in result.items() if k != "maximum"}, indent=2))
    else:
        report(args, result)


if __name__ == "__main__":
    main()
