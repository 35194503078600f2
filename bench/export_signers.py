"""Benchmark: the signer list of one petition against PostgreSQL's own COPY, with its memory.

    .venv/bin/python bench/export_signers.py                  # 100,000 then 1,000,000 rows
    .venv/bin/python bench/export_signers.py --sizes 20000    # a quick look
    .venv/bin/python bench/export_signers.py --keep           # keep (and next time reuse) the data

In a schema of its own (bench_export; `flask db upgrade` builds it) it loads one petition
per size, each with that many confirmed signatures (INSERT ... SELECT generate_series; some
names are unicode, some look like formulas, a third consented to updates). Then, in the
same run and alternating, it times:
  - the ceiling: psql running COPY (the export's own SELECT) TO STDOUT WITH (FORMAT csv)
    into /dev/null;
  - ours: `flask export signatures SLUG > /dev/null`, a whole process (its start-up, about
    a second, is measured apart as `flask export signatures --help`);
  - the admin endpoint, GET /admin/exports/SLUG/signatures.csv read to the end through
    Flask's test client in a process of its own, timed from the request on.
It reports rows/s, ours/COPY (goal >= 0.5) and each process's peak RSS (goal: flat from the
smallest size to the largest), and checks that ours gives COPY's bytes after the header.
Results: bench/results/export_signers.json and a dated table appended to bench/RESULTS.md.
Environment: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402  (bench/harness.py)
    BIN,
    DATABASE_URL,
    OUT,
    ROOT,
    app_env,
    connect,
    drop_schema,
    machine,
    prepare_schema,
    save,
    stamp,
)

SIGNATURE_COLUMNS = (
    "petition_id, name, email, canonical_email, postcode, country, comment, show_name_publicly,"
    " email_updates, subscribe_newsletter, state, counted, ip_address, created_at, confirmed_at,"
    " invalidated_at, invalidation_reason, confirmation_sent_at, confirmation_sends, notices_sent"
)


# --- the data ------------------------------------------------------------------------------

def make_petition(conn, slug: str, signatures: int) -> tuple[int, bool]:
    """(id, empty): a petition that already holds `signatures` signatures (as --keep left
    it) is reused as it is; any other is emptied, to be loaded."""
    row = conn.execute("SELECT id FROM petitions WHERE slug = %s", (slug,)).fetchone()
    if row is None:
        row = conn.execute(
            "INSERT INTO petitions (slug, title, summary, body, target, goal, state,"
            " signature_count, hidden, created_at, updated_at) VALUES (%s, %s,"
            " 'A benchmark petition.', '', 'The Council', 1000000, 'open', 0, false, now(), now())"
            " RETURNING id", (slug, f"Benchmark {slug}")).fetchone()
    petition_id = row[0]
    held = conn.execute("SELECT count(*) FROM signatures WHERE petition_id = %s",
                        (petition_id,)).fetchone()[0]
    if held == signatures:
        return petition_id, False
    conn.execute("DELETE FROM signatures WHERE petition_id = %s", (petition_id,))
    return petition_id, True


def insert_signatures(conn, petition_ids: list[int], first: int, last: int,
                      states: bool = False) -> None:
    """Signatures first..last (numbers, for unique emails), spread over petition_ids in turn.

    With states, 5% are pending and 2% invalidated, the rest confirmed; their confirmation
    times spread over 90 days. Without, all are confirmed, one second apart."""
    state = ("CASE WHEN i %% 20 = 0 THEN 'pending' WHEN i %% 50 = 1 THEN 'invalidated'"
             " ELSE 'confirmed' END") if states else "'confirmed'"
    spacing = "interval '777 milliseconds'" if states else "interval '1 second'"
    conn.execute(f"""
        INSERT INTO signatures ({SIGNATURE_COLUMNS})
        SELECT petition_id, name, email, email, postcode, country, comment, false,
               i %% 3 = 0, false, state, state = 'confirmed', '192.0.2.' || (i %% 250),
               at, CASE WHEN state <> 'pending' THEN at + interval '5 minutes' END,
               CASE WHEN state = 'invalidated' THEN at + interval '1 day' END,
               CASE WHEN state = 'invalidated' THEN 'benchmark' END, at, 1, 0
        FROM (
            SELECT i, (%(ids)s::int[])[1 + i %% cardinality(%(ids)s::int[])] AS petition_id,
                   CASE WHEN i %% 101 = 0 THEN '=HYPERLINK("http://x.example/' || i || '")'
                        WHEN i %% 97 = 0 THEN 'Zoë Ñúñez-Öberg 李小龍 ' || i
                        WHEN i %% 89 = 0 THEN '-' || i
                        ELSE 'Signer number ' || i END AS name,
                   'signer' || i || '@example.org' AS email,
                   (ARRAY['SW1A 1AA', '20004', '10115', '75001', 'm1 1ae', '90210', 'EH1 1YZ',
                          '+44 20'])[1 + i %% 8] AS postcode,
                   (ARRAY['GB', 'US', 'DE', 'FR', 'GB', 'US', 'GB', 'GB'])[1 + i %% 8] AS country,
                   CASE WHEN i %% 10 = 0 THEN 'Because, as they say, "it matters". ' || i END
                       AS comment,
                   {state} AS state,
                   timestamptz '2026-01-01 00:00:00+00' + i * {spacing} AS at
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
        ) AS generated
    """, {"ids": petition_ids, "first": first, "last": last})


def vacuum_analyze(conn) -> None:
    conn.execute("VACUUM ANALYZE signatures")
    conn.execute("VACUUM ANALYZE petitions")


# --- measuring -----------------------------------------------------------------------------

GNU_TIME = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)


def run_process(command: list, env: dict | None = None, stdout=subprocess.DEVNULL) -> dict:
    """Wall time and peak RSS of one process. The RSS comes from GNU time, which starts the
    command from its own small process: a child's peak RSS as wait4() reports it would start
    from this (larger) process's RSS at fork."""
    with tempfile.NamedTemporaryFile("r") as report:
        wrapped = [GNU_TIME, "-o", report.name, "-f", "%M", *command] if GNU_TIME else command
        started = time.perf_counter()
        process = subprocess.run(wrapped, env=env, cwd=ROOT, stdout=stdout,
                                 stderr=subprocess.PIPE)
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            error = process.stderr.decode(errors="replace").strip()[-2000:]
            raise RuntimeError(f"{command[0]} failed ({process.returncode}): {error}")
        kilobytes = int(report.read().split()[-1]) if GNU_TIME else 0
    return {"seconds": seconds, "peak_rss_mb": kilobytes / 1024}


