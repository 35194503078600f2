"""Per-petition one-click unsubscribe: it stops that petition's updates and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter.links import manage_token
from petitions.signing.models import Signature
from petitions.updates.links import stop_token
from petitions.updates.mailto import stop_updates_from_message
from tests.factories import CategoryFactory, PetitionFactory, SubscriberFactory
from tests.newsletter.digest_helpers import article, digests_to, run_digest
from tests.signing.helpers import form_actions
from tests.updates.helpers import (
    copies_per_recipient,
    draft,
    publish_and_send,
    signer,
    update_mail,
)


@pytest.fixture
def signed(app):
    signature = signer(PetitionFactory(title="Save the library"), "reader@example.org")
    return signature, stop_token(signature.id, signature.canonical_email)


def fresh(signature) -> Signature:
    db.session.expire_all()
    return db.session.get(Signature, signature.id)


def test_one_click_post_without_cookies_or_csrf_stops_the_updates(app, signed):
    signature, token = signed
    assert app.config.get("WTF_CSRF_ENABLED", True)
    mail_client = app.test_client(use_cookies=False)

    response = mail_client.post(f"/updates/stop/{token}", data="List-Unsubscribe=One-Click",
                                content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == (
        "Done. We won't send you any more updates on this petition.\n")
    stopped = fresh(signature)
    assert stopped.email_updates is False
    assert utcnow() - stopped.updates_stopped_at < timedelta(minutes=1)
    assert stopped.state == "confirmed"  # the signature still counts


def test_one_click_twice_is_harmless_and_keeps_the_first_time(app, signed):
    signature, token = signed
    mail_client = app.test_client(use_cookies=False)
    assert mail_client.post(f"/updates/stop/{token}").status_code == 200
    first = fresh(signature).updates_stopped_at

    assert mail_client.post(f"/updates/stop/{token}").status_code == 200

    assert fresh(signature).updates_stopped_at == first


def test_looking_at_the_link_stops_nothing_and_offers_a_button(client, signed):
    signature, token = signed

    for _ in range(3):  # link scanners, previews, a curious click
        response = client.get(f"/updates/stop/{token}")
        assert response.status_code == 200

    page = response.get_data(as_text=True)
    assert "Stop updates on this petition?" in page
    assert "Save the library" in page and "reader@example.org" in page
    assert f"/updates/stop/{token}" in form_actions(page)
    stopped = fresh(signature)
    assert stopped.email_updates is True and stopped.updates_stopped_at is None


def test_the_button_on_the_page_stops_them_and_says_so(client, signed):
    signature, token = signed

    response = client.post(f"/updates/stop/{token}", data={"from": "page"})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Updates stopped" in page and "Save the library" in page
    assert fresh(signature).updates_stopped_at is not None
    again = client.get(f"/updates/stop/{token}").get_data(as_text=True)
    assert "get updates on this petition</h1>" in again and "<button" not in again


@pytest.mark.parametrize("token", [
    "u1-000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAA",  # forged
    "x" * 300,  # overlong
    "not-a-token",
])
def test_a_broken_link_is_a_friendly_404_and_stops_nothing(client, signed, token):
    signature, _ = signed

    page = client.get(f"/updates/stop/{token}")
    one_click = client.post(f"/updates/stop/{token}")
    from_page = client.post(f"/updates/stop/{token}", data={"from": "page"})

    assert (page.status_code, one_click.status_code, from_page.status_code) == (404, 404, 404)
    assert "This link doesn" in page.get_data(as_text=True)
    assert one_click.mimetype == "text/plain"
    assert fresh(signature).updates_stopped_at is None


def test_a_newsletter_token_does_not_stop_updates(client, signed):
    signature, _ = signed
    subscriber = SubscriberFactory(email="reader@example.org")

    response = client.post(f"/updates/stop/{manage_token(subscriber)}")

    assert response.status_code == 404
    assert fresh(signature).updates_stopped_at is None


def test_stopping_one_petition_leaves_other_petitions_and_the_newsletter(app, mail, client):
    email = "both@example.org"
    library, park = PetitionFactory(title="Library"), PetitionFactory(title="Park")
    in_library, in_park = signer(library, email), signer(park, email)
    category = CategoryFactory()
    SubscriberFactory(email=email, follows=[category])
    article(category, utcnow() - timedelta(hours=2))
    token = stop_token(in_library.id, in_library.canonical_email)

    assert client.post(f"/updates/stop/{token}").status_code == 200
    publish_and_send(draft(library, title="Library news"))
    publish_and_send(draft(park, title="Park news"))
    run_digest()

    assert [m.subject for m in update_mail(mail)] == [f"Park news · {park.title}"]
    assert copies_per_recipient(update_mail(mail)) == {email: 1}
    assert len(digests_to(mail, email)) == 1
    assert fresh(in_park).email_updates is True and fresh(in_park).updates_stopped_at is None


def test_an_email_to_the_unsubscribe_mailbox_stops_the_updates(app, signed):
    signature, token = signed
    raw = (f"From: reader@example.org\r\nTo: {app.config['UNSUBSCRIBE_MAILTO']}\r\n"
           f"Subject: unsubscribe {token}\r\n\r\n").encode()

    assert stop_updates_from_message(raw).id == signature.id

    assert fresh(signature).updates_stopped_at is not None


def test_flask_mail_process_unsubscribe_routes_update_tokens(app, runner, signed):
    signature, token = signed
    raw = f"From: reader@example.org\r\nSubject: unsubscribe {token}\r\n\r\n"

    result = runner.invoke(args=["mail", "process-unsubscribe"], input=raw)

    assert result.exit_code == 0, result.output
    assert f"Stopped updates for signature {signature.id}." in result.output
    assert fresh(signature).email_updates is False


def test_the_mailbox_ignores_newsletter_tokens_and_forgeries(app, signed):
    signature, token = signed
    subscriber = SubscriberFactory(email="reader@example.org")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for subject in (f"unsubscribe {manage_token(subscriber)}", f"unsubscribe {forged}"):
        raw = f"From: reader@example.org\r\nSubject: {subject}\r\n\r\n".encode()
        assert stop_updates_from_message(raw) is None
    assert fresh(signature).updates_stopped_at is None
