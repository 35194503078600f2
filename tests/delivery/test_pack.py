"""What the pack holds: exactly the confirmed, still-valid signers up to the cutoff, and of
each exactly the fields the privacy page lists; the CSV's bytes; the PDF's pages."""

from __future__ import annotations

import html
import io
import zipfile
from datetime import timedelta

import pytest
from markupsafe import Markup

from petitions.database import utcnow
from petitions.delivery import pack, pdf
from petitions.delivery.pack import Signer, count_signers, csv_attachment, csv_chunks, postcode_area
from petitions.extensions import db
from tests.delivery.helpers import confirmed, mixed_signers
from tests.factories import PetitionFactory

EXPECTED_CSV = (
    "\ufeffname,postcode area,country,comment\n"
    "Zoë Ångström-Núñez,200xx,United States,\"Ça suffit, « enfin ».\"\n"
    "\"'=HYPERLINK(\"\"http://evil.example\"\")\",SW1A,United Kingdom,"
    "\"'+1 from London, \"\"quoted\"\"\"\n"
    "'@mention Smith,K1A,Canada,\"'-minus\nand a second line\"\n"
    "李小龍,101xx,Germany,\"'\tTabbed\rreturn\"\n"
).encode("utf-8")


@pytest.mark.parametrize(("postcode", "area"), [
    ("20004", "200xx"),
    ("20004-1234", "200xx"),
    ("SW1A 1AA", "SW1A"),
    ("sw1a  1aa", "SW1A"),
    ("K1A 0B1", "K1A"),
    ("1234 AB", "1234"),
    ("10115", "101xx"),
    ("00-950", "00"),
    ("", ""),
])
def test_postcode_area_keeps_only_the_part_the_privacy_page_names(postcode, area):
    assert postcode_area(postcode) == area


def test_csv_is_exact_utf8_with_formula_cells_neutralised_and_only_the_pack_signers(app):
    petition = PetitionFactory()
    mixed_signers(petition)

    assert b"".join(csv_chunks(petition.id, utcnow())) == EXPECTED_CSV
    assert count_signers(petition.id, utcnow()) == 4


def test_csv_leaves_out_signatures_confirmed_after_the_cutoff_and_other_petitions(app):
    petition = PetitionFactory()
    confirmed(petition, 30, name="Before Cutoff", postcode="20004", country="US")
    confirmed(petition, 10, name="After Cutoff", postcode="20004", country="US")
    confirmed(PetitionFactory(), 30, name="Other Petition", postcode="20004", country="US")
    cutoff = utcnow() - timedelta(minutes=20)

    assert b"".join(csv_chunks(petition.id, cutoff)).decode("utf-8-sig") == (
        "name,postcode area,country,comment\nBefore Cutoff,200xx,United States,\n")
    assert count_signers(petition.id, cutoff) == 1


def test_a_signature_invalidated_after_the_cutoff_leaves_the_pack(app):
    petition = PetitionFactory()
    cutoff = utcnow()
    signature = confirmed(petition, 30, name="Later Found Fake")
    signature.state, signature.invalidated_at = "invalidated", utcnow()
    db.session.commit()

    assert count_signers(petition.id, cutoff) == 0
    assert b"Later Found Fake" not in b"".join(csv_chunks(petition.id, cutoff))


def test_csv_pages_and_chunks_join_to_the_same_bytes(app, monkeypatch):
    petition = PetitionFactory()
    mixed_signers(petition)
    monkeypatch.setattr(pack, "PAGE_ROWS", 1)
    monkeypatch.setattr(pack, "CHUNK_BYTES", 10)

    chunks = list(csv_chunks(petition.id, utcnow()))

    assert len(chunks) == 4  # one chunk per signer, each read as a page of its own
    assert b"".join(chunks) == EXPECTED_CSV


def test_the_attachment_is_the_csv_or_a_zip_of_it_when_large(app, monkeypatch):
    petition = PetitionFactory(slug="free-transit")
    mixed_signers(petition)

    small = csv_attachment(petition, utcnow())
    assert (small.filename, small.content_type, small.data) == (
        "free-transit-signatures.csv", "text/csv; charset=utf-8", EXPECTED_CSV)

    monkeypatch.setattr(pack, "ZIP_ATTACHMENT_ABOVE", 100)
    large = csv_attachment(petition, utcnow())
    assert (large.filename, large.content_type) == ("free-transit-signatures.zip",
                                                    "application/zip")
    with zipfile.ZipFile(io.BytesIO(large.data)) as archive:
        assert archive.namelist() == ["free-transit-signatures.csv"]
        assert archive.read("free-transit-signatures.csv") == EXPECTED_CSV


