"""What every benchmark shares: a scratch schema, the service's own processes (gunicorn,
the Celery worker, an SMTP sink), the load generator (wrk), memory readings and results.

Everything listens on loopback; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import system  # noqa: E402  (bench/system.py)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
# bench/run.py --quick points this at bench/out/quick: a check of the harness is no result.
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR") or ROOT / "bench" / "results")
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30,
                  what: str = "a server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout} s")


# --- the scratch schema --------------------------------------------------------------------

def app_env(conninfo: str, schema: str, **settings: str) -> dict[str, str]:
    """Production settings for the app in `schema`; keyword arguments add or override."""
    instance = OUT / schema
    instance.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        # application_name: pg_stat_activity tells this run's connections apart.
        "DATABASE_URL": f"{conninfo}?options=-csearch_path%3D{schema}&application_name={schema}",
        "SMTP_URL": "smtp://127.0.0.1:1",
        "BASE_URL": "https://petitions.example.org",
        "MAIL_FROM": "Petitions <petitions@petitions.example.org>",
        "INSTANCE_PATH": str(instance),
        "FLASK_APP": "petitions",
        "CELERY_QUEUE": f"bench-{schema}",
        **settings,
    }


def prepare_schema(conninfo: str, schema: str, env: dict) -> None:
    """Create the schema unless a kept one is there, and migrate it to head."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    subprocess.run([BIN / "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)


def drop_schema(conninfo: str, schema: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    shutil.rmtree(OUT / schema, ignore_errors=True)


def connect(conninfo: str, schema: str) -> psycopg.Connection:
    conn = psycopg.connect(conninfo, autocommit=True)
    conn.execute(f'SET search_path TO "{schema}"')
    return conn


@contextmanager
def scratch_schema(conninfo: str = DATABASE_URL, keep: bool = False, name: str | None = None,
                   **settings: str) -> Iterator[tuple[str, dict]]:
    """(schema, app env) for a migrated schema of its own, dropped afterwards unless kept."""
    schema = name or f"bench_{secrets.token_hex(4)}"
    env = app_env(conninfo, schema, **settings)
    prepare_schema(conninfo, schema, env)
    try:
        yield schema, env
    finally:
        if not keep:
            drop_schema(conninfo, schema)


# --- processes -----------------------------------------------------------------------------

class Processes:
    """The benchmark's servers; all stopped on exit, the last started first."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[subprocess.Popen] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop_all()

    def spawn(self, command: list, env: dict, log_name: str) -> subprocess.Popen:
        log = open(self.folder / log_name, "ab")
        process = subprocess.Popen([str(part) for part in command], env=env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 15) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            self.stop(process)
        self.started.clear()

    def worker(self, env: dict, concurrency: int = 2, timeout: float = 60,
               log_name: str = "worker.log") -> subprocess.Popen:
        """`celery -A worker worker`, prefork, as the Procfile runs it."""
        log = self.folder / log_name
        offset = log.stat().st_size if log.exists() else 0
        process = self.spawn([BIN / "celery", "-A", "worker", "worker", "--concurrency",
                              concurrency, "--loglevel", "INFO", "--without-gossip",
                              "--without-mingle"], env, log_name)
        deadline = time.monotonic() + timeout
        while b"ready." not in log.read_bytes()[offset:]:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"worker did not start; see {log}")
            time.sleep(0.2)
        return process

    def gunicorn(self, env: dict, port: int, app: str = "petitions:create_app()",
                 workers: int | None = None, threads: int | None = None,
                 extra: tuple[str, ...] = (), log_name: str = "gunicorn.log",
                 ready_path: str = "/") -> subprocess.Popen:
        """gunicorn with the project's gunicorn.conf.py (the production configuration);
        the access log is off unless `extra` asks for it, so that it costs nothing."""
        settings = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
        if workers:
            settings["WEB_CONCURRENCY"] = str(workers)
        if threads:
            settings["GUNICORN_THREADS"] = str(threads)
        command = [BIN / "gunicorn", "--config", ROOT / "gunicorn.conf.py",
                   "--access-logfile", "/dev/null", *extra, app]
        process = self.spawn(command, settings, log_name)
        wait_for_port(port, process, timeout=60, what="gunicorn")
        deadline = time.monotonic() + 30
        while True:  # the port opens in the master before its workers serve
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=5).read()
                return process
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def beat(self, env: dict, timeout: float = 60, log_name: str = "beat.log") -> subprocess.Popen:
        """`celery -A worker beat`, as the Procfile runs it, with its schedule file in the
        scratch folder (so a run never reads another's last-run times)."""
        log = self.folder / log_name
        offset = log.stat().st_size if log.exists() else 0
        process = self.spawn([BIN / "celery", "-A", "worker", "beat", "--loglevel", "INFO",
                              "--schedule", self.folder / "celerybeat-schedule"], env, log_name)
        deadline = time.monotonic() + timeout
        while b"beat: Starting" not in log.read_bytes()[offset:]:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"beat did not start; see {log}")
            time.sleep(0.2)
        return process

    def smtp_sink(self, port: int, recipients: Path | None = None) -> SmtpSink:
        """The fast sink; with `recipients`, bench/sink.py writing each RCPT address to
        that file (one a line), for runs that check who got what."""
        sink = SmtpSink(port, self.folder / f"sink-{port}.out", recipients)
        sink.process = sink.start(self)
        return sink


class SmtpSink:
    """Postfix's smtp-sink (C, Debian's postfix package), so that the sink is not the
    bottleneck; bench/sink.py when it cannot be installed."""

    def __init__(self, port: int, stats_file: Path, recipients: Path | None = None):
        self.port = port
        self.stats_file = stats_file
        self.recipients_file = recipients
        self.kind = ""
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self, processes: Processes) -> subprocess.Popen:
        smtp_sink = None if self.recipients_file else system.ensure("smtp-sink")
        if smtp_sink:
            self.kind = "postfix smtp-sink"
            command = [smtp_sink, "-c", "-u", "nobody", f"127.0.0.1:{self.port}", "256"]
            process = processes.spawn(command, os.environ, self.stats_file.name)
        else:
            self.kind = "bench/sink.py"
            command = [sys.executable, ROOT / "bench" / "sink.py", self.port, self.stats_file]
            if self.recipients_file:
                command.append(self.recipients_file)
            process = processes.spawn(command, os.environ, "sink.log")
        wait_for_port(self.port, process, timeout=10, what="the SMTP sink")
        return process

    def messages(self) -> int:
        if self.kind == "bench/sink.py":
            try:
                return json.loads(self.stats_file.read_text())["messages"]
            except (OSError, ValueError):
                return 0
        # smtp-sink -c keeps rewriting one line: "sess=N quit=N mesg=N\r".
        counts = re.findall(rb"mesg=(\d+)", self.stats_file.read_bytes())
        return int(counts[-1]) if counts else 0


