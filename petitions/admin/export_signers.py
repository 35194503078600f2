"""The confirmed signers of one petition as CSV, for delivering the petition to its target.

Columns: name, postcode, country, comment, time (confirmed_at, ISO 8601 UTC, to the
second), email. The email column is always there, so every file has the same shape; its
cell is filled only for signers who agreed to updates (Signature.email_updates) and left
empty for everyone else. Rows are ordered by confirmation time, then id.

The file is produced as a stream of byte chunks with flat memory, never as a whole:
- on PostgreSQL, by COPY (SELECT ...) TO STDOUT WITH (FORMAT csv), read through psycopg,
  with formula neutralising done in the SELECT (csv_safety.sql_cell);
- elsewhere (SQLite), by keyset pages on (confirmed_at, id), one short read each, so a
  long download never holds SQLite's lock, written by csv_safety.csv_line.
Both give the same bytes for the same rows (tested). Every export is audited, and the
entry committed, before the first byte is sent (record_export).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator

from sqlalchemy import select

from petitions.admin import audit
from petitions.admin.csv_safety import csv_line, neutralise, sql_cell
from petitions.admin.export_counts import iso_utc, safe_filename
from petitions.database import keyset_pages
from petitions.extensions import db
from petitions.signing.models import Petition, Signature, SignatureState

COLUMNS = ("name", "postcode", "country", "comment", "time", "email")
BOM = "\ufeff".encode()
PAGE_ROWS = 2000
CHUNK_BYTES = 256 * 1024

# The SELECT behind the PostgreSQL path; bench/export_signers.py times COPY of this very
# query as the ceiling. %s is the petition id, bound client-side by psycopg.
SIGNERS_SQL = (
    f"SELECT {sql_cell('name')}, {sql_cell('postcode')}, {sql_cell('country')},"
    f" {sql_cell('comment')},"
    """ to_char(confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),"""
    f" CASE WHEN email_updates THEN {sql_cell('email')} END"
    " FROM signatures WHERE petition_id = %s AND state = 'confirmed'"
    " AND NOT flagged AND anonymised_at IS NULL"
    " ORDER BY confirmed_at, id"
)
COPY_SQL = f"COPY ({SIGNERS_SQL}) TO STDOUT WITH (FORMAT csv)"


def filename(petition: Petition) -> str:
    return safe_filename(f"{petition.slug}-signatures.csv")


def record_export(petition: Petition, via: str, **detail) -> None:
    """Write "signers_exported" to the audit log and commit it, before any row leaves."""
    if via == "cli":
        detail["os_user"] = _os_user()
    audit.record("signers_exported", petition, slug=petition.slug, via=via, **detail)
    db.session.commit()


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry, as in some containers
        return None


def signer_chunks(petition_id: int, *, bom: bool = False) -> Iterator[bytes]:
    """The CSV file in chunks of about CHUNK_BYTES: optional BOM, header, then rows."""
    yield (BOM if bom else b"") + csv_line(COLUMNS).encode()
    if db.engine.dialect.name == "postgresql":
        yield from _copy_chunks(petition_id)
    else:
        yield from _paged_chunks(petition_id)


def _copy_chunks(petition_id: int) -> Iterator[bytes]:
    # A connection of its own, rolled back when returned to the pool (SET LOCAL goes with
    # it). Leaving early, as when a client goes away, cancels the COPY on the server.
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute("SET LOCAL client_encoding TO 'UTF8'")
            with cursor.copy(COPY_SQL, (petition_id,)) as copy:
                buffer = bytearray()
                for data in copy:
                    buffer += data
                    if len(buffer) >= CHUNK_BYTES:
                        yield bytes(buffer)
                        buffer.clear()
                if buffer:
                    yield bytes(buffer)


def _paged_chunks(petition_id: int) -> Iterator[bytes]:
    query = (
        select(Signature.name, Signature.postcode, Signature.country, Signature.comment,
               Signature.confirmed_at, Signature.email_updates, Signature.email, Signature.id)
        .where(Signature.petition_id == petition_id,
               Signature.state == SignatureState.CONFIRMED, Signature.flagged.is_(False),
               Signature.anonymised_at.is_(None))
    )
    for rows in keyset_pages(query, (Signature.confirmed_at, Signature.id), PAGE_ROWS,
                             _read_briefly):
        yield "".join([signer_line(row) for row in rows]).encode()


def _read_briefly(page) -> list:
    """Each page on a connection of its own, returned at once: a slow download never holds
    a transaction open."""
    with db.engine.connect() as connection:
        return connection.execute(page).all()


def signer_line(row) -> str:
    return csv_line((
        neutralise(row.name),
        neutralise(row.postcode),
        neutralise(row.country),
        neutralise(row.comment),
        iso_utc(row.confirmed_at),
        neutralise(row.email) if row.email_updates else "",
    ))
