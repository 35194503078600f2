"""What the signing benchmarks share (bench/intake.py, bench/confirm.py, bench/soak.py): the
service as production runs it, with a ceiling next to it; a pool of petition forms as
browsers hold them; the wrk scripts in bench/lua/; CPU accounting; and the checks that
what was accepted was stored and emailed.
"""

from __future__ import annotations

import http.client
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import harness  # bench/harness.py (the scripts put bench/ on sys.path)
import psycopg
import redis

LUA = Path(__file__).resolve().parent / "lua"
POOL_SIZE = 256
MIN_FILL_SECONDS = 3
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
STARTED = re.compile(r'name="form_started" type="hidden" value="([^"]+)"')
SESSION = re.compile(r"session=([^;]+)")


# --- the service ---------------------------------------------------------------------------

@dataclass
class Stack:
    schema: str
    env: dict
    folder: Path
    app_port: int
    ceiling_port: int
    sink: harness.SmtpSink
    db: psycopg.Connection
    pids: dict[str, int]  # "web", "ceiling", "worker": the process trees to measure

    def url(self, path: str = "", ceiling: bool = False) -> str:
        return f"http://127.0.0.1:{self.ceiling_port if ceiling else self.app_port}{path}"

    def cpu(self) -> dict:
        """CPU seconds so far: gunicorn (app, ceiling), the worker, and this run's
        PostgreSQL backends by pid (one that starts later counts from 0)."""
        return {**{name: harness.process_tree_cpu(pid) for name, pid in self.pids.items()},
                "database": {pid: harness.cpu_seconds([pid]) for pid in
                             harness.postgres_backends(self.db, self.schema)}}


def cpu_used(before: dict, after: dict, per: int) -> dict[str, float]:
    """Milliseconds of CPU per unit of work (a signature, a request), by process group."""
    used = {name: after[name] - before[name] for name in ("web", "ceiling", "worker")}
    used["database"] = sum(seconds - before["database"].get(pid, 0.0)
                           for pid, seconds in after["database"].items())
    return {name: round(1000 * seconds / max(per, 1), 3) for name, seconds in used.items()}


@contextmanager
def service_stack(args, beat: bool = False, recipients: bool = False,
                  name: str | None = None, **settings: str) -> Iterator[Stack]:
    """Sink, worker (and beat), the app and the ceiling under gunicorn, in a scratch schema
    (`name`, or a random one); everything stopped and dropped afterwards (the schema kept
    with --keep). `settings` add to or override the app's environment."""
    sink_port = harness.free_port()
    with harness.scratch_schema(args.database, keep=args.keep, name=name, REDIS_URL=args.redis,
                                SMTP_URL=f"smtp://127.0.0.1:{sink_port}", TRUSTED_PROXIES="1",
                                RATELIMIT_ENABLED="true", **settings) as (schema, env):
        folder = harness.OUT / schema
        try:
            with harness.Processes(folder) as processes, harness.connect(args.database,
                                                                          schema) as db:
                sink = processes.smtp_sink(sink_port, folder / "recipients.txt"
                                           if recipients else None)
                worker = processes.worker(env)
                if beat:
                    processes.beat(env)
                ports = harness.free_port(), harness.free_port()
                web = processes.gunicorn(env, ports[0], log_name="app.log",
                                         ready_path="/petitions.json")
                ceiling = processes.gunicorn(env, ports[1], app="bench.ceiling_app:app",
                                             log_name="ceiling.log")
                yield Stack(schema, env, folder, ports[0], ports[1], sink, db,
                            {"web": web.pid, "ceiling": ceiling.pid, "worker": worker.pid})
        finally:
            forget_redis_keys(args.redis, env["CELERY_QUEUE"])


def forget_redis_keys(redis_url: str, queue: str, client_block: str | None = None) -> None:
    """Our Celery queue, and the limiter's counters for this run's client addresses."""
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    client.delete(queue, f"_kombu.binding.{queue}")
    if client_block:
        deadline = time.monotonic() + 60
        for key in client.scan_iter(match=f"LIMITS:*{client_block}:*", count=5000):
            client.delete(key)
            if time.monotonic() > deadline:
                break


