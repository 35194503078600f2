"""Self-service data rights: the link by email, the data page and JSON, and erasure."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.mail.models import OutboxMessage, Suppression
from petitions.newsletter.links import manage_url
from petitions.newsletter.subscribers import ConsentRecord, Subscriber
from petitions.privacy import rights
from petitions.signing.counting import fold_confirmed_signatures, recount_all
from petitions.signing.models import Petition, Signature
from petitions.signing.tokens import make_confirmation_token
from tests.factories import CategoryFactory, PetitionFactory, SignatureFactory, SubscriberFactory
from tests.signing.helpers import csrf_token, form_actions

EMAIL = "zelda.q@example.org"
DATA_LINK = re.compile(r"http://petitions\.test/privacy/data/([A-Za-z0-9_.\-]+)")


def ask_for_link(client, email: str = EMAIL):
    page = client.get("/privacy/request")
    assert page.status_code == 200
    return client.post("/privacy/request", data={
        "email": email, "csrf_token": csrf_token(page.get_data(as_text=True))})


def link_rows() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "privacy_link").order_by(OutboxMessage.id)))


@pytest.fixture
def zelda(app):
    """Zelda signed two petitions (one confirmed and counted, one pending), subscribed to
    the newsletter, and has had email from us. Someone else signed too."""
    petition = PetitionFactory(slug="sanctuary", title="Keep DC a sanctuary city")
    other_petition = PetitionFactory(slug="libraries", title="Fund the libraries")
    confirmed = SignatureFactory(
        petition=petition, name="Zelda Quixotic", email="Zelda.Q@example.org",
        postcode="SW1A 1AA", country="GB", comment="Quixotic hopes", state="confirmed",
        confirmed_at=utcnow() - timedelta(days=2), show_name_publicly=True,
        email_updates=True, ip_address="192.0.2.77")
    pending = SignatureFactory(petition=other_petition, name="Zelda Quixotic", email=EMAIL,
                               postcode="20004", ip_address="192.0.2.77")
    neighbour = SignatureFactory(petition=petition, name="Barnaby Hiddenstone",
                                 email="barnaby@example.org", state="confirmed",
                                 confirmed_at=utcnow() - timedelta(days=1), postcode="SW1A 2BB",
                                 country="GB")
    subscriber = SubscriberFactory(email=EMAIL, follows=[CategoryFactory(name="Immigration")])
    db.session.add(ConsentRecord(subscriber_id=subscriber.id, action="subscribe",
                                 source="petition:sanctuary", ip_address="192.0.2.77",
                                 consent_text="Send me the Immigration newsletter weekly."))
    db.session.add(OutboxMessage(kind="signature_confirmation", to_address="Zelda.Q@example.org",
                                 subject="Please confirm your signature", text_body="x",
                                 html_body="<p>x</p>", message_id="<z1@petitions.test>",
                                 signature_id=pending.id, state="sent", sent_at=utcnow()))
    db.session.add(OutboxMessage(kind="signature_confirmation", to_address=neighbour.email,
                                 subject="Please confirm your signature", text_body="x",
                                 html_body="<p>x</p>", message_id="<b1@petitions.test>",
                                 signature_id=neighbour.id, state="sent", sent_at=utcnow()))
    db.session.commit()
    fold_confirmed_signatures()
    return {"confirmed": confirmed.id, "pending": pending.id, "neighbour": neighbour.id,
            "subscriber": subscriber.id, "petition": petition.id}


def everything_in_the_database() -> str:
    with db.engine.connect() as connection:
        return repr([connection.execute(select(table)).all()
                     for table in db.metadata.sorted_tables]).lower()


def test_the_whole_journey_from_request_to_erasure(app, client, mail, zelda, runner):
    exports_before = {by: runner.invoke(args=["export", "counts", "--by", by]).output
                      for by in ("petition", "day", "country", "postcode")}
    count_before = db.session.get(Petition, zelda["petition"]).signature_count
    assert count_before == 2

    # 1. Ask for the link; it comes by email.
    response = ask_for_link(client, "Zelda.Q+privacy@Example.org")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/privacy/check-email")
    assert client.get("/privacy/check-email").status_code == 200
    assert deliver_due()["sent"] == 1
    [message] = mail.messages
    assert message.to == "Zelda.Q+privacy@example.org"
    assert message.message["Auto-Submitted"] == "auto-generated"
    token = DATA_LINK.search(message.part("plain")).group(1)
    assert DATA_LINK.search(message.part("html")).group(1) == token

    # 2. The page shows everything; the JSON says the same.
    page = client.get(f"/privacy/data/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "no-store" in page.headers["Cache-Control"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for shown in ("Zelda Quixotic", "Keep DC a sanctuary city", "Fund the libraries",
                  "SW1A 1AA", "Quixotic hopes", "192.0.2.77", "Immigration",
                  "Send me the Immigration newsletter weekly.",
                  "Your link to see or erase your details"):
        assert shown in html, shown
    download = client.get(f"/privacy/data/{token}.json")
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    data = download.get_json()
    assert data["email"] == EMAIL
    assert [(s["petition"]["slug"], s["state"], s["postcode"], s["comment"])
            for s in data["signatures"]] == [("sanctuary", "confirmed", "SW1A 1AA",
                                              "Quixotic hopes"),
                                             ("libraries", "pending", "20004", None)]
    assert data["signatures"][0]["show_name_publicly"] is True
    assert data["subscription"]["subscriber"]["state"] == "active"
    assert data["subscription"]["categories"] == [{"slug": data["subscription"]["categories"][0]
                                                   ["slug"], "name": "Immigration"}]
    assert [c["source"] for c in data["subscription"]["consent_records"]] == [
        "petition:sanctuary"]
    assert sorted(e["kind"] for e in data["emails"]) == ["privacy_link",
                                                         "signature_confirmation"]
    assert data["do_not_email"] is None

    # 3. Erasing asks first; looking changes nothing; a POST without the CSRF token fails.
    ask = client.get(f"/privacy/data/{token}/erase")
    assert ask.status_code == 200 and "This can't be undone." in ask.get_data(as_text=True)
    assert f"/privacy/data/{token}/erase" in form_actions(ask.get_data(as_text=True))
    assert client.post(f"/privacy/data/{token}/erase").status_code == 400
    assert db.session.get(Subscriber, zelda["subscriber"]) is not None
    erased = client.post(f"/privacy/data/{token}/erase",
                         data={"csrf_token": csrf_token(ask.get_data(as_text=True))})
    assert erased.status_code == 200
    assert "Your details are erased" in erased.get_data(as_text=True)

    # 4. Nothing about her is left anywhere; the counts have not moved.
    everything = everything_in_the_database()
    for trace in ("zelda", "quixotic", "192.0.2.77", "sw1a 1aa"):
        assert trace not in everything, trace
    fold_confirmed_signatures()
    assert recount_all() == 0
    assert db.session.get(Petition, zelda["petition"]).signature_count == count_before
    assert {by: runner.invoke(args=["export", "counts", "--by", by]).output
            for by in ("petition", "day", "country", "postcode")} == {
        **exports_before,
        # The pending signature is deleted (as it would have been after 7 days).
        "petition": exports_before["petition"].replace("libraries,Fund the libraries,0,1",
                                                       "libraries,Fund the libraries,0,0")}
    kept = db.session.get(Signature, zelda["confirmed"])
    assert (kept.state, kept.counted, kept.country, kept.postcode, kept.name) == (
        "confirmed", True, "GB", "SW1", "")
    assert db.session.get(Signature, zelda["pending"]) is None
    neighbour = db.session.get(Signature, zelda["neighbour"])
    assert (neighbour.name, neighbour.email) == ("Barnaby Hiddenstone", "barnaby@example.org")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "data_erased"))
    assert (entry.actor_id, entry.actor_email, entry.ip_address, entry.target_id) == (
        None, None, None, None)
    assert entry.detail == {"signatures": 2, "signatures_anonymised": 1,
                            "signatures_deleted": 1, "subscribers": 1, "emails": 2}

    # 5. The link still works, and shows that nothing is held.
    assert client.get(f"/privacy/data/{token}.json").get_json() | {"exported_at": None} == {
        "email": EMAIL, "exported_at": None, "signatures": [], "subscription": None,
        "emails": [], "do_not_email": None}


def test_the_same_answer_whatever_we_hold_and_a_link_to_every_address(app, client, zelda):
    known = ask_for_link(client, EMAIL)
    unknown = ask_for_link(client, "nobody@example.net")

    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code, unknown.headers["Location"])
    assert [row.to_address for row in link_rows()] == [EMAIL, "nobody@example.net"]


def test_at_most_three_links_an_hour_to_one_mailbox(app, client):
    for address in ("reader@example.org", "Reader+a@example.org", "reader+b@EXAMPLE.org",
                    "reader+c@example.org"):
        response = ask_for_link(client, address)
        assert response.status_code == 303  # the same answer when capped
    assert ask_for_link(client, "someone.else@example.org").status_code == 303

    assert [row.to_address for row in link_rows()] == [
        "reader@example.org", "Reader+a@example.org", "reader+b@example.org",
        "someone.else@example.org"]

    for row in link_rows():
        row.created_at = utcnow() - timedelta(minutes=61)
    db.session.commit()
    ask_for_link(client, "reader@example.org")
    assert len(link_rows()) == 5


def test_a_bad_address_is_a_422_with_a_message_and_sends_nothing(app, client):
    response = ask_for_link(client, "not an address")

    assert response.status_code == 422
    assert "Enter an email address like name@example.com." in response.get_data(as_text=True)
    assert link_rows() == []


def test_the_request_form_needs_its_csrf_token(app, client):
    response = client.post("/privacy/request", data={"email": EMAIL})

    assert response.status_code == 400
    assert link_rows() == []


def past_token(app, email: str, hours_old: float, salt: str = rights.SALT, payload=None) -> str:
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - hours_old * 3600)

    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt, signer=PastSigner)
    return serializer.dumps({"email": email} if payload is None else payload)


def test_an_expired_link_is_410_and_erases_nothing(app, client, zelda):
    token = past_token(app, EMAIL, hours_old=25)

    page = client.get(f"/privacy/data/{token}")
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)
    as_json = client.get(f"/privacy/data/{token}.json")
    assert as_json.status_code == 410 and as_json.is_json
    assert client.get(f"/privacy/data/{token}/erase").status_code == 410
    with_csrf_off(app)
    assert client.post(f"/privacy/data/{token}/erase").status_code == 410
    assert db.session.get(Subscriber, zelda["subscriber"]) is not None

    assert client.get(f"/privacy/data/{past_token(app, EMAIL, 23)}").status_code == 200


def with_csrf_off(app):
    app.config["WTF_CSRF_ENABLED"] = False


def broken_tokens(app) -> list[str]:
    good = rights.make_token(EMAIL)
    return [
        ("B" if good[0] != "B" else "C") + good[1:],                      # tampered
        past_token(app, EMAIL, 0, salt="signing.confirm"),                # another purpose
        make_confirmation_token(1, EMAIL),                                # a signing link
        past_token(app, EMAIL, 0, payload=["zelda", 1]),                  # not our payload
        past_token(app, EMAIL, 0, payload={"email": 42}),
        "x" * 2000,                                                       # overlong
        "nonsense",
    ]


def test_broken_and_wrong_purpose_links_are_404_and_erase_nothing(app, client, zelda):
    subscriber = db.session.get(Subscriber, zelda["subscriber"])
    tokens = broken_tokens(app) + [manage_url(subscriber).rsplit("/", 1)[1]]
    with_csrf_off(app)

    for token in tokens:
        assert client.get(f"/privacy/data/{token}").status_code == 404, token
        response = client.get(f"/privacy/data/{token}.json")
        assert response.status_code == 404 and response.is_json, token
        assert client.get(f"/privacy/data/{token}/erase").status_code == 404, token
        assert client.post(f"/privacy/data/{token}/erase").status_code == 404, token

    assert db.session.get(Subscriber, zelda["subscriber"]) is not None
    assert db.session.get(Signature, zelda["confirmed"]).name == "Zelda Quixotic"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_do_not_email_entry_is_shown_and_kept(app, client, zelda):
    db.session.add(Suppression(canonical_email=EMAIL, reason="complaint"))
    db.session.commit()
    token = rights.make_token(EMAIL)

    assert client.get(f"/privacy/data/{token}.json").get_json()["do_not_email"]["reason"] == (
        "complaint")
    rights.erase(EMAIL)

    assert db.session.scalar(select(Suppression.canonical_email)) == EMAIL


def test_a_signature_confirmed_but_not_yet_counted_is_anonymised_and_counted_later(app):
    petition = PetitionFactory()
    petition_id = petition.id
    signature_id = SignatureFactory(petition=petition, email=EMAIL, state="confirmed",
                                    confirmed_at=utcnow()).id

    assert rights.erase(EMAIL)["signatures_anonymised"] == 1
    fold_confirmed_signatures()

    kept = db.session.get(Signature, signature_id)
    assert (kept.email, kept.counted) == ("", True)
    assert db.session.get(Petition, petition_id).signature_count == 1


def outbox_row(to: str, n: int) -> OutboxMessage:
    row = OutboxMessage(kind="digest", to_address=to, subject="News", text_body="x",
                        html_body="<p>x</p>", message_id=f"<o{n}@petitions.test>")
    db.session.add(row)
    return row


def test_emails_to_every_spelling_of_the_address_are_found_and_erased(app):
    for n, to in enumerate(["Jane.Doe+news@GoogleMail.com", "j.a.n.e.doe@gmail.com",
                            "janedoe@gmail.com", "janedoex@gmail.com", "jane_doe@gmail.com",
                            "janedoe@example.org"]):
        outbox_row(to, n)
    db.session.commit()

    found = [e["to"] for e in rights.collect("janedoe@gmail.com")["emails"]]
    assert found == ["Jane.Doe+news@GoogleMail.com", "j.a.n.e.doe@gmail.com",
                     "janedoe@gmail.com"]
    assert [e["to"] for e in rights.collect("jane_doe@gmail.com")["emails"]] == [
        "jane_doe@gmail.com"]

    assert rights.erase("janedoe@gmail.com")["emails"] == 3
    assert sorted(db.session.scalars(select(OutboxMessage.to_address))) == [
        "jane_doe@gmail.com", "janedoe@example.org", "janedoex@gmail.com"]


@pytest.mark.parametrize("token", ["é", "a.b.c", "..", "eyJlbWFpbCI6MX0.aaaa.bbbb", "%00",
                                   "Ω" * 300, ".eJyrVkrNzcxRslIqSS0uUaoFADKkBf0.x.y"])
def test_odd_tokens_are_404_not_500(app, client, token):
    # A NUL anywhere in a path is refused before routing (petitions/security.py).
    expected = 400 if token == "%00" else 404
    assert client.get(f"/privacy/data/{token}").status_code == expected
    assert client.get(f"/privacy/data/{token}.json").status_code == expected


@pytest.mark.parametrize("data", [
    {"email": "a@example.org" * 100},
    {"email": "\u202e@example.org"},
    {"email": "bad\r\nBcc: x@example.org"},
    {},
])
def test_odd_request_forms_are_422_and_send_nothing(app, client, data):
    app.config["WTF_CSRF_ENABLED"] = False

    assert client.post("/privacy/request", data=data).status_code == 422
    assert link_rows() == []
