"""The development mail catcher: a real SMTP server storing .eml files, read at /dev/mail."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from petitions.mail.catcher import MailStore, start_catcher
from tests.mail.apps import build_extra_app
from tests.support.apps import app_settings
from tests.support.processes import free_port

CONFIRM_LINK = "http://petitions.test/confirm/abc.def"


def make_email(subject: str, to: str = "reader@example.org", html: bool = True) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Petitions <petitions@petitions.test>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = "<caught-1@petitions.test>"
    message.set_content(f"Please confirm:\n{CONFIRM_LINK}\n")
    if html:
        message.add_alternative(f'<p><a href="{CONFIRM_LINK}">Confirm</a></p>', subtype="html")
    return message


@pytest.fixture
def catcher(tmp_path):
    folder = tmp_path / "caught"
    port = free_port()
    controller = start_catcher(str(folder), port=port)
    yield port, MailStore(folder)
    controller.stop()


def send(port: int, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(message)


def test_catcher_stores_a_message_sent_over_smtp(catcher):
    port, store = catcher

    send(port, make_email("Caught by the catcher"))

    [caught] = store.all()
    assert caught.subject == "Caught by the catcher"
    assert caught.to == "reader@example.org"
    assert CONFIRM_LINK in caught.part("plain")
    assert CONFIRM_LINK in caught.part("html")


def test_mail_store_lists_the_newest_message_first(tmp_path):
    store = MailStore(tmp_path / "store")
    for subject in ("first", "second", "third"):
        store.save(make_email(subject).as_bytes())

    assert [m.subject for m in store.all()] == ["third", "second", "first"]
    assert store.ids() == sorted(store.ids(), reverse=True)


def test_mail_store_is_empty_before_anything_arrives_and_rejects_odd_ids(tmp_path):
    store = MailStore(tmp_path / "not-created-yet")
    assert store.all() == []
    assert store.get("../secret_key") is None
    assert store.get("missing-id") is None


# --- /dev/mail -----------------------------------------------------------------------------

@pytest.fixture
def dev_mail(smtp_sink, celery_queue, tmp_path):
    """An app in development mode (MAIL_CATCHER on), reading the store filled by `catcher`."""
    instance = tmp_path / "instance"
    store = MailStore(tmp_path / "caught")
    settings = app_settings(f"sqlite:///{instance / 'unused.sqlite3'}", smtp_sink, instance,
                            celery_queue)
    settings.update(MAIL_CATCHER=True, MAIL_CATCHER_DIR=str(store.folder))
    return build_extra_app(settings, instance).test_client(), store


def test_dev_mail_index_lists_caught_messages_by_subject(dev_mail):
    client, store = dev_mail
    store.save(make_email("Please confirm your signature").as_bytes())

    page = client.get("/dev/mail")

    assert page.status_code == 200
    assert "Please confirm your signature" in page.get_data(as_text=True)


def test_dev_mail_message_page_links_the_text_part_and_frames_the_html(dev_mail):
    client, store = dev_mail
    message_id = store.save(make_email("With links").as_bytes())

    page = client.get(f"/dev/mail/{message_id}")

    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<a href="{CONFIRM_LINK}"' in body  # the plain-text link is clickable
    assert '<iframe class="mail-frame"' in body
    assert f'src="/dev/mail/{message_id}/html"' in body


def test_dev_mail_html_part_is_served_with_links_opening_the_whole_window(dev_mail):
    client, store = dev_mail
    message_id = store.save(make_email("HTML part").as_bytes())

    response = client.get(f"/dev/mail/{message_id}/html")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    # Inside <head> when there is one (before the doctype it would mean quirks mode).
    assert '<base target="_top">' in body
    assert body.index('<base target="_top">') > body.lower().find("<head")
    assert f'<a href="{CONFIRM_LINK}">Confirm</a>' in body
    # The message page frames it, on this site only.
    assert response.headers["Content-Security-Policy"] == "script-src 'none'; frame-ancestors 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize("path", ["/dev/mail/00000000000000000000-deadbeef",
                                  "/dev/mail/00000000000000000000-deadbeef/html",
                                  "/dev/mail/not.an.id"])
def test_dev_mail_unknown_message_is_404(dev_mail, path):
    client, _store = dev_mail
    assert client.get(path).status_code == 404


def test_dev_mail_html_view_of_a_text_only_message_is_404(dev_mail):
    client, store = dev_mail
    message_id = store.save(make_email("Plain only", html=False).as_bytes())
    assert client.get(f"/dev/mail/{message_id}").status_code == 200
    assert client.get(f"/dev/mail/{message_id}/html").status_code == 404


def test_dev_mail_does_not_exist_when_the_catcher_is_off(client):
    assert client.get("/dev/mail").status_code == 404
    assert client.get("/dev/mail/00000000000000000000-deadbeef/html").status_code == 404


def test_dev_mail_does_not_exist_in_production_even_with_the_catcher_on(
    smtp_sink, celery_queue, tmp_path
):
    instance = tmp_path / "instance"
    settings = app_settings(f"sqlite:///{instance / 'unused.sqlite3'}", smtp_sink, instance,
                            celery_queue)
    settings.update(APP_ENV="production", MAIL_CATCHER=True, MAIL_CATCHER_DIR=str(tmp_path))
    assert build_extra_app(settings, instance).test_client().get("/dev/mail").status_code == 404
