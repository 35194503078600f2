"""The emails a signer receives. Each helper only adds an outbox row to the transaction.

The confirmation is rendered by the worker as it sends (petitions/signing/email_render.py):
the request that signs stores the address, the subject, the time its link is made and
the signer's language, and nothing else, so signing costs the same however many
supporters arrive at once. Every email goes out in the language stored with the
signature, with the petition's text in that language when it has a translation.
"""

import time

from flask import render_template, url_for
from flask_babel import force_locale

from petitions.mail import queue_email
from petitions.mail.outbox import absolute_url
from petitions.mail.rendering import queue_deferred
from petitions.signing.models import Petition, Signature
from petitions.signing.translations import LocalizedPetition

CONFIRMATION = "signature_confirmation"


def _petition_context(signature: Signature) -> dict:
    petition = signature.petition
    return {
        "signature": signature,
        "petition": LocalizedPetition(petition, signature.locale),
        "petition_url": absolute_url(url_for("signing.petition", slug=petition.slug)),
    }


def confirmation_subject(petition: Petition, locale: str) -> str:
    with force_locale(locale):
        return render_template(f"email/{CONFIRMATION}/subject.txt",
                               petition=LocalizedPetition(petition, locale)).strip()


def queue_confirmation(signature_id: int, to: str, subject: str, locale: str) -> None:
    """The confirmation email's outbox row; its link is made as of now (the payload keeps
    the second), whenever the worker renders it, in `locale`."""
    queue_deferred(CONFIRMATION, to, subject,
                   {"issued_at": int(time.time()), "locale": locale},
                   headers={"Auto-Submitted": "auto-generated"}, signature_id=signature_id)


def send_signature_confirmation(signature: Signature) -> None:
    locale = signature.locale or "en"
    queue_confirmation(signature.id, signature.email,
                       confirmation_subject(signature.petition, locale), locale)


def send_already_signed_notice(signature: Signature) -> None:
    queue_email(
        "signature_already_confirmed",
        signature.email,
        _petition_context(signature),
        locale=signature.locale or "en",
        signature_id=signature.id,
    )
