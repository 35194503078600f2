"""flask export counts / flask export signatures: exports on standard output.

They write exactly the bytes of the matching admin download; progress and the closing
summary go to standard error (petitions/cli_progress.py).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator

import click
from flask import Blueprint
from sqlalchemy import func, select

from petitions.admin import export_counts, export_signers
from petitions.cli_progress import Progress, counted, elapsed, is_terminal, summarise
from petitions.extensions import db
from petitions.signing.models import Petition, Signature, SignatureState

bp = Blueprint("export_cli", __name__, cli_group="export")


def _petition(slug: str) -> Petition:
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None:
        raise click.ClickException(f"no petition has the slug {slug!r}")
    return petition


def _write(chunks: Iterable[bytes]) -> None:
    sys.stdout.flush()
    out = sys.stdout.buffer
    try:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


@bp.cli.command("counts")
@click.option("--format", "fmt", type=click.Choice(export_counts.FORMATS), default="csv",
              show_default=True)
@click.option("--by", type=click.Choice(export_counts.COUNT_KINDS), default="petition",
              show_default=True, help="Per petition, per day, per country or per postcode prefix.")
@click.option("--petition", "slug", metavar="SLUG", help="Only this petition.")
def counts(fmt: str, by: str, slug: str | None) -> None:
    """Signature counts (no personal data) as CSV or JSON on standard output."""
    petition = _petition(slug) if slug else None
    text = export_counts.render_counts(by, fmt, petition)
    _write([text.encode()])
    scope = f" for {slug}" if slug else ""
    # No timing: one GROUP BY, and the same arguments give the same summary.
    summarise(f"Exported signature counts by {by}{scope}: "
              f"{counted(_count_rows(text, fmt), 'row')} of {fmt.upper()}")


def _count_rows(text: str, fmt: str) -> int:
    """Rows in a rendered counts export (small: one per petition, day, country or prefix)."""
    if fmt == "json":
        return len(json.loads(text)["counts"])
    return max(sum(1 for _ in csv.reader(io.StringIO(text))) - 1, 0)  # less the header


@bp.cli.command("signatures")
@click.argument("slug")
@click.option("--bom", is_flag=True, help="Start with a byte order mark, for Excel.")
def signatures(slug: str, bom: bool) -> None:
    """The confirmed signers of one petition as CSV on standard output (audited)."""
    started = time.monotonic()
    petition = _petition(slug)
    petition_id = petition.id
    export_signers.record_export(petition, via="cli", bom=bom)
    rows = CsvRecords()
    # On a terminal that shows the CSV itself, a bar would be drawn into the rows.
    with Progress(f"Exporting {slug}", lambda: _exportable_signatures(petition_id),
                  show=not is_terminal(sys.stdout)) as progress:
        _write(_counting(export_signers.signer_chunks(petition_id, bom=bom), rows, progress))
    exported = max(rows.records - 1, 0)  # less the header
    summarise(f"Exported {counted(exported, 'signature')} of petition {slug} in {elapsed(started)}")


def _exportable_signatures(petition_id: int) -> int:
    """The rows the export will hold, for the bar only: the summary counts the rows written,
    which differ when people confirm meanwhile. Counted only when a bar is drawn, since
    a COUNT costs about a tenth of the export itself (and a pipe shows no bar)."""
    expected = db.session.scalar(
        select(func.count()).select_from(Signature)
        .where(Signature.petition_id == petition_id,
               Signature.state == SignatureState.CONFIRMED, Signature.flagged.is_(False),
               Signature.anonymised_at.is_(None))
    ) or 0
    db.session.rollback()  # hold no read transaction open through a long export
    return expected


def _counting(chunks: Iterable[bytes], rows: CsvRecords, progress: Progress) -> Iterator[bytes]:
    """The chunks, unchanged, counting the CSV records in each once it is written."""
    for chunk in chunks:
        yield chunk
        before = max(rows.records - 1, 0)
        rows.feed(chunk)
        progress.advance(max(rows.records - 1, 0) - before)


class CsvRecords:
    """Counts the records of a CSV byte stream as it passes, chunk by chunk.

    A line feed ends a record only outside quotes: a comment may hold line breaks. Quotes
    toggle "inside", and a doubled quote toggles twice, so splitting a chunk at its quotes
    leaves the quoted text at alternate pieces, whatever the chunk boundaries. Only
    bytes.count, split and join run over the data: about 40 ms per 300,000 rows here, a
    few per cent of the export, for a summary that counts what was really written.
    """

    def __init__(self) -> None:
        self.records = 0
        self._inside_quotes = False

    def feed(self, chunk: bytes) -> None:
        line_feeds = chunk.count(b"\n")
        if b'"' in chunk or self._inside_quotes:
            pieces = chunk.split(b'"')
            quoted = pieces[0::2] if self._inside_quotes else pieces[1::2]
            line_feeds -= b"".join(quoted).count(b"\n")
            if len(pieces) % 2 == 0:  # an odd number of quotes
                self._inside_quotes = not self._inside_quotes
        self.records += line_feeds
