"""What the browser tests do besides driving the page: the worker's jobs, run in-process,
and reading the database without holding it.

The test thread shares the app's database with the live server's threads. On SQLite
every transaction begins IMMEDIATE (petitions.database.tune_sqlite), so a transaction
left open by the test (even one that only read an expired attribute) would hold the
write lock and stall every request of the browser. Each helper here ends its
transaction before returning; tests call `settle()` after their factories.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.signing.counting import fold_confirmed_signatures
from petitions.signing.models import Petition, Signature

if TYPE_CHECKING:  # Playwright is imported by the `browser` fixture, which skips without it
    from playwright.sync_api import Page

SIGNER = {"name": "Jane Doe", "email": "jane@example.org", "postcode": "20004"}


def settle() -> None:
    """End the test thread's transaction, so the server's requests never wait on it."""
    db.session.commit()


def deliver_mail() -> int:
    """What a worker does when a request nudges it: send every due outbox row over SMTP,
    to the test SMTP sink, whose folder /dev/mail shows."""
    try:
        return deliver_due()["sent"]
    finally:
        settle()


def fold_counts() -> int:
    """What beat does every COUNT_REFRESH_SECONDS: add confirmed signatures to the counts."""
    try:
        return fold_confirmed_signatures()
    finally:
        settle()


def signature_states(slug: str | None = None) -> list[tuple[str, str]]:
    """(email, state) of every signature, oldest first."""
    query = select(Signature.email, Signature.state).order_by(Signature.id)
    if slug is not None:
        query = query.join(Petition).where(Petition.slug == slug)
    try:
        return [tuple(row) for row in db.session.execute(query)]
    finally:
        settle()


def open_mail(page: Page, to: str, subject: str) -> None:
    """Deliver due mail, then open the newest message to `to` whose subject contains
    `subject` from the /dev/mail list, as a developer reading the caught mail would."""
    from playwright.sync_api import expect

    deliver_mail()
    page.goto("/dev/mail")
    row = page.get_by_role("row").filter(has_text=to).filter(has_text=subject).first
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(subject)


def follow_mail_link(page: Page, path: str | re.Pattern) -> None:
    """Open the first link to `path` (like "/confirm/") in the open message's plain-text
    part, as a reader does in their mail client (test_dev_mail.py follows the HTML part's)."""
    link = page.locator("pre.mail-text a").filter(has_text=path).first
    with page.expect_navigation():
        link.click()


def sign_form(page: Page, **overrides: str) -> None:
    """Fill in the signing form on the open petition page (without sending it)."""
    fields = {**SIGNER, **overrides}
    page.get_by_label("Full name").fill(fields["name"])
    page.get_by_label("Email address").fill(fields["email"])
    page.get_by_label("ZIP or postal code").fill(fields["postcode"])
