"""The emails a signer receives. Each helper only adds an outbox row to the transaction."""

from flask import url_for

from petitions.mail import queue_email
from petitions.mail.outbox import absolute_url
from petitions.signing.models import Signature
from petitions.signing.tokens import make_confirmation_token


def _petition_context(signature: Signature) -> dict:
    petition = signature.petition
    return {
        "signature": signature,
        "petition": petition,
        "petition_url": absolute_url(url_for("signing.petition", slug=petition.slug)),
    }


def send_signature_confirmation(signature: Signature) -> None:
    token = make_confirmation_token(signature.id, signature.canonical_email)
    context = _petition_context(signature) | {
        "confirm_url": absolute_url(url_for("signing.confirm", token=token)),
    }
    queue_email("signature_confirmation", signature.email, context, signature_id=signature.id)


def send_already_signed_notice(signature: Signature) -> None:
    queue_email(
        "signature_already_confirmed",
        signature.email,
        _petition_context(signature),
        signature_id=signature.id,
    )
