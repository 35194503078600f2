"""The delivery email through the outbox to a real SMTP server: the cover message, the CSV
attached, the PDF link that works (and only while it should), and the public record."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from petitions.database import utcnow
from petitions.delivery import links, service
from petitions.delivery.models import PetitionDelivery
from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.mail.models import OutboxMessage
from tests.delivery.helpers import confirmed
from tests.delivery.test_pack import EXPECTED_CSV

COVER = "Dear Mayor Bowser,\n\nHere is our petition.\nWith thanks,\nThe campaign <team>"
NONCE = "A1b2C3d4E5f6G7h8I9j0K1"
SENT = {"sent": 1, "retry": 0, "failed": 0, "cancelled": 0}


@pytest.fixture
def delivered(petition, make_account):
    delivery, queued = service.email_delivery(petition, COVER, NONCE, make_account("admin"))
    assert queued
    return delivery


def pdf_link(text: str) -> str:
    return re.search(r"http://petitions\.test/deliveries/\S+\.pdf", text).group(0)


def test_the_email_reaches_the_target_with_the_csv_attached_and_a_pdf_link_that_works(
        app, client, mail, petition, delivered, pdf_text):
    # Confirmed after the delivery's cutoff: in neither the CSV nor the PDF.
    confirmed(petition, 0, name="After The Cutoff")

    assert deliver_due() == SENT

    [caught] = mail.messages
    message = caught.message
    assert caught.to == "mayor@dc.example"
    assert caught.subject == "Petition: Fund the library, with 4 signatures"
    assert message["Message-ID"] == f"<delivery.{NONCE}@petitions.test>"
    assert message.get_content_type() == "multipart/mixed"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "library-signatures.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_payload(decode=True) == EXPECTED_CSV

    plain, rich = caught.part("plain").replace("\r\n", "\n"), caught.part("html")
    assert plain.startswith(COVER + "\n")
    assert "4 signatures, confirmed by" in plain
    # The text part is wrapped at 72 columns: compare the words.
    assert ("The same list is attached as a spreadsheet file (library-signatures.csv)."
            in " ".join(plain.split()))
    assert re.search(r"<p[^>]*>Dear Mayor Bowser,</p>", rich)
    assert re.search(r"<p[^>]*>Here is our petition\.<br>With thanks,<br>"
                     r"The campaign &lt;team&gt;</p>", rich)
    link = pdf_link(plain)
    assert html.unescape(pdf_link(rich)) == link

    response = client.get(urlsplit(link).path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    words = pdf_text(response.get_data())
    assert "Fund the library" in words and "Zoë Ångström-Núñez — 200xx, United States" in words
    assert "After The Cutoff" not in words


def test_the_petition_page_says_delivered_once_the_email_is_sent(app, client, petition,
                                                                   delivered, mail):
    assert "Delivered to" not in client.get("/petitions/library").get_data(as_text=True)
    assert service.public_deliveries(petition) == []

    deliver_due()

    page = client.get("/petitions/library").get_data(as_text=True)
    date = delivered.delivered_at.astimezone(ZoneInfo(app.config["SITE_TIMEZONE"])).date()
    expected = f"Delivered to Mayor of DC on {date:%B} {date.day}, {date.year}, with 4 signatures"
    assert expected in page
    assert service.public_deliveries(petition) == [{
        "target": "Mayor of DC",
        "delivered_at": delivered.delivered_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "signature_count": 4}]
    public = client.get("/petitions/library.json").get_json()
    assert public["deliveries"] == service.public_deliveries(petition)
    assert "mayor@" not in client.get("/petitions/library.json").get_data(as_text=True)


def test_a_failed_email_or_a_download_is_not_claimed_in_public(app, client, petition,
                                                                delivered, mail, make_account):
    mail.rules["mayor@"] = "550 5.1.1 No such user"
    service.prepare_download(petition, make_account("admin"))

    assert deliver_due()["failed"] == 1

    assert service.public_deliveries(petition) == []
    assert "Delivered to" not in client.get("/petitions/library").get_data(as_text=True)


def test_a_sent_delivery_stays_public_after_the_outbox_row_is_purged(app, petition,
                                                                     delivered, mail):
    deliver_due()
    db.session.execute(OutboxMessage.__table__.delete())
    db.session.commit()

    assert [d["signature_count"] for d in service.public_deliveries(petition)] == [4]


def test_a_queued_email_whose_delivery_is_gone_is_cancelled(app, petition, delivered, mail):
    db.session.delete(db.session.get(PetitionDelivery, delivered.id))
    db.session.commit()

    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0, "cancelled": 1}
    row = db.session.scalar(select(OutboxMessage))
    assert row.last_error == "not sent: the delivery no longer exists"
    assert mail.messages == []


def test_a_large_list_is_attached_zipped(app, petition, delivered, mail, monkeypatch):
    from petitions.delivery import pack

    monkeypatch.setattr(pack, "ZIP_ATTACHMENT_ABOVE", 10)
    deliver_due()

    [attachment] = list(mail.messages[0].message.iter_attachments())
    assert attachment.get_filename() == "library-signatures.zip"
    assert "(library-signatures.zip)" in mail.messages[0].part("plain")
    assert attachment.get_content_type() == "application/zip"


# --- the PDF link ------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["nonsense", "x" * 300, "e30.bad.sig"])
def test_a_broken_link_is_a_friendly_404(app, client, delivered, token):
    response = client.get(f"/deliveries/{token}.pdf")

    assert response.status_code == 404
    assert "This link doesn" in response.get_data(as_text=True)


def test_a_tampered_link_is_a_404(app, client, delivered):
    token = links.pack_token(delivered)

    response = client.get(f"/deliveries/{token[:-2]}{'A' if token[-2] != 'A' else 'B'}"
                          f"{token[-1]}.pdf")

    assert response.status_code == 404


def test_a_link_to_a_delivery_that_is_gone_is_a_404(app, client, delivered):
    token = links.pack_token(delivered)
    db.session.delete(db.session.get(PetitionDelivery, delivered.id))
    db.session.commit()

    assert client.get(f"/deliveries/{token}.pdf").status_code == 404


def test_an_expired_link_is_410_and_says_so(app, client, delivered, monkeypatch):
    token = links.pack_token(delivered)
    monkeypatch.setattr(links, "LINK_MAX_AGE_DAYS", -1)

    response = client.get(f"/deliveries/{token}.pdf")

    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_a_link_to_a_removed_petition_is_410(app, client, petition, delivered):
    petition.removed_at, petition.removal_reason = utcnow(), "Duplicate of another petition"
    db.session.commit()

    response = client.get(f"/deliveries/{links.pack_token(delivered)}.pdf")

    assert response.status_code == 410
    assert "Duplicate of another petition" in response.get_data(as_text=True)


def test_the_link_renders_the_pack_as_of_its_own_cutoff(app, client, petition, make_account,
                                                        pdf_text):
    old = service.prepare_download(petition, make_account("admin"))
    old.delivered_at = utcnow() - timedelta(minutes=35)  # before the last two signers
    db.session.commit()

    words = pdf_text(client.get(f"/deliveries/{links.pack_token(old)}.pdf").get_data())

    assert "Zoë Ångström-Núñez" in words and "=HYPERLINK" in words
    assert "@mention Smith" not in words and "李小龍" not in words
