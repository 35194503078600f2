"""The delivery pack's contents: who is in it, and what of each signer it carries.

The pack lists every signature that was confirmed at or before its cutoff and is still
confirmed now (so a signature invalidated, or erased, after a delivery also leaves that
delivery's pack when it is rendered again). For each signer it carries exactly what the
privacy page (templates/privacy.html) says is delivered, and nothing else:

- the name, as the signer typed it;
- the postcode area: the part of the postcode before its space (SW1A 1AA -> SW1A),
  or else its first three characters with the rest masked (20004 -> 200xx);
- the country, by name;
- the comment, when they wrote one.

Never the email address, the full postcode, the IP address or the signing time.

The CSV is written in chunks from keyset pages on (confirmed_at, id), so memory stays
flat however long the list. The pages are read in the caller's session: on SQLite, where
every transaction begins IMMEDIATE, a second connection would wait on the session's own
lock.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from petitions.admin.csv_safety import csv_line, neutralise
from petitions.database import keyset_pages
from petitions.extensions import db
from petitions.mail.mime import Attachment
from petitions.signing.forms import country_name
from petitions.signing.models import Petition, Signature, SignatureState

CSV_COLUMNS = ("name", "postcode area", "country", "comment")
# Excel opens a UTF-8 file as UTF-8 only when it starts with a byte-order mark, and a
# target's office most likely opens the list in Excel.
BOM = "\ufeff".encode()
PAGE_ROWS = 2000
CHUNK_BYTES = 256 * 1024
# A larger list is attached zipped: many mail servers refuse messages over 10-25 MB,
# and base64 adds a third. Names and places compress about fourfold.
ZIP_ATTACHMENT_ABOVE = 6 * 1024 * 1024


def postcode_area(postcode: str | None) -> str:
    code = " ".join((postcode or "").upper().split())
    head, space, _ = code.partition(" ")
    if space:
        return head
    head = code.split("-")[0]
    return head[:3] + "x" * max(0, len(head) - 3)


@dataclass(frozen=True)
class Signer:
    name: str
    postcode_area: str
    country: str
    comment: str | None

    @property
    def region(self) -> str:
        return ", ".join(part for part in (self.postcode_area, self.country) if part)

    @property
    def line(self) -> str:
        """One line of the PDF's list: no line breaks inside an entry."""
        return " ".join(f"{self.name} — {self.region}".split())


def _included(petition_id: int, cutoff: datetime):
    return (Signature.petition_id == petition_id,
            Signature.state == SignatureState.CONFIRMED,
            Signature.confirmed_at <= cutoff,
            # Flagged ones were never counted; anonymised ones have nothing left to deliver.
            Signature.flagged.is_(False),
            Signature.anonymised_at.is_(None))


def count_signers(petition_id: int, cutoff: datetime) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Signature).where(*_included(petition_id, cutoff)))


def _pages(petition_id: int, cutoff: datetime) -> Iterator[list]:
    query = (
        select(Signature.name, Signature.postcode, Signature.country, Signature.comment,
               Signature.confirmed_at, Signature.id)
        .where(*_included(petition_id, cutoff))
    )
    yield from keyset_pages(query, (Signature.confirmed_at, Signature.id), PAGE_ROWS,
                            lambda page: db.session.execute(page).all())


def signers(petition_id: int, cutoff: datetime) -> Iterator[Signer]:
    """The pack's signers in the order they confirmed."""
    names: dict[str, str] = {}
    for rows in _pages(petition_id, cutoff):
        for row in rows:
            if row.country not in names:
                names[row.country] = country_name(row.country)
            yield Signer(row.name, postcode_area(row.postcode), names[row.country],
                         row.comment or None)


def csv_chunks(petition_id: int, cutoff: datetime) -> Iterator[bytes]:
    """The list as CSV (BOM, header, rows), in chunks of about CHUNK_BYTES. Cells that a
    spreadsheet would run as a formula are neutralised (petitions.admin.csv_safety)."""
    buffer = bytearray(BOM + csv_line(CSV_COLUMNS).encode())
    for signer in signers(petition_id, cutoff):
        buffer += csv_line((neutralise(signer.name), neutralise(signer.postcode_area),
                            neutralise(signer.country), neutralise(signer.comment))).encode()
        if len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def csv_filename(petition: Petition, extension: str = "csv") -> str:
    return f"{_safe(petition.slug)}-signatures.{extension}"


def pdf_filename(petition: Petition) -> str:
    return f"{_safe(petition.slug)}-petition.pdf"


def _safe(name: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)


def csv_attachment(petition: Petition, cutoff: datetime) -> Attachment:
    """The whole CSV for an email (zipped when large); it must sit in memory to be sent."""
    data = b"".join(csv_chunks(petition.id, cutoff))
    if len(data) <= ZIP_ATTACHMENT_ABOVE:
        return Attachment(csv_filename(petition), "text/csv; charset=utf-8", data)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(csv_filename(petition), data)
    return Attachment(csv_filename(petition, "zip"), "application/zip", packed.getvalue())