def _signer(name: str) -> Signer:
    return Signer(name, "200xx", "United States", None)


def test_sheets_fill_columns_by_lines_in_order_and_long_entries_count_for_more(monkeypatch):
    monkeypatch.setattr(pdf, "FIRST_SHEET_LINES", 2)
    monkeypatch.setattr(pdf, "LINES_PER_COLUMN", 3)
    long_name = "A" * (pdf.CHARS_PER_LINE + 1)  # two lines
    entries = [_signer(f"S{i}") for i in range(4)] + [_signer(long_name)] + \
        [_signer(f"T{i}") for i in range(8)]

    sheets = pdf.sheets(entries)

    names = [[[s.name for s in column] for column in sheet] for sheet in sheets]
    assert names == [
        [["S0", "S1"], ["S2", "S3"], [long_name]],
        [["T0", "T1", "T2"], ["T3", "T4", "T5"], ["T6", "T7"]],
    ]
    assert [s for sheet in sheets for column in sheet for s in column] == entries


def test_pdf_holds_the_petition_and_each_signer_with_region_and_comment_and_nothing_else(
        app, pdf_text):
    petition = PetitionFactory(title="Fund the Anacostia Library",
                               target="Mayor of the District of Columbia",
                               body="We ask the **Council** to act.")
    people = mixed_signers(petition)

    text = pdf_text(pdf.render_pack_pdf(petition, utcnow()))

    assert "Fund the Anacostia Library" in text
    assert "To: Mayor of the District of Columbia" in text
    assert "We ask the Council to act." in text
    assert "4 signatures" in text
    assert "Zoë Ångström-Núñez — 200xx, United States" in text
    assert "李小龍 — 101xx, Germany" in text
    assert "@mention Smith — K1A, Canada" in text
    assert "Ça suffit, « enfin »." in text
    assert "Pending Person" not in text and "Invalid Person" not in text
    for person in people:
        assert person.email not in text
    assert "20004" not in text and "SW1A 1AA" not in text and "127.0.0.1" not in text


def test_pdf_of_a_long_list_has_every_name_on_pages_of_three_columns(app, pdf_text):
    petition = PetitionFactory(title="Many signers")
    for i in range(600):
        confirmed(petition, 100 - i / 10, name=f"Person {i:04d}", postcode="20004", country="US")

    text = pdf_text(pdf.render_pack_pdf(petition, utcnow()))

    assert all(f"Person {i:04d} — 200xx, United States" in text for i in range(600))
    assert "600 signatures" in text
    # The front page, then sheets of 3 × 62 and 3 × 70 lines: 186 + 210 + 204.
    assert text.count("\f") == 4


def test_pdf_fetches_nothing_even_if_the_text_named_a_file(app, monkeypatch, pdf_text):
    petition = PetitionFactory()
    confirmed(petition, name="Someone")
    refused = []

    def refuse(fetcher, url, headers=None):
        refused.append(url)
        return original(fetcher, url, headers)

    original = pdf.fetch_nothing_class().fetch
    monkeypatch.setattr(pdf.fetch_nothing_class(), "fetch", refuse)
    monkeypatch.setattr(pdf, "render_markdown", lambda source: Markup(
        '<p>Text</p><img src="file:///etc/hostname"><link rel="stylesheet" href="http://x.test/a.css">'))

    text = pdf_text(pdf.render_pack_pdf(petition, utcnow()))

    assert "Someone" in text
    assert sorted(refused) == ["file:///etc/hostname", "http://x.test/a.css"]


def test_the_privacy_page_names_exactly_what_the_pack_carries(app, client):
    page = html.unescape(client.get("/privacy").get_data(as_text=True))

    assert pack.CSV_COLUMNS == ("name", "postcode area", "country", "comment")
    assert "What we deliver to the petition's target" in page
    for item in ("your name, as you typed it;", "your country;",
                 "your comment, if you wrote one.",
                 "the part before the space (SW1A 1AA becomes SW1A)",
                 "the ZIP code 20004 becomes 200xx"):
        assert item in page
    assert "We never give the target your email address, your full postcode" in page
    assert "works for 90 days" in page
    assert "write to petitions@petitions.test" in page
    assert "we delete it after 7 days" in page
