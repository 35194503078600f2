"""The sentences people agree to, and the record of each agreement.

Each ConsentRecord keeps the sentence exactly as it was rendered for the person, so
the record still says what they saw after the wording or a category name changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from babel.lists import format_list
from flask import has_request_context, request
from flask_babel import get_locale
from flask_babel import gettext as _

from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter.models import Category
from petitions.newsletter.subscribers import ConsentRecord, Subscriber


class ConsentAction(StrEnum):
    SUBSCRIBE = "subscribe"
    CONFIRM = "confirm"
    CHANGE = "change"
    PAUSE = "pause"
    RESUME = "resume"
    UNSUBSCRIBE = "unsubscribe"


class Source:
    FORM = "subscribe-form"
    PREFERENCE_CENTRE = "preference-centre"
    ONE_CLICK = "one-click"
    UNSUBSCRIBE_PAGE = "unsubscribe-page"
    COMPLAINT = "complaint"
    COMMAND = "command"
    MAILTO = "mailto"

    @staticmethod
    def petition(slug: str) -> str:
        return f"petition:{slug}"


def subscribe_form_text() -> str:
    """Shown next to the Subscribe button, and stored when the form is sent."""
    return _(
        "We'll email you new articles and petitions from the categories you choose, as "
        "often as you choose, once you confirm your address. Every email has a link to "
        "change this or unsubscribe. We never sell or share your address."
    )


def petition_checkbox_text() -> str:
    """The label of the signing form's newsletter box, exactly as the signer saw it."""
    from petitions.signing.forms import SignatureForm

    return str(SignatureForm.subscribe_newsletter.args[0])


def choices_text(categories: Sequence[Category], all_categories: bool, frequency: str) -> str:
    """"Send me a weekly email with new articles and petitions about A and B." """
    if all_categories or not categories:
        if frequency == "daily":
            return _("Send me a daily email with new articles and petitions from every "
                     "category, including new ones.")
        return _("Send me a weekly email with new articles and petitions from every "
                 "category, including new ones.")
    names = format_list([c.name for c in categories], locale=str(get_locale() or "en"))
    if frequency == "daily":
        return _("Send me a daily email with new articles and petitions about %(categories)s.",
                 categories=names)
    return _("Send me a weekly email with new articles and petitions about %(categories)s.",
             categories=names)


def subscriber_choices_text(subscriber: Subscriber) -> str:
    return choices_text(subscriber.categories, subscriber.all_categories, subscriber.frequency)


def pause_text() -> str:
    return _("Pause my emails until I resume them.")


def resume_text() -> str:
    return _("Start sending me my emails again.")


def unsubscribe_text() -> str:
    return _("Stop sending me newsletter emails.")


def one_click_text() -> str:
    return _("Unsubscribed with the one-click unsubscribe link in an email.")


def mailto_text() -> str:
    return _("Unsubscribed by an email to the address in List-Unsubscribe.")


def complaint_text() -> str:
    return _("Reported one of our emails as spam to their email provider.")


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record_consent(
    subscriber: Subscriber,
    action: ConsentAction,
    source: str,
    text: str,
    ip: str | None,
    at=None,
) -> ConsentRecord:
    """Add a record to the current transaction; the caller commits."""
    record = ConsentRecord(
        subscriber=subscriber,
        action=action.value,
        source=source[:120],
        consent_text=text,
        ip_address=(ip or None) and ip[:45],
        created_at=at or utcnow(),
    )
    db.session.add(record)
    return record