@functools.cache
def copy_sql() -> str:
    """The export's own COPY statement, read in a child so that this process stays small."""
    code = "from petitions.admin.export_signers import COPY_SQL; print(COPY_SQL, end='')"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, text=True,
                          capture_output=True).stdout


def psql_copy(conninfo: str, schema: str, petition_id: int, stdout=subprocess.DEVNULL) -> dict:
    sql = f'SET search_path TO "{schema}"; ' + copy_sql().replace("%s", str(int(petition_id)))
    return run_process(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", conninfo, "-c", sql],
                       stdout=stdout)


ENDPOINT_CHILD = """
import sys, time
from petitions import create_app
from petitions.extensions import db
from petitions.admin.models import AdminUser
app = create_app({"WTF_CSRF_ENABLED": False})
password = "bench-" + "x" * 20
with app.app_context():
    user = db.session.query(AdminUser).filter_by(email="bench@example.org").one_or_none()
    if user is None:
        user = AdminUser(email="bench@example.org", role="admin")
        db.session.add(user)
    user.set_password(password)
    db.session.commit()
client = app.test_client()
login = client.post("/admin/login", data={"email": "bench@example.org", "password": password})
assert login.status_code == 303, login.status_code
started = time.perf_counter()
response = client.get(f"/admin/exports/{sys.argv[1]}/signatures.csv", buffered=False)
assert response.status_code == 200 and response.is_streamed
size = sum(len(chunk) for chunk in response.response)
response.close()
print(time.perf_counter() - started, size)
"""


def endpoint(env: dict, slug: str) -> dict:
    out = ROOT / "bench" / "out" / "endpoint.txt"
    with open(out, "wb") as stdout:
        result = run_process([sys.executable, "-c", ENDPOINT_CHILD, slug], env=env, stdout=stdout)
    seconds, size = out.read_text().split()
    out.unlink()
    return {"seconds": float(seconds), "bytes": int(size), "peak_rss_mb": result["peak_rss_mb"],
            "process_seconds": result["seconds"]}


def sha256_of(path: Path, skip: int = 0) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        file.seek(skip)
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def identical_to_copy(conninfo: str, schema: str, env: dict, slug: str, petition_id: int,
                      rows: int) -> bool:
    """Ours, less its header line, against psql's COPY of the same SELECT, byte for byte;
    and one line per signature (the benchmark's comments hold no line breaks)."""
    folder = OUT / schema
    ours, theirs = folder / "ours.csv", folder / "copy.csv"
    try:
        with open(ours, "wb") as stdout:
            run_process([BIN / "flask", "export", "signatures", slug], env=env, stdout=stdout)
        with open(theirs, "wb") as stdout:
            psql_copy(conninfo, schema, petition_id, stdout=stdout)
        with open(ours, "rb") as file:
            header = len(file.readline())
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
        return lines == rows and sha256_of(ours, skip=header) == sha256_of(theirs)
    finally:
        ours.unlink(missing_ok=True)
        theirs.unlink(missing_ok=True)


