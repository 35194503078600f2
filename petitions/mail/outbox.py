"""Writing outbox rows, and nudging the worker once they are committed."""

from __future__ import annotations

import logging
import secrets
from contextlib import nullcontext
from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import current_app, has_app_context, render_template
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from petitions.extensions import db
from petitions.mail.mime import HEADER_NAME, UNSAFE_IN_HEADER, header_value
from petitions.mail.models import OutboxMessage
from petitions.mail.render import inline_css

log = logging.getLogger(__name__)
NUDGE_FLAG = "outbox_nudge"


def absolute_url(path: str) -> str:
    return current_app.config["BASE_URL"] + path


def new_message_id(domain: str) -> str:
    """A unique Message-ID. make_msgid's own randomness comes from the `random` module,
    which anything may seed (Hypothesis does, per example): the secrets part keeps ids
    unique (the column is) whatever the state of `random`."""
    return make_msgid(idstring=secrets.token_hex(8), domain=domain)


def safe_recipient(to: str) -> str:
    """The address, or ValueError if it could break out of a header or an SMTP command.

    Forms validate addresses long before this; this is the last line, so a bad one can
    never be written to the outbox (the worker puts it in "To:" and in "RCPT TO:<...>").
    """
    if not to or UNSAFE_IN_HEADER.search(to) or any(c in to for c in " <>,;"):
        raise ValueError(f"not a single email address: {to!r}")
    return to


def safe_headers(headers: dict[str, str] | None) -> dict[str, str]:
    """Extra headers with checked names and one-line values."""
    clean = {}
    for name, value in (headers or {}).items():
        if not HEADER_NAME.fullmatch(name):
            raise ValueError(f"not a valid email header name: {name!r}")
        clean[name] = header_value(value)
    return clean


def queue_email(
    kind: str, to: str, context: dict, headers: dict[str, str] | None = None,
    locale: str | None = None, **links
) -> OutboxMessage:
    """Render templates/email/<kind>/ and add an outbox row to the current transaction.

    `locale` is the recipient's language (the one stored with their signature or
    subscription); without it, the current request's. The caller commits; the worker is
    nudged only after that commit succeeds.
    """
    context = {**context, "base_url": current_app.config["BASE_URL"]}
    with force_locale(locale) if locale else nullcontext():
        subject = render_template(f"email/{kind}/subject.txt", **context).strip()
        text_body = render_template(f"email/{kind}/body.txt", **context)
        html_body = inline_css(render_template(f"email/{kind}/body.html", subject=subject,
                                               **context))
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    message = OutboxMessage(
        kind=kind,
        to_address=safe_recipient(to),
        subject=header_value(subject),
        text_body=text_body,
        html_body=html_body,
        headers={"Auto-Submitted": "auto-generated", **safe_headers(headers)},
        message_id=new_message_id(domain),
        **links,
    )
    db.session.add(message)
    db.session.info[NUDGE_FLAG] = True
    return message


def nudge_worker() -> bool:
    """Ask a worker to deliver due mail now. Failure is harmless: the sweeper catches up.

    Through this app's own Celery app (and so its broker and queue): the module-level task
    resolves to whichever Celery app was created last in the process. Quick to give up
    (petitions.celery.QuickPublisher): a request never waits on a broker that is down.
    """
    from petitions.celery import BrokerPaused, BrokerUnavailable
    from petitions.mail.tasks import deliver_outbox

    try:
        current_app.extensions["quick_publisher"].send(deliver_outbox.name)
    except BrokerPaused:  # the row is safe; the failure moments ago was logged
        return False
    except BrokerUnavailable as exc:  # the row is safe in the outbox
        log.warning("outbox nudge not sent (%s); the periodic sweep will deliver", exc)
        return False
    return True


@event.listens_for(Session, "after_commit")
def _nudge_after_commit(session: Session) -> None:
    if not session.info.pop(NUDGE_FLAG, False) or not has_app_context():
        return
    if current_app.config.get("OUTBOX_NUDGE", True):
        nudge_worker()


@event.listens_for(Session, "after_soft_rollback")
def _forget_nudge(session: Session, _previous_transaction) -> None:
    session.info.pop(NUDGE_FLAG, None)