def create_petition(db: psycopg.Connection, slug: str) -> int:
    return db.execute(
        "INSERT INTO petitions (slug, title, summary, body, target, goal, state, signature_count,"
        " hidden, milestone_emails, created_at, updated_at) VALUES (%s, %s, %s, %s, %s,"
        " 1000000, 'open', 0, false, false, now(), now()) RETURNING id",
        (slug, "Keep the night buses running", "The council plans to cut every night bus.",
         "## Why\n\n" + "Night workers need a way home. " * 30, "The City Council"),
    ).fetchone()[0]


def form_pool(stack: Stack, slug: str, size: int = POOL_SIZE) -> Path:
    """Show the petition page `size` times, as to that many browsers; keep each one's
    session cookie, CSRF token and form_started token. Returns once the forms are old
    enough to pass MIN_FILL_SECONDS."""
    pool = stack.folder / f"pool-{slug}.tsv"
    lines = []
    connection = http.client.HTTPConnection("127.0.0.1", stack.app_port, timeout=10)
    try:
        for _ in range(size):
            connection.request("GET", f"/petitions/{slug}")
            response = connection.getresponse()
            page = response.read().decode()
            cookie = SESSION.search(response.getheader("Set-Cookie") or "")
            csrf, started = CSRF.search(page), STARTED.search(page)
            if response.status != 200 or not (cookie and csrf and started):
                raise RuntimeError(f"the petition page gave no form ({response.status})")
            lines.append(f"{cookie.group(1)}\t{csrf.group(1)}\t{started.group(1)}\n")
    finally:
        connection.close()
    pool.write_text("".join(lines))
    time.sleep(MIN_FILL_SECONDS + 0.5)
    return pool


def lua_script(name: str, success_status: int, success_name: str, **config) -> str:
    """bench/lua/<name>.lua after its CONFIG table and bench/lua/common.lua (the threads
    and the tally: answers with success_status are reported as success_name)."""
    config = {**config, "success_status": success_status, "success_name": success_name}
    fields = ", ".join(f"{key} = {value!r}" if not isinstance(value, str)
                       else f'{key} = "{value}"' for key, value in config.items())
    return (f"CONFIG = {{{fields}}}\n" + (LUA / "common.lua").read_text()
            + (LUA / f"{name}.lua").read_text())


def client_block() -> str:
    """A random group under IPv6's documentation prefix: this process's client addresses
    are 2001:db8:<group>:<wrk run>::<thread>:<n>, each request's its own, and its rate
    limit counters are found (and deleted) by that prefix alone."""
    return f"2001:db8:{secrets.randbelow(65536):x}"


class ClientAddresses:
    """A fresh block of client addresses for each wrk run: a run must never meet the
    limits its predecessor left (1 a minute per petition and address)."""

    def __init__(self) -> None:
        self.prefix = client_block()
        self.runs = 0

    def next_block(self) -> str:
        self.runs += 1
        return f"{self.prefix}:{self.runs:x}"


def sign_script(pool: Path, slug: str, run: str, block: str, rate: float = 0,
                threads: int = 1) -> str:
    return lua_script("sign", 303, "accepted", pool=str(pool), path=f"/petitions/{slug}/sign",
                      run=run, client_block=block, rate=float(rate), threads=threads)


# --- checks --------------------------------------------------------------------------------

def wait_for_outbox(db: psycopg.Connection, timeout: float = 180) -> float:
    """Seconds until no mail is left to send (pending or being sent)."""
    started = time.monotonic()
    while db.execute("SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')"
                     ).fetchone()[0]:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the outbox did not drain within {timeout} s")
        time.sleep(0.25)
    return time.monotonic() - started


def stored(db: psycopg.Connection, run: str) -> dict:
    """This run's signatures (their emails carry the run tag) and their confirmation mail."""
    row = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE s.flagged), count(DISTINCT o.signature_id)"
        " FILTER (WHERE o.state = 'sent') FROM signatures s LEFT JOIN outbox o"
        " ON o.signature_id = s.id AND o.kind = 'signature_confirmation'"
        " WHERE s.email LIKE %s", (f"%.{run}.t%",)).fetchone()
    return {"stored": row[0], "flagged": row[1], "emails_sent": row[2]}


def ceiling_round(stack: Stack, seconds: float, connections: int) -> dict:
    before = stack.cpu()
    summary = harness.run_wrk(stack.url("/", ceiling=True), seconds=seconds,
                              connections=connections)
    summary["cpu_ms_per_request"] = cpu_used(before, stack.cpu(), summary["requests"])
    return summary
