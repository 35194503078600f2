from urllib.parse import unquote

from petitions.extensions import db
from petitions.newsletter.links import list_headers
from tests.factories import CategoryFactory, SubscriberFactory


def _request_from_header(subscriber) -> bytes:
    """The message a mail client sends for the header's mailto: link."""
    mailto = list_headers(subscriber)["List-Unsubscribe"].split("<mailto:", 1)[1].rstrip(">")
    address, _, query = mailto.partition("?subject=")
    return (
        f"From: {subscriber.email}\r\nTo: {address}\r\nSubject: {unquote(query)}\r\n\r\n"
        "Sent from my phone\r\n"
    ).encode()


def test_an_email_to_the_mailto_address_unsubscribes_and_is_recorded(app, runner):
    subscriber = SubscriberFactory(follows=[CategoryFactory()])

    result = runner.invoke(args=["mail", "process-unsubscribe"],
                           input=_request_from_header(subscriber))

    assert result.exit_code == 0, result.output
    db.session.refresh(subscriber)
    assert subscriber.state == "unsubscribed"
    assert subscriber.consents[-1].source == "mailto"


def test_a_message_without_a_valid_token_changes_nothing(app, runner):
    subscriber = SubscriberFactory()
    forged = _request_from_header(subscriber).replace(b"Subject: unsubscribe ",
                                                      b"Subject: unsubscribe 9")

    result = runner.invoke(args=["mail", "process-unsubscribe"], input=forged)

    assert result.exit_code != 0
    assert "No valid unsubscribe token" in result.output
    db.session.refresh(subscriber)
    assert subscriber.state == "active"
