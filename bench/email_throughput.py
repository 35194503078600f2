"""Benchmark 4 of issue 8: outbox rows to SMTP through the real worker, against plain smtplib.

    .venv/bin/python bench/email_throughput.py            # 20,000 messages, 3 rounds
    .venv/bin/python bench/email_throughput.py --quick    # 2,000 messages, 2 rounds

In a scratch schema it stores N pending signature-confirmation emails, one per signature
of one petition: the app queues one through its own send_signature_confirmation (in a
child process), and SQL copies that row (its bodies, or the payload the worker renders
them from at send time) with its own address, signature and Message-ID. Then, with
Postfix's smtp-sink counting (harness.Processes.smtp_sink), it alternates:
  - the ceiling: plain smtplib, one persistent connection per process, the same number of
    processes as the worker (2, multiprocessing), sending the same messages: every row
    rendered and composed before timing by the worker's own code, batch by batch
    (rendering.prepare, delivery.build_message);
  - the worker: `celery -A worker worker` (prefork, 2 processes, production settings,
    MAIL_RATE_PER_SECOND lifted so that relay-friendly pacing is not what is measured),
    started once and idle between runs; each run puts every row back to pending, sends
    the `outbox.deliver` nudge the app sends after a commit (enough of them for the
    worker's batch budget, at least one per process) and times until every row is
    `sent` (the table is polled every 50 ms).
Each run checks that the sink received every message. Reports messages/s of both, the
worker's over the ceiling's in each round and their median, and the CPU each side spends
per message (senders or worker processes, the worker's PostgreSQL backends, the sink),
which explains the ratio on a machine whose 2 cores all of them share and which moves far
less than the rates with whatever else runs. --profile wall|cpu adds py-spy's profile of
the worker's processes in the last round (pip install py-spy).
Goal: worker >= 0.8 of the ceiling. Results: bench/results/email_throughput.json and a
dated section in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import re
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import redis
from celery import Celery

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from count_reads import tree_cpu_seconds  # noqa: E402
from export_signers import insert_signatures, make_petition  # noqa: E402

GOAL = 0.8
SLUG = "bench-email"
# delivery.deliver_due's budget per task: 50 batches of 250.
ROWS_PER_NUDGE = 50 * 250
STALL_SECONDS = 2.0

QUEUE_ONE = """
import sys
from petitions import create_app
from petitions.extensions import db
from petitions.signing.email import send_signature_confirmation
from petitions.signing.models import Signature
app = create_app({"OUTBOX_NUDGE": False})
with app.test_request_context(base_url=app.config["BASE_URL"]):
    signature = db.session.get(Signature, int(sys.argv[1]))
    send_signature_confirmation(signature)
    db.session.commit()
"""

# The bytes the worker sends for each row, built by its own code (rows loaded, prepared
# and composed in its batches), for the ceiling.
BUILD_ALL = """
import pickle, sys
from email.utils import parseaddr
from sqlalchemy import text
from petitions import create_app
from petitions.extensions import db
from petitions.mail import rendering
from petitions.mail.delivery import BATCH_SIZE, _load, build_message
app = create_app({"OUTBOX_NUDGE": False})
messages = []
with app.app_context():
    ids = list(db.session.scalars(text("SELECT id FROM outbox ORDER BY id")))
    sender = app.config["MAIL_FROM"]
    for first in range(0, len(ids), BATCH_SIZE):
        rows = _load(ids[first:first + BATCH_SIZE])
        assert not rendering.prepare(rows), "a row would be cancelled"
        messages += [(row.to_address, build_message(row, sender)) for row in rows]
with open(sys.argv[1], "wb") as out:
    pickle.dump((parseaddr(sender)[1], messages), out)
