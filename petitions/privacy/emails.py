"""The one email of the data-rights flow: the link. It only adds an outbox row."""

from __future__ import annotations

from flask import url_for

from petitions.mail import queue_email
from petitions.mail.outbox import absolute_url


def send_privacy_link(address: str, token: str, hours: int) -> None:
    context = {
        "data_url": absolute_url(url_for("privacy.data", token=token)),
        "request_url": absolute_url(url_for("privacy.request_link")),
        "hours": hours,
    }
    # Not linked to any signature or subscriber row: erasing them must not need this
    # email, and sending it must not depend on our holding anything.
    queue_email("privacy_link", address, context)