# --- the load generator --------------------------------------------------------------------

# A script may define report_extra(), returning a JSON text: it becomes summary["extra"]
# (e.g. counts its response() hook kept per thread).
REPORT_LUA = r"""
done = function(summary, latency, requests)
  local errors = summary.errors
  local extra = "null"
  if type(report_extra) == "function" then extra = report_extra() end
  io.write("WRK_JSON ", string.format(
    '{"requests": %d, "seconds": %.3f, "connect_errors": %d, "read_errors": %d,'
    .. ' "write_errors": %d, "timeouts": %d, "non_2xx_3xx": %d, "mean_ms": %.3f,'
    .. ' "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "extra": %s}\n',
    summary.requests, summary.duration / 1e6, errors.connect, errors.read, errors.write,
    errors.timeout, errors.status, latency.mean / 1000, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000, extra))
end
"""


def wrk_path() -> str:
    found = system.ensure("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and could not be (apt-get install wrk)")
    return found


def run_wrk(url: str, script: str = "", seconds: float = 10, connections: int = 16,
            threads: int = 1, env: dict | None = None, timeout_s: float = 5) -> dict:
    """wrk against url for `seconds`; `script` is Lua (request/response hooks). Returns the
    summary: requests, requests_per_second, latency percentiles in ms and error counts."""
    OUT.mkdir(parents=True, exist_ok=True)
    script_file = OUT / f"wrk-{secrets.token_hex(4)}.lua"
    script_file.write_text(script + "\n" + REPORT_LUA)
    try:
        completed = subprocess.run(
            # wrk reads whole seconds only ("2.5s" fails).
            [wrk_path(), "-t", str(threads), "-c", str(connections), "-d",
             f"{max(1, round(seconds))}s", "--timeout", f"{max(1, round(timeout_s))}s",
             "-s", str(script_file), url],
            capture_output=True, text=True, timeout=seconds + 60, env=env or os.environ)
    finally:
        script_file.unlink(missing_ok=True)
    if completed.returncode != 0:
        output = (completed.stderr.strip() or completed.stdout.strip())[-2000:]
        raise RuntimeError(f"wrk failed ({completed.returncode}): {output}")
    line = next(line for line in completed.stdout.splitlines() if line.startswith("WRK_JSON "))
    summary = json.loads(line.removeprefix("WRK_JSON "))
    summary["requests_per_second"] = round(summary["requests"] / summary["seconds"], 1)
    summary["errors"] = sum(summary[key] for key in (
        "connect_errors", "read_errors", "write_errors", "timeouts", "non_2xx_3xx"))
    return summary


# --- memory --------------------------------------------------------------------------------

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


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """User plus system CPU time of these processes (those that have exited count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def process_tree_cpu(pid: int) -> float:
    """CPU seconds of pid and its living children: a gunicorn or a Celery worker."""
    return cpu_seconds(process_tree_rss(pid))


def postgres_backends(conn: psycopg.Connection, application_name: str) -> set[int]:
    """The server processes of the connections that named themselves so."""
    return {row[0] for row in conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application_name,))}


def process_tree_pss(pid: int) -> int:
    """Proportional set size of pid and its children, in bytes: shared pages counted
    once across the tree, so the sum is what the whole tree really holds."""
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


# --- results -------------------------------------------------------------------------------

def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def save(name: str, document: dict, markdown: str) -> None:
    """RESULTS/<name>.json, and the markdown printed and appended to RESULTS.md in the
    same folder's parent (bench/RESULTS.md for real runs)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
    with open(RESULTS.parent / "RESULTS.md", "a") as results:
        results.write(markdown)
    print(markdown)


def table(headings: list[str], rows: list[list], align: str | None = None) -> str:
    """A markdown table; align is one character per column, "l" or "r" (default right)."""
    align = align or "l" + "r" * (len(headings) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headings) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
