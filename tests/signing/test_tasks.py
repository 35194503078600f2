"""Expiring unconfirmed signatures, and what the public page shows about signers."""

import re
from datetime import timedelta

from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.signing.tasks import expire_pending_signatures
from tests.factories import SignatureFactory
from tests.signing.helpers import confirm_token_in, csrf_token, outbox, sign, signatures


def days_ago(days: float):
    return utcnow() - timedelta(days=days)


def test_expire_deletes_only_pending_signatures_sent_more_than_seven_days_ago(app, petition):
    SignatureFactory(petition=petition, email="stale@example.org",
                     confirmation_sent_at=days_ago(8))
    SignatureFactory(petition=petition, email="recent@example.org",
                     confirmation_sent_at=days_ago(6))
    SignatureFactory(petition=petition, email="confirmed@example.org", state="confirmed",
                     confirmation_sent_at=days_ago(30), confirmed_at=days_ago(29))

    assert expire_pending_signatures.run() == 1

    assert sorted(s.email for s in signatures()) == ["confirmed@example.org", "recent@example.org"]
    assert expire_pending_signatures.run() == 0


def test_expire_follows_confirmation_max_age_days(app, petition):
    SignatureFactory(petition=petition, confirmation_sent_at=days_ago(3))
    assert expire_pending_signatures.run() == 0

    app.config["CONFIRMATION_MAX_AGE_DAYS"] = 2

    assert expire_pending_signatures.run() == 1
    assert signatures() == []


def test_resending_the_confirmation_restarts_the_seven_days(app, client, petition):
    SignatureFactory(petition=petition, email="jane@example.org", confirmation_sent_at=days_ago(8))

    sign(client, "sanctuary-city", email="jane@example.org")  # re-sends: a fresh link

    assert expire_pending_signatures.run() == 0
    assert len(signatures()) == 1


def test_expire_deletes_a_pending_signature_whose_email_is_in_the_outbox(app, client, petition):
    sign(client, "sanctuary-city")
    [signature] = signatures()
    signature.confirmation_sent_at = days_ago(8)
    db.session.commit()

    assert expire_pending_signatures.run() == 1

    assert signatures() == []
    [row] = outbox()
    assert row.signature_id is None  # the foreign key lets go instead of blocking the delete


def sign_and_confirm(client, mail, **fields) -> None:
    assert sign(client, "sanctuary-city", **fields).status_code == 303
    assert deliver_due()["sent"] == 1
    [message] = mail.to(fields["email"])
    token = confirm_token_in(message.part("plain"))
    page = client.get(f"/confirm/{token}").get_data(as_text=True)
    response = client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200


def test_public_page_shows_first_name_and_country_only_of_signers_who_opted_in(
    client, petition, mail
):
    sign_and_confirm(client, mail, name="Zelda Quixotic", email="zelda.q@example.org",
                     country="GB", postcode="SW1A 1AA", show_name_publicly="y")
    sign_and_confirm(client, mail, name="Barnaby Hiddenstone", email="barnaby@example.org")
    # Ticked the box but never confirmed: not a signer yet.
    sign(client, "sanctuary-city", name="Pending Person", email="pending@example.org",
         show_name_publicly="y")

    html = client.get("/petitions/sanctuary-city").get_data(as_text=True)

    assert "Recent signers" in html
    shown = " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" ,", ",")
    assert "Zelda, United Kingdom" in shown
    for private in ("Quixotic", "zelda.q@example.org", "SW1A",
                    "Barnaby", "Hiddenstone", "barnaby@example.org",
                    "Pending", "pending@example.org"):
        assert private not in html, f"{private!r} is shown on the public page"


def test_public_page_has_no_signer_list_when_nobody_opted_in(client, petition):
    SignatureFactory(petition=petition, name="Quiet Person", state="confirmed",
                     confirmed_at=utcnow(), show_name_publicly=False)

    html = client.get("/petitions/sanctuary-city").get_data(as_text=True)

    assert "Recent signers" not in html
    assert "Quiet" not in html