"""


def run_child(code: str, env: dict, *args: str) -> None:
    completed = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=harness.ROOT,
                               capture_output=True, text=True, timeout=600)
    if completed.returncode != 0:
        raise RuntimeError(f"child failed: {completed.stderr.strip()[-3000:]}")


def build_outbox(conn, env: dict, messages: int) -> None:
    """N pending confirmation emails, one per signature, copied from one the app rendered."""
    petition_id = make_petition(conn, SLUG, 0)[0]
    insert_signatures(conn, [petition_id], 1, messages)
    first = conn.execute("SELECT min(id) FROM signatures").fetchone()[0]
    run_child(QUEUE_ONE, env, str(first))
    template = conn.execute("SELECT id FROM outbox").fetchone()[0]
    conn.execute("""
        INSERT INTO outbox (kind, to_address, subject, text_body, html_body, payload, headers,
                            message_id, state, attempts, next_attempt_at, signature_id,
                            created_at)
        SELECT t.kind, s.email, t.subject, t.text_body, t.html_body, t.payload, t.headers,
               '<bench.' || s.id || '.' || md5(random()::text) || '@petitions.example.org>',
               'pending', 0, now(), s.id, now()
        FROM outbox t CROSS JOIN signatures s
        WHERE t.id = %s AND s.id <> %s""", (template, first))
    conn.execute("VACUUM ANALYZE outbox")


def reset_outbox(conn) -> None:
    conn.execute("UPDATE outbox SET state = 'pending', attempts = 0, sent_at = NULL,"
                 " claimed_at = NULL, last_error = NULL, next_attempt_at = now()")
    conn.execute("VACUUM ANALYZE outbox")


def outbox_states(conn) -> dict[str, int]:
    return dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())


def stored_bytes(conn) -> int:
    """What one row holds: its bodies, or the payload the worker renders them from."""
    return conn.execute("SELECT pg_column_size(outbox.*) FROM outbox ORDER BY id LIMIT 1"
                        ).fetchone()[0]


# --- the ceiling ---------------------------------------------------------------------------

def _send_share(port: int, envelope_from: str, share: list, start, times) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo()
        start.wait(60)
        started, cpu = time.perf_counter(), time.process_time()
        for recipient, data in share:
            smtp.sendmail(envelope_from, [recipient], data)
        times.put((started, time.perf_counter(), time.process_time() - cpu))


def ceiling_run(port: int, envelope_from: str, messages: list,
                processes: int) -> tuple[float, float]:
    """(Seconds for `processes` forked senders to send their shares, start to last
    finish; their CPU seconds). The messages are in memory (inherited at fork) before the
    clock starts."""
    context = multiprocessing.get_context("fork")
    start, times = context.Barrier(processes + 1), context.Queue()
    senders = [context.Process(target=_send_share, args=(
        port, envelope_from, messages[n::processes], start, times)) for n in range(processes)]
    for sender in senders:
        sender.start()
    try:
        start.wait(60)
        spans = [times.get(timeout=600) for _ in senders]
    finally:
        for sender in senders:
            sender.join(30)
            if sender.is_alive():
                sender.kill()
    return (max(end for _, end, _ in spans) - min(begin for begin, _, _ in spans),
            sum(cpu for _, _, cpu in spans))


# --- the worker ----------------------------------------------------------------------------

def worker_run(conn, nudge: Celery, queue: str, messages: int, processes: int,
               timeout: float) -> tuple[float, int]:
    """(Seconds from the nudges to the last row marked sent, times it stalled).

    Stalled: rows still pending, none sent for STALL_SECONDS, so no task is at work on
    them. Beat's sweep (every 30 s) would send a nudge then; this sends it at once, and
    counts it."""
    started = time.perf_counter()
    for _ in range(max(processes, -(-messages // ROWS_PER_NUDGE) + 1)):
        nudge.send_task("outbox.deliver", queue=queue)
    deadline, stalls = started + timeout, 0
    progress = (-1, time.perf_counter())  # (rows sent, when that changed)
    while time.perf_counter() < deadline:
        states = outbox_states(conn)
        sent = states.get("sent", 0)
        if sent == messages:
            return time.perf_counter() - started, stalls
        if states.get("failed") or not states.get("pending", 0) + states.get("sending", 0):
            raise RuntimeError(f"the worker did not send everything: {states}")
        if sent != progress[0]:
            progress = (sent, time.perf_counter())
        elif time.perf_counter() - progress[1] > STALL_SECONDS and not states.get("sending"):
            stalls += 1
            for _ in range(processes):
                nudge.send_task("outbox.deliver", queue=queue)
            progress = (sent, time.perf_counter())
        time.sleep(0.05)
    raise RuntimeError(f"not all sent within {timeout} s: {outbox_states(conn)}")


# --- where the CPU goes ---------------------------------------------------------------------

def backend_cpu(conn, application_name: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the worker (by application_name)."""
    pids = [row[0] for row in conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application_name,))]
    return {pid: tree_cpu_seconds(pid) for pid in pids}


