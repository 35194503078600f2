"""/admin/exports: signature counts for moderators and admins, signer lists for admins only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from petitions.admin import export_signers
from petitions.admin.models import AuditEntry
from petitions.extensions import db
from petitions.signing.models import Signature
from tests.factories import PetitionFactory, SignatureFactory

CREATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CLOSES = datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC)
HEADER = "name,postcode,country,comment,time,email\n"


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 5, day, hour, minute, second, 654321, tzinfo=UTC)


def confirmed(petition, name="Signer", when=None, **fields):
    return SignatureFactory(petition=petition, name=name, state="confirmed",
                            confirmed_at=when or at(1), **fields)


def pending(petition, **fields):
    return SignatureFactory(petition=petition, state="pending", **fields)


def invalidated(petition, when=None, **fields):
    return SignatureFactory(petition=petition, state="invalidated", confirmed_at=when or at(1),
                            invalidated_at=at(20), invalidation_reason="fraud", **fields)


def petition(slug, **fields):
    fields = {"title": slug.replace("-", " ").title(), "created_at": CREATED,
              "closes_at": CLOSES, **fields}
    return PetitionFactory(slug=slug, **fields)


def audit_entries() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


@pytest.fixture
def two_petitions():
    """Signatures in every state, over two UTC days, three countries and three prefixes."""
    buses = petition("free-buses", goal=500)
    parks = petition("=parks", title="-More parks", goal=100, state="closed", closes_at=None)
    petition("zero-signatures", state="draft", goal=10)
    confirmed(buses, when=at(1, 0, 0, 0), country="GB", postcode="sw1a 1aa")
    confirmed(buses, when=at(1, 23, 59, 59), country="GB", postcode="SW1A 2AA")
    confirmed(buses, when=at(2, 0, 0, 1), country="US", postcode="20004")
    confirmed(buses, when=at(2, 8), country="US", postcode="200 05")
    confirmed(buses, when=at(2, 9), country="DE", postcode="10115")
    pending(buses, country="FR", postcode="75001")
    pending(buses, country="FR", postcode="75002")
    invalidated(buses, country="US", postcode="20004")
    confirmed(parks, when=at(3), country="US", postcode="90210")
    invalidated(parks, when=at(3), country="US", postcode="90210")
    invalidated(parks, when=None, country="US", postcode="90210")
    return buses, parks


# --- counts ---------------------------------------------------------------------------

def test_counts_by_petition_as_csv(admin_client, two_petitions):
    response = admin_client.get("/admin/exports/counts.csv?by=petition")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="signature-counts-by-petition.csv"')
    assert response.get_data(as_text=True) == (
        "slug,title,confirmed,pending,invalidated,goal,state,created,closes\n"
        "'=parks,'-More parks,1,0,2,100,closed,2026-03-01T12:00:00Z,\n"
        "free-buses,Free Buses,5,2,1,500,open,2026-03-01T12:00:00Z,2026-09-30T23:59:59Z\n"
        "zero-signatures,Zero Signatures,0,0,0,10,draft,2026-03-01T12:00:00Z,2026-09-30T23:59:59Z\n"
    )


def test_counts_by_petition_as_json(admin_client, two_petitions):
    response = admin_client.get("/admin/exports/counts.json")

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == {"by": "petition", "petition": None, "counts": [
        {"slug": "=parks", "title": "-More parks", "confirmed": 1, "pending": 0,
         "invalidated": 2, "goal": 100, "state": "closed", "created": "2026-03-01T12:00:00Z",
         "closes": None},
        {"slug": "free-buses", "title": "Free Buses", "confirmed": 5, "pending": 2,
         "invalidated": 1, "goal": 500, "state": "open", "created": "2026-03-01T12:00:00Z",
         "closes": "2026-09-30T23:59:59Z"},
        {"slug": "zero-signatures", "title": "Zero Signatures", "confirmed": 0, "pending": 0,
         "invalidated": 0, "goal": 10, "state": "draft", "created": "2026-03-01T12:00:00Z",
         "closes": "2026-09-30T23:59:59Z"},
    ]}


def test_counts_by_day_use_the_utc_date_of_confirmation(admin_client, two_petitions):
    body = admin_client.get("/admin/exports/counts.csv?by=day").get_data(as_text=True)
    assert body == (
        "slug,date,confirmed\n"
        "'=parks,2026-05-03,1\n"
        "free-buses,2026-05-01,2\n"
        "free-buses,2026-05-02,3\n"
    )


def test_counts_by_country(admin_client, two_petitions):
    body = admin_client.get("/admin/exports/counts.csv?by=country").get_data(as_text=True)
    assert body == (
        "slug,country,confirmed\n"
        "'=parks,US,1\n"
        "free-buses,DE,1\n"
        "free-buses,GB,2\n"
        "free-buses,US,2\n"
    )


def test_counts_by_postcode_prefix_upper_case_without_spaces(admin_client, two_petitions):
    body = admin_client.get("/admin/exports/counts.csv?by=postcode").get_data(as_text=True)
    assert body == (
        "slug,prefix,confirmed\n"
        "'=parks,902,1\n"
        "free-buses,101,1\n"
        "free-buses,200,2\n"
        "free-buses,SW1,2\n"
    )


@pytest.mark.parametrize("by, expected", [
    ("petition", [{"slug": "free-buses", "title": "Free Buses", "confirmed": 5, "pending": 2,
                   "invalidated": 1, "goal": 500, "state": "open",
                   "created": "2026-03-01T12:00:00Z", "closes": "2026-09-30T23:59:59Z"}]),
    ("day", [{"slug": "free-buses", "date": "2026-05-01", "confirmed": 2},
             {"slug": "free-buses", "date": "2026-05-02", "confirmed": 3}]),
    ("country", [{"slug": "free-buses", "country": "DE", "confirmed": 1},
                 {"slug": "free-buses", "country": "GB", "confirmed": 2},
                 {"slug": "free-buses", "country": "US", "confirmed": 2}]),
    ("postcode", [{"slug": "free-buses", "prefix": "101", "confirmed": 1},
                  {"slug": "free-buses", "prefix": "200", "confirmed": 2},
                  {"slug": "free-buses", "prefix": "SW1", "confirmed": 2}]),
])
def test_counts_for_one_petition(admin_client, two_petitions, by, expected):
    response = admin_client.get(f"/admin/exports/counts.json?by={by}&petition=free-buses")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="signature-counts-by-{by}-free-buses.json"')
    assert response.get_json() == {"by": by, "petition": "free-buses", "counts": expected}


def test_an_invalidation_moves_a_signature_between_count_columns(admin_client, two_petitions):
    buses, _ = two_petitions
    first = db.session.scalars(
        select(Signature).where(Signature.petition_id == buses.id, Signature.state == "confirmed")
        .order_by(Signature.id)).first()
    first.state, first.invalidated_at = "invalidated", at(21)
    db.session.commit()

    counts = admin_client.get("/admin/exports/counts.json?petition=free-buses").get_json()
    assert (counts["counts"][0]["confirmed"], counts["counts"][0]["invalidated"]) == (4, 2)


def test_an_unknown_grouping_is_a_clear_400(admin_client):
    response = admin_client.get("/admin/exports/counts.csv?by=weekday")
    assert response.status_code == 400
    assert "grouped by petition, day, country or postcode" in response.get_data(as_text=True)

    as_json = admin_client.get("/admin/exports/counts.json?by=weekday")
    assert as_json.status_code == 400
    assert as_json.get_json()["error"] == "Unknown grouping"


def test_an_unknown_petition_is_a_clear_404(admin_client):
    response = admin_client.get("/admin/exports/counts.json?petition=no-such-petition")
    assert response.status_code == 404
    assert response.get_json()["detail"] == (
        "No petition has the address “no-such-petition”. Check the spelling.")
    assert admin_client.get("/admin/exports/counts.csv?petition=" + "x" * 5000).status_code == 404


def test_an_unknown_format_is_not_found(admin_client):
    assert admin_client.get("/admin/exports/counts.xlsx").status_code == 404


def test_moderators_can_download_counts_but_see_no_signer_lists(moderator_client, two_petitions):
    assert moderator_client.get("/admin/exports/counts.csv?by=country").status_code == 200
    assert moderator_client.get("/admin/exports/counts.json?by=day").status_code == 200
    page = moderator_client.get("/admin/exports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'action="/admin/exports/counts.csv"' in html
    assert "/signatures.csv" not in html


def test_the_exports_page_links_every_signer_list_for_admins(admin_client, two_petitions):
    html = admin_client.get("/admin/exports/").get_data(as_text=True)
    assert 'href="/admin/exports/free-buses/signatures.csv"' in html
    assert 'href="/admin/exports/free-buses/signatures.csv?bom=1"' in html
    assert 'href="/admin/exports/=parks/signatures.csv"' in html


def test_exports_are_only_read_never_posted(admin_client):
    response = admin_client.post("/admin/exports/counts.csv", data={"csrf_token": admin_client.csrf})
    assert response.status_code == 405


def test_anonymous_visitors_are_sent_to_log_in(client, two_petitions):
    for url in ("/admin/exports/", "/admin/exports/counts.csv",
                "/admin/exports/free-buses/signatures.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert audit_entries() == []


# --- signer lists ------------------------------------------------------------------------

@pytest.fixture
def signers():
    """Confirmed signers (unicode, commas, quotes, line breaks, ties on confirmed_at),
    plus pending and invalidated ones who must not appear."""
    target = petition("clean-air")
    other = petition("other")
    confirmed(target, "Zoë Ñúñez-Öberg", at(2), postcode="SW1A 1AA", country="GB",
              comment='She said "yes", twice', email="zoe@example.org", email_updates=True)
    confirmed(target, "李小龍 🐉", at(1), postcode="100-0001", country="JP",
              comment="line one\nline two", email="lee@example.org", email_updates=False)
    confirmed(target, "Tie B", at(3), email="tie-b@example.org", email_updates=True)
    confirmed(target, "Tie A", at(3), comment="", email="tie-a@example.org")
    pending(target, name="Pending Person")
    invalidated(target, name="Invalid Person", email_updates=True)
    confirmed(target, "Flagged Bot", at(2), flagged=True, flag_reason="rate_limit")
    confirmed(target, "", at(2), email="", anonymised_at=at(4))
    confirmed(other, "Someone Else", at(1))
    return target


SIGNERS_CSV = (
    HEADER
    + '李小龍 🐉,100-0001,JP,"line one\nline two",2026-05-01T12:00:00Z,\n'
    + 'Zoë Ñúñez-Öberg,SW1A 1AA,GB,"She said ""yes"", twice",2026-05-02T12:00:00Z,zoe@example.org\n'
    + "Tie B,20004,US,,2026-05-03T12:00:00Z,tie-b@example.org\n"
    + "Tie A,20004,US,,2026-05-03T12:00:00Z,\n"
)


def test_the_signer_list_is_exact_unicode_ordered_and_consent_dependent(admin_client, signers):
    response = admin_client.get("/admin/exports/clean-air/signatures.csv")

    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="clean-air-signatures.csv"')
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data() == SIGNERS_CSV.encode("utf-8")


def test_a_bom_is_added_only_when_asked_for(admin_client, signers):
    with_bom = admin_client.get("/admin/exports/clean-air/signatures.csv?bom=1").get_data()
    without = admin_client.get("/admin/exports/clean-air/signatures.csv?bom=0").get_data()
    assert with_bom == b"\xef\xbb\xbf" + SIGNERS_CSV.encode()
    assert without == SIGNERS_CSV.encode()
    assert with_bom.decode("utf-8-sig") == SIGNERS_CSV


def test_an_unknown_bom_value_is_a_clear_400(admin_client, signers):
    response = admin_client.get("/admin/exports/clean-air/signatures.csv?bom=maybe")
    assert response.status_code == 400
    assert "Use bom=1 for Excel" in response.get_data(as_text=True)
    assert [e.action for e in audit_entries()] == ["login"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_text_cell_is_safe_from_formula_injection(admin_client, start):
    target = petition("injection")
    confirmed(target, f"{start}cmd|' /C calc'!A0", at(1), postcode=f"{start}1 2AB",
              country=f"{start}X", comment=f"{start}HYPERLINK(\"http://x\")",
              email=f"{start}evil@example.org", email_updates=True)
    body = admin_client.get("/admin/exports/injection/signatures.csv").get_data(as_text=True)

    def quoted(cell):  # a carriage return anywhere makes a cell quoted, as COPY does
        return f'"{cell}"' if "\r" in cell else cell

    comment = f"'{start}HYPERLINK(\"\"http://x\"\")"
    cells = [quoted(f"'{start}cmd|' /C calc'!A0"), quoted(f"'{start}1 2AB"), quoted(f"'{start}X"),
             f'"{comment}"', "2026-05-01T12:00:00Z", quoted(f"'{start}evil@example.org")]
    assert body == HEADER + ",".join(cells) + "\n"


def test_moderators_may_not_download_signer_lists(moderator_client, signers):
    response = moderator_client.get("/admin/exports/clean-air/signatures.csv")
    assert response.status_code == 403
    assert "zoe@example.org" not in response.get_data(as_text=True)
    assert audit_entries()[-1].action == "login"


def test_an_unknown_petition_has_no_signer_list(admin_client):
    response = admin_client.get("/admin/exports/no-such-petition/signatures.csv")
    assert response.status_code == 404
    assert "No petition has the address" in response.get_data(as_text=True)
    assert [e.action for e in audit_entries()] == ["login"]


def test_every_signer_download_is_audited_before_the_first_byte(admin_client, signers):
    petition_id, email = signers.id, admin_client.account.email
    db.session.rollback()  # SQLite: hold no lock while the export reads

    response = admin_client.get("/admin/exports/clean-air/signatures.csv?bom=1", buffered=False)

    # Read the log on a connection of its own: the entry is committed, not just flushed.
    with db.engine.connect() as connection:
        logged = connection.execute(
            select(AuditEntry.action, AuditEntry.actor_email, AuditEntry.target_type,
                   AuditEntry.target_id, AuditEntry.detail).order_by(AuditEntry.id)).all()
    assert logged[-1] == ("signers_exported", email, "petitions", str(petition_id),
                          {"slug": "clean-air", "via": "admin", "bom": True})
    assert response.get_data().endswith(b"Tie A,20004,US,,2026-05-03T12:00:00Z,\n")
    response.close()

    admin_client.get("/admin/exports/clean-air/signatures.csv").get_data()
    exports = [e for e in audit_entries() if e.action == "signers_exported"]
    assert [e.detail["bom"] for e in exports] == [True, False]


def test_a_petition_without_signers_gives_just_the_header(admin_client):
    petition("empty")
    assert admin_client.get("/admin/exports/empty/signatures.csv").get_data(as_text=True) == HEADER


def test_pages_join_up_across_ties_in_confirmation_time(app, signers, monkeypatch):
    petition_id = signers.id
    db.session.rollback()  # SQLite: hold no lock while the export reads
    one_page = b"".join(export_signers._paged_chunks(petition_id))
    monkeypatch.setattr(export_signers, "PAGE_ROWS", 1)
    chunks = list(export_signers._paged_chunks(petition_id))
    assert len(chunks) == 4
    assert b"".join(chunks) == one_page == SIGNERS_CSV[len(HEADER):].encode()


def test_postgresql_copy_gives_the_same_bytes_as_the_paged_writer(app, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    target = petition("same-bytes")
    awkward = ["=1+1", "+44", "-5", "@SUM(A1)", "\tTab", "\rReturn", "", "plain", 'q"q',
               "a,b", "l1\nl2", "l1\r\nl2", "Zoë 李 🐉", " lead", "'quoted", "\\.", "NULL"]
    for n, text in enumerate(awkward):
        confirmed(target, text, at(1 + n % 3), postcode=text[:12], country=(text + "ZZ")[:2],
                  comment=text or None, email=f"{text}{n}@example.org",
                  email_updates=n % 2 == 0)
    monkeypatch.setattr(export_signers, "PAGE_ROWS", 4)
    monkeypatch.setattr(export_signers, "CHUNK_BYTES", 10)
    petition_id = target.id

    copied = b"".join(export_signers._copy_chunks(petition_id))
    paged = b"".join(export_signers._paged_chunks(petition_id))
    assert copied == paged
    assert copied.count(b"\n") >= len(awkward)


def test_counts_json_is_valid_json_with_unicode_kept(admin_client):
    petition("unicode", title="Ciudad más limpia ✓")
    body = admin_client.get("/admin/exports/counts.json?petition=unicode").get_data(as_text=True)
    assert '"title": "Ciudad más limpia ✓"' in body
    assert json.loads(body)["counts"][0]["title"] == "Ciudad más limpia ✓"
