"""flask export counts / flask export signatures: exports on standard output.

They write exactly the bytes of the matching admin download.
"""

from __future__ import annotations

import os
import sys

import click
from flask import Blueprint
from sqlalchemy import select

from petitions.admin import export_counts, export_signers
from petitions.extensions import db
from petitions.signing.models import Petition

bp = Blueprint("export_cli", __name__, cli_group="export")


def _petition(slug: str) -> Petition:
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None:
        raise click.ClickException(f"no petition has the slug {slug!r}")
    return petition


def _write(chunks) -> None:
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
    _write([export_counts.render_counts(by, fmt, petition).encode()])


@bp.cli.command("signatures")
@click.argument("slug")
@click.option("--bom", is_flag=True, help="Start with a byte order mark, for Excel.")
def signatures(slug: str, bom: bool) -> None:
    """The confirmed signers of one petition as CSV on standard output (audited)."""
    petition = _petition(slug)
    petition_id = petition.id
    export_signers.record_export(petition, via="cli", bom=bom)
    _write(export_signers.signer_chunks(petition_id, bom=bom))