def measure_size(args, env: dict, size: int, petition_id: int, slug: str) -> dict:
    startup = [run_process([BIN / "flask", "export", "signatures", "--help"], env=env)["seconds"]
               for _ in range(2)]
    copy_runs, ours_runs, endpoint_runs = [], [], []
    deadline = time.monotonic() + args.budget
    for _ in range(args.repeat):  # alternate, so that drift in the machine hits both alike
        copy_runs.append(psql_copy(args.database, args.schema, petition_id))
        ours_runs.append(run_process([BIN / "flask", "export", "signatures", slug], env=env))
        endpoint_runs.append(endpoint(env, slug))
        if time.monotonic() > deadline:
            break
    copy_s = statistics.median(r["seconds"] for r in copy_runs)
    ours_s = statistics.median(r["seconds"] for r in ours_runs)
    endpoint_s = statistics.median(r["seconds"] for r in endpoint_runs)
    return {
        "rows": size,
        "runs": len(copy_runs),
        "copy_seconds": round(copy_s, 3),
        "ours_seconds": round(ours_s, 3),
        "startup_seconds": round(min(startup), 3),
        "endpoint_seconds": round(endpoint_s, 3),
        "copy_rows_per_s": round(size / copy_s),
        "ours_rows_per_s": round(size / ours_s),
        "endpoint_rows_per_s": round(size / endpoint_s),
        "ratio_ours_to_copy": round(copy_s / ours_s, 3),
        "ratio_endpoint_to_copy": round(copy_s / endpoint_s, 3),
        "ours_peak_rss_mb": round(max(r["peak_rss_mb"] for r in ours_runs), 1),
        "endpoint_peak_rss_mb": round(max(r["peak_rss_mb"] for r in endpoint_runs), 1),
        "psql_peak_rss_mb": round(max(r["peak_rss_mb"] for r in copy_runs), 1),
        "bytes": endpoint_runs[0]["bytes"],
        "identical_to_copy": identical_to_copy(args.database, args.schema, env, slug, petition_id,
                                               size),
    }


# --- results -------------------------------------------------------------------------------

def write_results(rows: list[dict], note: str) -> None:
    when = stamp()
    lines = [
        f"\n## Signer export — {when} — {machine()}{note}\n",
        "Command: `.venv/bin/python bench/export_signers.py` (PostgreSQL; one petition per size, "
        "all signatures confirmed). Ceiling: `psql -c \"COPY (<the export's SELECT>) TO STDOUT "
        "WITH (FORMAT csv)\" > /dev/null`. Ours: `flask export signatures SLUG > /dev/null`, the "
        "whole process, start-up included. Endpoint: GET /admin/exports/SLUG/signatures.csv "
        "through Flask's test client, from the request on. Medians of alternating runs. "
        "Goal: ours/COPY >= 0.5; memory flat.\n",
        "| rows | runs | COPY s | ours s | start-up s | endpoint s | COPY rows/s | ours rows/s | "
        "ours/COPY | endpoint/COPY | ours peak RSS MB | endpoint peak RSS MB | same bytes |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['rows']:,} | {r['runs']} | {r['copy_seconds']} | {r['ours_seconds']} | "
            f"{r['startup_seconds']} | {r['endpoint_seconds']} | {r['copy_rows_per_s']:,} | "
            f"{r['ours_rows_per_s']:,} | {r['ratio_ours_to_copy']} | "
            f"{r['ratio_endpoint_to_copy']} | {r['ours_peak_rss_mb']} | "
            f"{r['endpoint_peak_rss_mb']} | {'yes' if r['identical_to_copy'] else 'NO'} |")
    if len(rows) > 1:
        lines.append(
            f"\nPeak RSS, largest over smallest: CLI "
            f"{rows[-1]['ours_peak_rss_mb'] / rows[0]['ours_peak_rss_mb']:.2f}, endpoint "
            f"{rows[-1]['endpoint_peak_rss_mb'] / rows[0]['endpoint_peak_rss_mb']:.2f}.\n")
    save("export_signers", {"date": when, "machine": machine(), "runs": rows},
         "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--database", default=DATABASE_URL)
    parser.add_argument("--schema", default="bench_export")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size, at most")
    parser.add_argument("--budget", type=float, default=300,
                        help="seconds of timed runs per size, at most (then it stops repeating)")
    parser.add_argument("--keep", action="store_true", help="keep the schema for the next run")
    parser.add_argument("--note", default="", help="appended to the results heading")
    parser.add_argument("--no-save", action="store_true", help="print only; write no results")
    args = parser.parse_args()

    env = app_env(args.database, args.schema)
    rows = []
    try:
        prepare_schema(args.database, args.schema, env)
        with connect(args.database, args.schema) as conn:
            petitions = []
            for size in (int(s) for s in args.sizes.split(",")):
                slug = f"bench-signers-{size}"
                petition_id, empty = make_petition(conn, slug, size)
                if empty:
                    started = time.monotonic()
                    insert_signatures(conn, [petition_id], size * 10, size * 11 - 1)
                    print(f"loaded {size:,} signatures in {time.monotonic() - started:.1f} s")
                petitions.append((size, petition_id, slug))
            vacuum_analyze(conn)
        for size, petition_id, slug in petitions:
            rows.append(measure_size(args, env, size, petition_id, slug))
            print(rows[-1])
    finally:
        if not args.keep:
            drop_schema(args.database, args.schema)
    if not args.no_save:
        write_results(rows, f" {args.note}" if args.note else "")


if __name__ == "__main__":
    main()