def cpu_ms_per_message(before: dict, after: dict, messages: int) -> dict[str, float]:
    spent = {name: after[name] - before[name] for name in after if name != "postgres"}
    if "postgres" in after:
        spent["postgres"] = sum(cpu - before["postgres"].get(pid, 0.0)
                                for pid, cpu in after["postgres"].items())
    return {name: round(1000 * seconds / messages, 3) for name, seconds in spent.items()}


# --- the profile (--profile): py-spy on the worker's pool processes ------------------------

class WorkerProfile:
    """py-spy record on each pool process during a run: "wall" counts waits on the SMTP
    server and PostgreSQL too, "cpu" only the time on a core."""

    def __init__(self, folder: Path, worker_pid: int, kind: str):
        self.kind = kind
        self.py_spy = shutil.which("py-spy") or str(harness.BIN / "py-spy")
        folder.mkdir(parents=True, exist_ok=True)
        self.pids = [pid for pid in harness.process_tree_rss(worker_pid) if pid != worker_pid]
        self.outputs = [folder / f"py-spy-{pid}.txt" for pid in self.pids]
        self.recorders: list[subprocess.Popen] = []

    def __enter__(self) -> WorkerProfile:
        for pid, output in zip(self.pids, self.outputs, strict=True):
            self.recorders.append(subprocess.Popen(
                [self.py_spy, "record", "--pid", str(pid), "--rate", "250",
                 *(["--idle"] if self.kind == "wall" else []),
                 "--format", "raw", "--output", str(output)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1)  # py-spy attaches
        return self

    def __exit__(self, *_exc) -> None:
        for recorder in self.recorders:
            recorder.send_signal(signal.SIGINT)
        for recorder in self.recorders:
            try:
                recorder.wait(30)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait(5)

    def summary(self, top: int = 20) -> list[tuple[str, str, float]]:
        """(Our innermost function, the function running, % of samples), busiest first."""
        function = re.compile(r":\d+\)$")  # "name (path:line)" -> "name (path)"
        shares: dict[tuple[str, str], int] = {}
        for output in (o for o in self.outputs if o.exists()):
            for line in output.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                if count.isdigit():
                    frames = [function.sub(")", frame) for frame in stack.split(";")]
                    ours = [frame for frame in frames if "petitions/" in frame] or ["(Celery)"]
                    key = (ours[-1], frames[-1])
                    shares[key] = shares.get(key, 0) + int(count)
        total = sum(shares.values()) or 1
        ranked = sorted(shares.items(), key=lambda item: -item[1])[:top]
        return [(ours, running, round(100 * n / total, 1)) for (ours, running), n in ranked]


def forget_queue(redis_url: str, queue: str) -> None:
    """Drop this run's Celery queue (nudges left unclaimed) and its binding from Redis."""
    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(queue, f"_kombu.binding.{queue}")
    finally:
        client.close()


def wait_for_sink(sink, expected: int, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while sink.messages() < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return sink.messages()


def measure(args, schema: str, env: dict, conn) -> dict:
    folder = harness.OUT / schema
    # The worker's database sessions are named, to find the backends whose CPU it costs.
    if "application_name=" not in env["DATABASE_URL"]:
        env = {**env, "DATABASE_URL": f"{env['DATABASE_URL']}&application_name={schema}"}
    application_name = env["DATABASE_URL"].partition("application_name=")[2].partition("&")[0]
    with harness.Processes(folder) as processes:
        sink = processes.smtp_sink(harness.free_port())
        env = {**env, "SMTP_URL": sink.url}
        built = folder / "messages.pickle"
        run_child(BUILD_ALL, env, str(built))
        envelope_from, prebuilt = pickle.loads(built.read_bytes())
        built.unlink()
        worker = processes.worker(env, concurrency=args.processes)
        nudge = Celery(broker=env["REDIS_URL"])
        # Outside the scratch folder, which is deleted at the end: the raw stacks are kept.
        profile = WorkerProfile(harness.OUT / "email-profile", worker.pid, args.profile)

        def cpu() -> dict:
            return {"sink": tree_cpu_seconds(sink.process.pid),
                    "worker": tree_cpu_seconds(worker.pid),
                    "postgres": backend_cpu(conn, application_name)}

        rounds = []
        try:
            for number in range(1, args.rounds + 1):
                before, sink_before = sink.messages(), cpu()
                ceiling_s, senders_cpu = ceiling_run(sink.port, envelope_from, prebuilt,
                                                     args.processes)
                ceiling_sunk = wait_for_sink(sink, before + args.messages) - before
                ceiling_cpu = {"senders": round(1000 * senders_cpu / args.messages, 3),
                               "sink": cpu_ms_per_message(
                                   {"sink": sink_before["sink"]},
                                   {"sink": cpu()["sink"]}, args.messages)["sink"]}
                reset_outbox(conn)
                before, cpu_before = sink.messages(), cpu()
                with profile if args.profile and number == args.rounds else nullcontext():
                    worker_s, stalls = worker_run(conn, nudge, env["CELERY_QUEUE"],
                                                  args.messages, args.processes, args.timeout)
                worker_cpu = cpu_ms_per_message(cpu_before, cpu(), args.messages)
                worker_sunk = wait_for_sink(sink, before + args.messages) - before
                rounds.append({
                    "ceiling_seconds": round(ceiling_s, 3),
                    "worker_seconds": round(worker_s, 3),
                    "ceiling_per_second": round(args.messages / ceiling_s, 1),
                    "worker_per_second": round(args.messages / worker_s, 1),
                    "ratio": round(ceiling_s / worker_s, 3),
                    "ceiling_sink_messages": ceiling_sunk,
                    "worker_sink_messages": worker_sunk,
                    "worker_stalls": stalls,
                    "ceiling_cpu_ms_per_message": ceiling_cpu,
                    "worker_cpu_ms_per_message": worker_cpu,
                    "load_average": float(Path("/proc/loadavg").read_text().split()[0]),
                })
                print(f"round {number}: {rounds[-1]}", flush=True)
        finally:
            nudge.close()
            processes.stop(worker)
            forget_queue(env["REDIS_URL"], env["CELERY_QUEUE"])
    return {
        "messages": args.messages,
        "processes": args.processes,
        "message_bytes": len(prebuilt[0][1]),
        "stored_row_bytes": stored_bytes(conn),
        "rendered_at_send_time": conn.execute(
            "SELECT payload IS NOT NULL FROM outbox LIMIT 1").fetchone()[0],
        "sink": sink.kind,
        "ceiling_per_second": round(statistics.median(r["ceiling_per_second"] for r in rounds)),
        "worker_per_second": round(statistics.median(r["worker_per_second"] for r in rounds)),
        "ratio": round(statistics.median(r["ratio"] for r in rounds), 3),
        "all_delivered": all(r["ceiling_sink_messages"] == r["worker_sink_messages"]
                             == args.messages for r in rounds),
        "ceiling_cpu_ms_per_message": median_of(rounds, "ceiling_cpu_ms_per_message"),
        "worker_cpu_ms_per_message": median_of(rounds, "worker_cpu_ms_per_message"),
        "goal": GOAL,
        "rounds": rounds,
        "profile": profile.summary() if args.profile else [],
    }


def median_of(rounds: list[dict], key: str) -> dict[str, float]:
    return {name: round(statistics.median(r[key][name] for r in rounds), 3)
            for name in rounds[0][key]}


def cpu_text(spent: dict[str, float]) -> str:
    return " + ".join(f"{name} {ms}" for name, ms in spent.items()) + \
        f" = {round(sum(spent.values()), 3)}"


def write_results(args, result: dict) -> None:
    stamp = harness.stamp()
    note = f" {args.note}" if args.note else ""
    met = result["ratio"] >= GOAL
    lines = [
        f"\n## Email throughput — {stamp} — {harness.machine()}{note}\n",
        f"Command: `.venv/bin/python bench/email_throughput.py{' --quick' if args.quick else ''}`"
        f" ({result['messages']:,} signature confirmations of {result['message_bytes']:,} bytes"
        f" on the wire; sink: {result['sink']}; {result['processes']} processes each side; "
        f"PostgreSQL, Redis, production settings, MAIL_RATE_PER_SECOND lifted). Ceiling: plain "
        "smtplib, one persistent connection per process, the worker's own composed bytes "
        "built before timing. Worker: `celery -A worker worker` (prefork), from the nudges to "
        f"the last row marked sent. {len(result['rounds'])} alternating rounds; medians. "
        f"Goal: worker/ceiling >= {GOAL}.\n",
        harness.table(
            ["round", "ceiling s", "worker s", "ceiling msg/s", "worker msg/s",
             "worker/ceiling", "sink got (ceiling / worker)", "worker stalls", "load avg"],
            [[n, r["ceiling_seconds"], r["worker_seconds"], f"{r['ceiling_per_second']:,}",
              f"{r['worker_per_second']:,}", r["ratio"],
              f"{r['ceiling_sink_messages']:,} / {r['worker_sink_messages']:,}",
              r["worker_stalls"], r["load_average"]] for n, r in enumerate(result["rounds"], 1)]
            + [["median", "", "", f"{result['ceiling_per_second']:,}",
                f"{result['worker_per_second']:,}", result["ratio"], "", "", ""]]),
        "Worker stalls: times every deliver task had ended with rows still pending, so that "
        "only another nudge (beat's sweep, every 30 s in production; here at once) went on.\n",
        "CPU ms per message (medians; the machine has 2 cores for all of it): ceiling "
        f"{cpu_text(result['ceiling_cpu_ms_per_message'])}; worker "
        f"{cpu_text(result['worker_cpu_ms_per_message'])} (postgres: the backends of the "
        "worker's own sessions).\n",
        f"Worker/ceiling {result['ratio']} against {GOAL}: "
        f"{'goal met' if met else 'GOAL NOT MET'}; every message reached the sink: "
        f"{'yes' if result['all_delivered'] else 'NO'}.\n",
    ]
    if result["profile"]:
        lines += [f"Where the worker's pool processes spent the last run (py-spy, "
                  f"{'wall clock' if args.profile == 'wall' else 'CPU'}; by the innermost "
                  "function of ours on the stack and the function running):\n",
                  harness.table(["in our code", "running", "% of samples"],
                                result["profile"], "llr")]
    harness.save("email_throughput", {"date": stamp, "machine": harness.machine(),
                                      "quick": args.quick, "runs": [result]},
                 "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 messages, 2 rounds")
    parser.add_argument("--messages", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--processes", type=int, default=2,
                        help="worker processes, and ceiling senders")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per worker run")
    parser.add_argument("--database", default=harness.DATABASE_URL)
    parser.add_argument("--redis", default=harness.REDIS_URL)
    parser.add_argument("--profile", choices=("wall", "cpu"), help="py-spy on the worker's "
                        "processes in the last round (pip install py-spy)")
    parser.add_argument("--note", default="", help="appended to the results heading")
    parser.add_argument("--no-save", action="store_true", help="print only; write no results")
    args = parser.parse_args()
    args.messages = args.messages or (2_000 if args.quick else 20_000)
    args.rounds = args.rounds or (2 if args.quick else 3)

    with harness.scratch_schema(args.database, REDIS_URL=args.redis,
                                MAIL_RATE_PER_SECOND="100000") as (schema, env):
        with harness.connect(args.database, schema) as conn:
            build_outbox(conn, env, args.messages)
            result = measure(args, schema, env, conn)
    print({k: v for k, v in result.items() if k != "rounds"})
    if not args.no_save:
        write_results(args, result)


if __name__ == "__main__":
    main()
