"""Concurrent requests for one address: one subscriber, and the email caps still hold."""

from tests.factories import CategoryFactory, SubscriberFactory
from tests.newsletter.subscription_helpers import subscribers
from tests.signing.helpers import outbox
from tests.support.concurrency import run_concurrently


def _subscribe_in_own_browser(app, category_id):
    def post(address):
        return app.test_client().post("/subscribe", data={
            "email": address, "categories": [str(category_id)], "frequency": "weekly"})

    return post


def test_concurrent_subscribes_of_one_address_make_one_subscriber_and_four_emails(
    app, no_csrf
):
    category = CategoryFactory()
    spellings = ["Race.Person@gmail.com", "raceperson@gmail.com",
                 "race.person+a@googlemail.com", "RACEPERSON+b@GMAIL.COM"] * 2

    responses = run_concurrently(_subscribe_in_own_browser(app, category.id),
                                 [(a,) for a in spellings])

    assert [r.status_code for r in responses] == [303] * len(spellings)
    [subscriber] = subscribers()
    assert subscriber.canonical_email == "raceperson@gmail.com"
    assert subscriber.confirmation_sends == 4  # the first email and exactly three re-sends
    assert len(outbox(kind="subscription_confirmation")) == 4


def test_concurrent_subscribes_of_an_active_address_send_at_most_three_notices(app, no_csrf):
    category = CategoryFactory()
    SubscriberFactory(email="reader@example.org", follows=[category], confirmation_sends=0)

    run_concurrently(_subscribe_in_own_browser(app, category.id),
                     [("reader@example.org",)] * 6)

    assert len(outbox(kind="subscription_already_active")) == 3
    assert subscribers()[0].state == "active"
