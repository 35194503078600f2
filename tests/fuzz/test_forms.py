"""Every form, fed anything: never a 5xx, and the data changes only as an accepted form
says (one signature per accepted address, nothing for a refused one, nothing flagged
counted)."""

from __future__ import annotations

from email_validator import validate_email
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.mail import outbox
from petitions.newsletter.links import manage_token
from petitions.newsletter.subscribers import Subscriber
from petitions.signing.canonical import canonical_email
from petitions.signing.models import Petition, Signature
from tests.factories import CategoryFactory, PetitionFactory, SubscriberFactory
from tests.fuzz.strategies import FUZZ, PATH_SEGMENTS, RAW_BODIES, TEXT, form_values

SIGNING_FIELDS = ["name", "email", "postcode", "country", "comment", "show_name_publicly",
                  "email_updates", "subscribe_newsletter", "csrf_token"]
VALID_SIGNER = {"name": "Jane Doe", "postcode": "20004", "country": "US", "comment": "Yes"}
EMAILS = st.one_of(
    st.from_regex(r"[a-z][a-z0-9.]{0,20}@example\.org", fullmatch=True),
    TEXT,
)


def _counts():
    db.session.expire_all()
    total = db.session.scalar(select(func.count()).select_from(Signature))
    flagged_counted = db.session.scalar(select(func.count()).select_from(Signature).where(
        Signature.flagged.is_(True), Signature.counted.is_(True)))
    return total, flagged_counted


def _rows_for(email: str) -> int:
    """Signatures stored for the address the form accepted (normalised as the form does)."""
    normalized = validate_email(email.strip(), check_deliverability=False).normalized
    canonical = canonical_email(normalized)
    return db.session.scalar(select(func.count()).select_from(Signature).where(
        Signature.canonical_email == canonical))


def _quiet(monkeypatch):
    monkeypatch.setattr(outbox, "nudge_worker", lambda: True)


@FUZZ
@given(body=form_values(SIGNING_FIELDS, VALID_SIGNER), email=EMAILS)
def test_signing_form(client, no_csrf, monkeypatch, body, email):
    _quiet(monkeypatch)
    if not _petition("fuzz-sign"):
        PetitionFactory(slug="fuzz-sign")
    if "email" not in body:
        body.add("email", email)
    before, _ = _counts()

    response = client.post("/petitions/fuzz-sign/sign", data=body)
    event(f"status {response.status_code}")

    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    after, flagged_counted = _counts()
    assert flagged_counted == 0
    if response.status_code == 303:
        # Accepted (or silently flagged): one signature for the address, however often sent.
        assert after - before in (0, 1)
        assert _rows_for(body.getlist("email")[0]) == 1
    else:
        assert response.status_code in (400, 409, 413, 422, 429)
        assert after == before


def _petition(slug: str):
    return db.session.scalar(select(Petition).where(Petition.slug == slug))


@FUZZ
@given(body=st.one_of(RAW_BODIES, st.binary(max_size=200).map(lambda b: b"name=" + b)),
       content_type=st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data",
                                     "text/plain", "application/json"]))
def test_signing_form_with_raw_bytes(client, no_csrf, monkeypatch, body, content_type):
    _quiet(monkeypatch)
    if not _petition("fuzz-raw"):
        PetitionFactory(slug="fuzz-raw")
    before, _ = _counts()

    response = client.post("/petitions/fuzz-raw/sign", data=body, content_type=content_type)

    assert 400 <= response.status_code < 500
    assert _counts() == (before, 0)


@FUZZ
@given(body=form_values(["email", "categories", "all_categories", "frequency", "csrf_token"],
                        {"email": "reader@example.org", "frequency": "weekly"}))
def test_subscribe_form(client, no_csrf, monkeypatch, body):
    _quiet(monkeypatch)
    if not db.session.scalars(select(Subscriber.id)).first() and not _category():
        CategoryFactory(slug="immigration")
    category = _category()
    if "categories" not in body and category is not None:
        body.add("categories", str(category.id))
    before = _subscribers()

    response = client.post("/subscribe", data=body)
    event(f"status {response.status_code}")

    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code == 303:
        assert _subscribers() - before in (0, 1)
    else:
        assert response.status_code in (400, 413, 422, 429)
        assert _subscribers() == before


def _category():
    from petitions.newsletter.models import Category

    return db.session.scalar(select(Category).where(Category.slug == "immigration"))


def _subscribers() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Subscriber))


@FUZZ
@given(body=form_values(["categories", "all_categories", "frequency", "csrf_token", "action"],
                        {"frequency": "daily"}),
       suffix=st.sampled_from(["", "/pause", "/resume", "/unsubscribe"]))
def test_preference_centre_forms(app, client, no_csrf, monkeypatch, body, suffix):
    _quiet(monkeypatch)
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == "pref@example.org"))
    if subscriber is None:
        subscriber = SubscriberFactory(email="pref@example.org")
    token = manage_token(subscriber)

    response = client.post(f"/subscription/{token}{suffix}", data=body)
    event(f"status {response.status_code}")

    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    [kept] = db.session.scalars(select(Subscriber).where(Subscriber.email == "pref@example.org"))
    assert kept.frequency in ("daily", "weekly")
    assert kept.state in ("active", "unsubscribed")


@FUZZ
@given(token=PATH_SEGMENTS, method=st.sampled_from(["GET", "POST"]),
       prefix=st.sampled_from(["/confirm/", "/subscribe/confirm/", "/subscription/",
                               "/updates/stop/", "/deliveries/"]))
def test_token_pages_with_any_token(client, no_csrf, monkeypatch, token, method, prefix):
    _quiet(monkeypatch)
    before = _counts(), _subscribers()

    response = client.open(prefix + token + (".pdf" if prefix == "/deliveries/" else ""),
                           method=method)

    assert response.status_code in (400, 404, 405, 410, 413, 414, 429), response.status_code
    assert (_counts(), _subscribers()) == before


@FUZZ
@given(body=form_values(["email", "password", "csrf_token", "remember", "next"],
                        {"email": "staff@example.org", "password": "wrong"}),
       csrf=st.booleans())
def test_admin_login_form(app, client, monkeypatch, body, csrf):
    app.config["WTF_CSRF_ENABLED"] = csrf
    response = client.post("/admin/login", data=body)

    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    # No password in the examples is right, so nobody is ever let in.
    assert client.get("/admin/").status_code in (302, 303)


@FUZZ
@given(query=st.dictionaries(st.sampled_from(["q", "category", "page", "subscriber", "kind",
                                              "petition", "format", "by"]), TEXT, max_size=3),
       path=st.sampled_from(["/", "/subscribe", "/petitions/fuzz-q", "/privacy",
                             "/admin/login", "/petitions/fuzz-q/count.json"]))
def test_pages_with_any_query_string(client, query, path):
    if not _petition("fuzz-q"):
        PetitionFactory(slug="fuzz-q")

    response = client.get(path, query_string=query)

    assert response.status_code in (200, 400), response.status_code
