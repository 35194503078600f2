"""The confirmation email, queued by the signing request and rendered by the worker: the same
bytes a full render gives, a link dated when the supporter signed, and nothing sent for a
signature that is gone. Stored with its signature, in one transaction, or not at all."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import current_app, render_template, url_for
from sqlalchemy import event, func, select

from petitions.extensions import db
from petitions.mail import rendering
from petitions.mail.delivery import deliver_due
from petitions.mail.mime import header_value
from petitions.mail.models import OutboxMessage
from petitions.mail.outbox import absolute_url
from petitions.mail.render import inline_css
from petitions.signing.email import send_signature_confirmation
from petitions.signing.models import Signature
from petitions.signing.service import SignatureDetails, sign_petition
from petitions.signing.tokens import make_confirmation_token, read_confirmation_token
from tests.factories import PetitionFactory, SignatureFactory
from tests.signing.helpers import confirm_token_in, outbox, sign

KIND = "signature_confirmation"


def full_render(signature: Signature, issued_at: int) -> tuple[str, str, str]:
    """Subject, text and HTML as queue_email renders a message in the request."""
    token = make_confirmation_token(signature.id, signature.canonical_email, issued_at=issued_at)
    context = {
        "signature": signature,
        "petition": signature.petition,
        "petition_url": absolute_url(url_for("signing.petition", slug=signature.petition.slug)),
        "confirm_url": absolute_url(url_for("signing.confirm", token=token)),
        "base_url": current_app.config["BASE_URL"],
    }
    subject = render_template(f"email/{KIND}/subject.txt", **context).strip()
    text = render_template(f"email/{KIND}/body.txt", **context)
    html = inline_css(render_template(f"email/{KIND}/body.html", subject=subject, **context))
    return header_value(subject), text, html


def rendered_by_the_worker(row: OutboxMessage):
    assert rendering.prepare([row]) == {}
    return rendering.content_of(row)


@pytest.mark.parametrize(("name", "title"), [
    ("Jane Doe", "Keep DC a sanctuary city"),
    ("Seán O'Brien & <Sons> \"Q\"", "Parks & <Playgrounds> for \"all\" of us"),
    ("Zoë\xa0Ångström 😀", "Ça suffit : l'air pur, maintenant"),
    ("signerabcdef0123456789name https://linkabcdef.invalid/confirm", "__CONFIRM_URL__"),
])
def test_the_worker_renders_the_bytes_a_full_render_gives(app, name, title):
    signature = SignatureFactory(name=name, petition=PetitionFactory(title=title))
    with app.test_request_context():
        send_signature_confirmation(signature)
        db.session.commit()
        [row] = outbox(kind=KIND)
        assert (row.text_body, row.html_body) == (None, None)  # nothing rendered in the request

        content = rendered_by_the_worker(row)

        subject, text, html = full_render(signature, row.payload["issued_at"])
    assert (content.subject, content.text, content.html) == (subject, text, html)
    assert row.subject == subject
    assert content.headers == {"Auto-Submitted": "auto-generated"}


def test_one_rendered_petition_serves_every_signer(app):
    petition = PetitionFactory()
    first, second = SignatureFactory(petition=petition), SignatureFactory(petition=petition)
    with app.test_request_context():
        for signature in (first, second):
            send_signature_confirmation(signature)
        db.session.commit()
        rows = outbox(kind=KIND)
        assert rendering.prepare(rows) == {}
        texts = [rendering.content_of(row).text for row in rows]
    assert first.name in texts[0] and second.name not in texts[0]
    assert second.name in texts[1] and first.name not in texts[1]


def test_the_link_is_dated_when_the_supporter_signed_not_when_the_email_left(
        client, petition, mail):
    sign(client, petition.slug)
    [row] = outbox(kind=KIND)
    signed_at = row.payload["issued_at"]
    assert abs(signed_at - time.time()) < 60
    # The email waited in the outbox (the worker or SMTP was down) for eight days.
    row.payload = {**row.payload, "issued_at": signed_at - int(timedelta(days=8).total_seconds())}
    db.session.commit()

    assert deliver_due()["sent"] == 1
    token = confirm_token_in(mail.messages[0].part("plain"))
    assert read_confirmation_token(token).expired
    assert client.get(f"/confirm/{token}").status_code == 410


def test_a_token_dated_now_is_the_token_made_now(app):
    with app.app_context():
        for _ in range(5):  # the two must be made within one second
            now = int(time.time())
            made_now = make_confirmation_token(7, "jane@example.org")
            dated = make_confirmation_token(7, "jane@example.org", issued_at=now)
            if int(time.time()) == now:
                break
        assert dated == made_now
        assert read_confirmation_token(dated).issued_at.timestamp() == now


def test_nothing_is_sent_for_a_signature_deleted_before_its_email(client, petition, mail):
    sign(client, petition.slug)
    db.session.execute(Signature.__table__.delete())  # expired, or erased on request
    db.session.commit()

    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0, "cancelled": 1}
    assert mail.messages == []
    [row] = outbox(kind=KIND)
    assert (row.state, row.last_error) == ("failed", "not sent: the signature was deleted")


def test_a_signature_and_its_email_are_committed_together_or_not_at_all(app, petition):
    details = SignatureDetails(name="Jane Doe", email="jane@example.org", postcode="20004",
                               country="US")

    def refuse(session):
        raise RuntimeError("the database went away at COMMIT")

    session = db.session()
    event.listen(session, "before_commit", refuse)
    try:
        with app.test_request_context(), pytest.raises(RuntimeError):
            sign_petition(petition, details, ip="127.0.0.1")
    finally:
        event.remove(session, "before_commit", refuse)
    db.session.rollback()

    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
