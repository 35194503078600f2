"""One SMTP session, reused for a batch, that classifies every failure as temporary or permanent."""

from __future__ import annotations

import smtplib
import ssl

from petitions.config import SmtpSettings

# Replies that mean "slow down" rather than "this message is bad".
THROTTLING_CODES = {421, 450, 451, 452, 454}


class TemporaryFailure(Exception):
    """Try again later: a 4xx reply, a dropped connection, a server that is not there."""

    def __init__(self, detail: str, code: int | None = None):
        super().__init__(detail)
        self.code = code

    @property
    def throttled(self) -> bool:
        return self.code in THROTTLING_CODES


class PermanentFailure(Exception):
    """The server refused this message for good (a 5xx reply)."""


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

    def send(self, data: bytes, envelope_from: str, recipient: str) -> None:
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                refused = self._smtp.sendmail(envelope_from, [recipient], data)
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise TemporaryFailure(f"SMTP server disconnected: {exc}") from exc
                continue
            except smtplib.SMTPSenderRefused as exc:
                # The server refuses us (credentials, sender domain), not this recipient:
                # failing the message for good would fail every message. Retry the batch later.
                self.close()
                detail = failure_for(exc.smtp_code, exc.smtp_error)
                raise TemporaryFailure(f"sender refused: {detail}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                raise failure_for(code, reply) from exc
            except smtplib.SMTPResponseException as exc:
                raise failure_for(exc.smtp_code, exc.smtp_error) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise TemporaryFailure(f"SMTP error: {exc}") from exc
            if refused:
                code, reply = next(iter(refused.values()))
                raise failure_for(code, reply)
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


def failure_for(code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    detail = f"{code} {text}".strip()
    return PermanentFailure(detail) if 500 <= code < 600 else TemporaryFailure(detail, code)
