"""The delivery page in the admin: admins only, CSRF on every POST, the target, and packs
to download (recorded, exact, audited). Emailing the target: test_sending.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from petitions.delivery import service
from petitions.delivery.models import PetitionDelivery
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from tests.admin.conftest import csrf_from
from tests.delivery.helpers import COVER, base, confirmed, count, entries, post, text
from tests.delivery.test_pack import EXPECTED_CSV
from tests.factories import PetitionFactory


def delivery_routes(app, petition, delivery_id: int):
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.delivery."):
            url = rule.build({"slug": petition.slug, "delivery_id": delivery_id},
                             append_unknown=False)[1]
            routes += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


# --- who may ----------------------------------------------------------------------------

def test_a_moderator_cannot_deliver_nor_see_any_delivery_view(app, petition, moderator_client):
    delivery = service.prepare_download(petition, moderator_client.account)
    routes = delivery_routes(app, petition, delivery.id)
    assert len(routes) == 7

    for method, url in routes:
        response = moderator_client.open(url, method=method, data={
            "csrf_token": moderator_client.csrf, "cover_message": COVER,
            "target_email": "mayor@dc.example", "nonce": "n" * 24, "target": "Someone"})
        assert response.status_code == 403, (method, url)
    assert count(OutboxMessage) == 0
    assert count(PetitionDelivery) == 1
    assert entries("delivery_pack_downloaded") == []


def test_anonymous_visitors_are_sent_to_log_in(app, petition, client):
    token = csrf_from(text(client.get("/admin/login")))
    for method, url in delivery_routes(app, petition, 1):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_every_post_without_a_csrf_token_is_refused(app, petition, admin_client):
    for method, url in delivery_routes(app, petition, 1):
        if method == "POST":
            response = admin_client.post(url, data={"cover_message": COVER, "target": "X"})
            assert response.status_code == 400, url
    assert count(PetitionDelivery) == 0 and count(OutboxMessage) == 0


def test_an_unknown_petition_or_pack_is_a_404(app, petition, admin_client):
    other = PetitionFactory()
    confirmed(other)
    delivery = service.prepare_download(other, admin_client.account)

    assert admin_client.get("/admin/petitions/nope/delivery/").status_code == 404
    assert admin_client.get(f"{base(petition)}/packs/{delivery.id}.pdf").status_code == 404
    assert admin_client.get(f"{base(petition)}/packs/999999.csv").status_code == 404


# --- the page and the target -------------------------------------------------------------

def test_the_page_shows_how_many_signatures_a_pack_would_hold(app, petition, admin_client):
    page = text(admin_client.get(f"{base(petition)}/"))

    assert "4 confirmed signatures right now." in page
    assert "mayor@dc.example" in page
    assert "Nothing delivered or prepared yet." in page


def test_the_target_is_saved_and_audited(app, petition, admin_client):
    response = post(admin_client, f"{base(petition)}/target", target="  Council  of DC ",
                    target_email="Clerk@Council.Example")

    assert response.status_code == 303
    db.session.expire_all()
    assert (petition.target, petition.target_email) == ("Council of DC", "Clerk@council.example")
    [entry] = entries("petition_target_changed")
    assert entry.target_id == str(petition.id)
    assert entry.detail == {
        "before": {"target": "Mayor of DC", "target_email": "mayor@dc.example"},
        "after": {"target": "Council of DC", "target_email": "Clerk@council.example"}}

    post(admin_client, f"{base(petition)}/target", target="Council of DC", target_email="")
    db.session.expire_all()
    assert petition.target_email is None


@pytest.mark.parametrize(("fields", "message"), [
    ({"target": "Mayor", "target_email": "not-an-address"}, "Enter an email address like"),
    ({"target": "", "target_email": ""}, "Enter who the petition is addressed to."),
    ({"target": "M" * 201, "target_email": ""}, "200 characters or fewer"),
    ({"target": "Mayor", "target_email": "a" * 250 + "@x.org"}, "254 characters or fewer"),
])
def test_a_bad_target_is_refused_with_a_message(app, petition, admin_client, fields, message):
    response = post(admin_client, f"{base(petition)}/target", **fields)

    assert response.status_code == 400
    assert message in text(response)
    db.session.expire_all()
    assert (petition.target, petition.target_email) == ("Mayor of DC", "mayor@dc.example")
    assert entries("petition_target_changed") == []


# --- packs to download -----------------------------------------------------------------

def test_a_prepared_pack_is_recorded_and_its_downloads_are_exact_and_audited(
        app, petition, admin_client, pdf_text):
    response = post(admin_client, f"{base(petition)}/packs")
    assert response.status_code == 303
    [delivery] = db.session.scalars(select(PetitionDelivery)).all()
    assert (delivery.signature_count, delivery.target_name, delivery.target_email,
            delivery.delivered_by_id) == (4, "Mayor of DC", None, admin_client.account.id)
    [prepared] = entries("delivery_pack_prepared")
    assert prepared.detail["delivery_id"] == delivery.id
    assert prepared.detail["signature_count"] == 4
    # A signature confirmed after the pack was prepared is not in it.
    confirmed(petition, 0, name="Came Later")

    csv = admin_client.get(f"{base(petition)}/packs/{delivery.id}.csv")
    assert csv.status_code == 200
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.headers["Content-Disposition"] == 'attachment; filename="library-signatures.csv"'
    assert csv.headers["Cache-Control"] == "no-store"
    assert csv.get_data() == EXPECTED_CSV

    pdf = admin_client.get(f"{base(petition)}/packs/{delivery.id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    words = pdf_text(pdf.get_data())
    assert "Fund the library" in words and "Zoë Ångström-Núñez" in words
    assert "Came Later" not in words

    downloads = entries("delivery_pack_downloaded")
    assert [(e.detail["format"], e.detail["delivery_id"], e.detail["signature_count"],
             e.actor_id) for e in downloads] == [
        ("csv", delivery.id, 4, admin_client.account.id),
        ("pdf", delivery.id, 4, admin_client.account.id)]

    page = text(admin_client.get(f"{base(petition)}/"))
    assert "Prepared for download" in page
    assert f"/packs/{delivery.id}.pdf" in page and f"/packs/{delivery.id}.csv" in page


def test_a_petition_without_confirmed_signatures_has_no_pack(app, admin_client):
    petition = PetitionFactory(slug="empty")

    response = post(admin_client, f"{base(petition)}/packs")

    assert response.status_code == 409
    assert "no confirmed signatures yet" in text(response)
    assert count(PetitionDelivery) == 0
