"""Journey 3: an admin logs in, opens a petition, downloads its counts and its signers."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from petitions.database import utcnow
from tests.browser.support import settle
from tests.factories import ADMIN_PASSWORD, AdminUserFactory, PetitionFactory, SignatureFactory


def downloaded_rows(page, press) -> tuple[str, list[dict]]:
    """Press something that downloads a CSV; (its file name, its rows as dicts)."""
    with page.expect_download() as info:
        press()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    return download.suggested_filename, list(csv.DictReader(io.StringIO(text)))


def test_admin_downloads_the_counts_and_the_signer_list_of_a_petition(page, expect):
    AdminUserFactory(email="editor@example.org")
    petition = PetitionFactory(slug="bike-lanes", title="Protected bike lanes", goal=500)
    PetitionFactory(slug="other-petition", title="Another petition")
    start = utcnow() - timedelta(hours=3)
    signers = [  # (name, country, postcode, comment, wants updates)
        ("Ada Lovelace", "GB", "SW1A 1AA", "Please act", True),
        ("Grace Hopper", "US", "20004", "=1+2", False),
        ("Jean Tremblay", "CA", "K1A 0B1", None, False),
    ]
    for minutes, (name, country, postcode, comment, updates) in enumerate(signers):
        SignatureFactory(petition=petition, name=name, country=country, postcode=postcode,
                         comment=comment, email_updates=updates, state="confirmed",
                         confirmed_at=start + timedelta(minutes=minutes), counted=True)
    SignatureFactory(petition=petition, name="Not Yet", state="pending")
    settle()

    page.goto("/admin/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Admin log in")
    page.get_by_label("Email address").fill("editor@example.org")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    admin_menu = page.get_by_role("navigation", name="Admin")
    admin_menu.get_by_role("link", name="Petitions", exact=True).click()
    page.get_by_role("link", name="Protected bike lanes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Protected bike lanes")
    expect(page.locator(".facts")).to_contain_text("3 confirmed, 1 pending, 0 invalidated")

    admin_menu.get_by_role("link", name="Exports").click()
    page.get_by_label("Petition", exact=True).select_option("bike-lanes")
    name, counts = downloaded_rows(
        page, page.get_by_role("button", name="Download CSV").click)
    assert name == "signature-counts-by-petition-bike-lanes.csv"
    assert [(r["slug"], r["title"], r["confirmed"], r["pending"], r["invalidated"], r["goal"])
            for r in counts] == [("bike-lanes", "Protected bike lanes", "3", "1", "0", "500")]

    row = page.get_by_role("row").filter(has_text="Protected bike lanes")
    name, rows = downloaded_rows(page, row.get_by_role("link", name="CSV", exact=True).click)
    assert name == "bike-lanes-signatures.csv"
    assert [(r["name"], r["postcode"], r["country"], r["comment"]) for r in rows] == [
        ("Ada Lovelace", "SW1A 1AA", "GB", "Please act"),
        ("Grace Hopper", "20004", "US", "'=1+2"),  # never a formula in a spreadsheet
        ("Jean Tremblay", "K1A 0B1", "CA", ""),
    ]
    # The email only of the signer who agreed to updates.
    assert [r["email"] != "" for r in rows] == [True, False, False]
    assert all(r["time"].startswith(str(start.year)) for r in rows)
