"""Sending due outbox rows over one reused SMTP connection.

Each row is claimed (pending -> sending) in its own committed statement before any
SMTP traffic, so two workers never send the same row. A row is marked sent right
after the server accepts it. If a worker dies in the short window between the
server's "250 OK" and that commit, the row stays "sending"; after SENDING_TIMEOUT it
is put back to pending and sent again with the same Message-ID, which lets receivers
drop the duplicate. Losing mail is worse than that rare duplicate.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app
from sqlalchemy import select, update

from petitions.config import SmtpSettings
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail.models import OutboxMessage, OutboxState

log = logging.getLogger(__name__)

BATCH_SIZE = 100
MAX_ATTEMPTS = 12
SENDING_TIMEOUT = timedelta(minutes=10)


class TemporaryFailure(Exception):
    """Try again later: a 4xx reply, a dropped connection, a server that is not there."""


class PermanentFailure(Exception):
    """The server refused this message for good (a 5xx reply)."""


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at 2 hours: about a day of retries in all."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 7200))


def build_message(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.text_body, cte="quoted-printable")
    message.add_alternative(row.html_body, subtype="html", cte="quoted-printable")
    return message


class SmtpConnection:
    """One SMTP session reused for a batch; reconnects once if the server hung up."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.implicit_tls:
                smtp = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryFailure(f"SMTP login refused: {exc.smtp_code}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot reach SMTP server {s.host}:{s.port}: {exc}") from exc
        return smtp

    def send(self, message: EmailMessage) -> None:
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                refused = self._smtp.send_message(message)
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise TemporaryFailure(f"SMTP server disconnected: {exc}") from exc
                continue
            except smtplib.SMTPSenderRefused as exc:
                # The server refuses us (credentials, sender domain), not this recipient:
                # failing the message for good would fail every message. Retry the batch later.
                self.close()
                detail = _failure_for(exc.smtp_code, exc.smtp_error)
                raise TemporaryFailure(f"sender refused: {detail}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                raise _failure_for(code, reply) from exc
            except smtplib.SMTPResponseException as exc:
                raise _failure_for(exc.smtp_code, exc.smtp_error) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise TemporaryFailure(f"SMTP error: {exc}") from exc
            if refused:
                code, reply = next(iter(refused.values()))
                raise _failure_for(code, reply)
            return

    @property
    def connected(self) -> bool:
        return self._smtp is not None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


def _failure_for(code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    detail = f"{code} {text}".strip()
    return PermanentFailure(detail) if 500 <= code < 600 else TemporaryFailure(detail)


def release_stale_claims() -> int:
    """Put rows whose worker died mid-send back in the queue."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.SENDING)
        .where(OutboxMessage.claimed_at < utcnow() - SENDING_TIMEOUT)
        .values(state=OutboxState.PENDING, claimed_at=None)
    )
    db.session.commit()
    return result.rowcount or 0


def claim_due(limit: int = BATCH_SIZE) -> list[int]:
    now = utcnow()
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == OutboxState.PENDING)
        .where(OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    # The state test is repeated in the UPDATE itself: a row another worker claimed
    # between the SELECT and here no longer matches, so it is claimed exactly once.
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .where(OutboxMessage.state == OutboxState.PENDING)
        .values(state=OutboxState.SENDING, claimed_at=now)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    ids = sorted(result.scalars())
    db.session.commit()
    return ids


def _record(row: OutboxMessage, error: Exception | None) -> None:
    now = utcnow()
    row.claimed_at = None
    if error is None:
        row.state, row.sent_at, row.last_error = OutboxState.SENT, now, None
    elif isinstance(error, PermanentFailure) or row.attempts + 1 >= MAX_ATTEMPTS:
        row.attempts += 1
        row.state, row.last_error = OutboxState.FAILED, str(error)[:2000]
    else:
        row.attempts += 1
        row.state, row.last_error = OutboxState.PENDING, str(error)[:2000]
        row.next_attempt_at = now + retry_delay(row.attempts)
    db.session.commit()


def deliver_due(max_batches: int = 50) -> dict[str, int]:
    """Send what is due, batch by batch, until nothing is due or the budget is spent."""
    totals = {"sent": 0, "retry": 0, "failed": 0}
    connection = SmtpConnection(current_app.config["SMTP"])
    sender = current_app.config["MAIL_FROM"]
    try:
        for _ in range(max_batches):
            ids = claim_due()
            if not ids:
                break
            for row_id in ids:
                row = db.session.get(OutboxMessage, row_id)
                try:
                    connection.send(build_message(row, sender))
                except (TemporaryFailure, PermanentFailure) as exc:
                    _record(row, exc)
                    permanent = row.state == OutboxState.FAILED
                    totals["failed" if permanent else "retry"] += 1
                    log.warning("outbox %s to %s: %s", row.id, row.kind, exc)
                    if isinstance(exc, TemporaryFailure) and not connection.connected:
                        _release_unsent(ids[ids.index(row_id) + 1 :], exc)
                        return totals
                else:
                    _record(row, None)
                    totals["sent"] += 1
    finally:
        connection.close()
    return totals


def _release_unsent(ids: list[int], reason: Exception) -> None:
    """The server is unreachable: give the rest of the batch back without an attempt."""
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .where(OutboxMessage.state == OutboxState.SENDING)
            .values(
                state=OutboxState.PENDING,
                claimed_at=None,
                next_attempt_at=utcnow() + timedelta(seconds=30),
                last_error=str(reason)[:2000],
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
