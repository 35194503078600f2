"""Signature counts per petition, per day, per country and per postcode prefix.

No personal data: moderators may download them. Counting is a GROUP BY in the database,
grouped by petition id (no join on the 10-million-row side); petition slugs are joined in
afterwards. The admin download and `flask export counts` both call render_counts(), so
they give the same bytes for the same arguments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import func, literal_column, select

from petitions.admin.csv_safety import csv_line, neutralise
from petitions.extensions import db
from petitions.signing.models import Petition, Signature, SignatureState

COUNT_KINDS = ("petition", "day", "country", "postcode")
FORMATS = ("csv", "json")
MIMETYPES = {"csv": "text/csv", "json": "application/json"}

COLUMNS = {
    "petition": ("slug", "title", "confirmed", "pending", "invalidated", "goal", "state",
                 "created", "closes"),
    "day": ("slug", "date", "confirmed"),
    "country": ("slug", "country", "confirmed"),
    "postcode": ("slug", "prefix", "confirmed"),
}

Row = tuple[str | int | None, ...]


def iso_utc(moment: datetime | None) -> str | None:
    """2026-05-01T09:30:00Z: to the second, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _utc_date(column):
    if db.engine.dialect.name == "postgresql":
        # timezone('UTC', timestamptz) is the UTC wall-clock time, whatever the session's zone.
        # 'UTC' is written into the SQL, not bound, so that expression statistics on exactly
        # date(timezone('UTC', confirmed_at)) can match (see bench/RESULTS.md).
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.date(column)  # SQLite keeps UTC text


def postcode_prefix(column):
    """The first three characters, upper-cased, spaces removed: "sw1a 1aa" -> "SW1",
    "20004" -> "200". It stands in for the outward part of any country's postcode."""
    return func.upper(func.substr(func.replace(column, " ", ""), 1, 3))


def _petitions(petition: Petition | None):
    """The petitions' own columns, by slug: (id, slug, title, goal, state, created_at, closes_at)."""
    query = select(Petition.id, Petition.slug, Petition.title, Petition.goal, Petition.state,
                   Petition.created_at, Petition.closes_at).order_by(Petition.slug)
    if petition is not None:
        query = query.where(Petition.id == petition.id)
    return db.session.execute(query).all()


def _scoped(query, petition: Petition | None):
    return query if petition is None else query.where(Signature.petition_id == petition.id)


def _by_petition(petition: Petition | None) -> list[Row]:
    per_state = _scoped(
        select(Signature.petition_id, Signature.state, func.count())
        .where(Signature.flagged.is_(False))
        .group_by(Signature.petition_id, Signature.state),
        petition,
    )
    counts: dict[tuple[int, str], int] = {
        (petition_id, state): n for petition_id, state, n in db.session.execute(per_state)
    }
    return [
        (p.slug, p.title,
         counts.get((p.id, SignatureState.CONFIRMED.value), 0),
         counts.get((p.id, SignatureState.PENDING.value), 0),
         counts.get((p.id, SignatureState.INVALIDATED.value), 0),
         p.goal, p.state, iso_utc(p.created_at), iso_utc(p.closes_at))
        for p in _petitions(petition)
    ]


def _confirmed_by(key_of: Callable) -> Callable[[Petition | None], list[Row]]:
    """Confirmed signatures per petition and per key_of(Signature) value."""

    def count(petition: Petition | None) -> list[Row]:
        slugs = {p.id: p.slug for p in _petitions(petition)}
        key = key_of(Signature).label("key")
        query = _scoped(
            select(Signature.petition_id, key, func.count())
            .where(Signature.state == SignatureState.CONFIRMED, Signature.flagged.is_(False))
            .group_by(Signature.petition_id, key),
            petition,
        )
        # A petition created between the two queries is left for the next export.
        rows = [(slugs[petition_id], _text(value), n)
                for petition_id, value, n in db.session.execute(query) if petition_id in slugs]
        return sorted(rows, key=lambda row: (row[0], row[1]))

    return count


def _text(value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


QUERIES: dict[str, Callable[[Petition | None], list[Row]]] = {
    "petition": _by_petition,
    "day": _confirmed_by(lambda s: _utc_date(s.confirmed_at)),
    "country": _confirmed_by(lambda s: s.country),
    "postcode": _confirmed_by(lambda s: postcode_prefix(s.postcode)),
}


def count_rows(by: str, petition: Petition | None = None) -> list[Row]:
    return QUERIES[by](petition)


def render_counts(by: str, fmt: str, petition: Petition | None = None) -> str:
    """The whole export as text: CSV (formula-safe cells, "\\n" line ends) or JSON."""
    columns = COLUMNS[by]
    rows = count_rows(by, petition)
    if fmt == "json":
        document = {
            "by": by,
            "petition": petition.slug if petition is not None else None,
            "counts": [dict(zip(columns, row, strict=True)) for row in rows],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    lines = [csv_line(columns)]
    lines += [csv_line(_csv_cell(value) for value in row) for row in rows]
    return "".join(lines)


def _csv_cell(value: str | int | None) -> str:
    return str(value) if isinstance(value, int) else neutralise(value)


def filename(by: str, fmt: str, petition: Petition | None = None) -> str:
    scope = f"-{petition.slug}" if petition is not None else ""
    return safe_filename(f"signature-counts-by-{by}{scope}.{fmt}")


def safe_filename(name: str) -> str:
    """Fit for a quoted Content-Disposition filename, whatever the slug holds."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
