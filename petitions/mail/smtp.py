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
            smtp.ehlo_or_helo_if_needed()
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
                if self._can_pipeline(envelope_from, recipient):
                    refused = _pipelined_transaction(self._smtp, envelope_from, recipient, data)
                elif envelope_from.isascii() and recipient.isascii():
                    refused = self._smtp.sendmail(envelope_from, [recipient], data)
                elif self._smtp.has_extn("smtputf8"):
                    # An internationalised address (RFC 6531) needs the server's consent.
                    refused = self._smtp.sendmail(envelope_from, [recipient], data,
                                                  mail_options=["SMTPUTF8"])
                else:
                    raise PermanentFailure("the SMTP server does not accept internationalised "
                                           "addresses (no SMTPUTF8)")
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

    def _can_pipeline(self, envelope_from: str, recipient: str) -> bool:
        return (
            self._smtp.has_extn("pipelining")
            and envelope_from.isascii()
            and recipient.isascii()
        )

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


def _pipelined_transaction(smtp: smtplib.SMTP, envelope_from: str, recipient: str,
                           data: bytes) -> dict:
    """MAIL, RCPT and DATA in one write (RFC 2920), then the message: two round trips
    instead of four. Raises the same exceptions as smtplib's sendmail()."""
    if any(ch in recipient or ch in envelope_from for ch in "\r\n<>"):
        # These go straight into the pipelined commands, past smtplib's own checks.
        raise ValueError("an envelope address contains a line break or angle bracket")
    smtp.send(f"MAIL FROM:<{envelope_from}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
    mail_reply, rcpt_reply, data_reply = smtp.getreply(), smtp.getreply(), smtp.getreply()
    if data_reply[0] == 354 and (mail_reply[0] != 250 or rcpt_reply[0] not in (250, 251)):
        # A server that accepted DATA without a valid envelope would take whatever comes
        # next as a message: hang up instead, and the message is tried again later.
        smtp.close()
        raise smtplib.SMTPServerDisconnected("envelope refused but DATA accepted")
    if mail_reply[0] != 250:
        smtp.rset()
        raise smtplib.SMTPSenderRefused(*mail_reply, envelope_from)
    if rcpt_reply[0] not in (250, 251):
        smtp.rset()
        raise smtplib.SMTPRecipientsRefused({recipient: rcpt_reply})
    if data_reply[0] != 354:
        smtp.rset()
        raise smtplib.SMTPDataError(*data_reply)
    # Dot-stuffing; composed messages start with a header, never with a dot.
    body = data.replace(b"\r\n.", b"\r\n..")
    smtp.send(body + (b".\r\n" if body.endswith(b"\r\n") else b"\r\n.\r\n"))
    code, reply = smtp.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return {}


def failure_for(code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    detail = f"{code} {text}".strip()
    return PermanentFailure(detail) if 500 <= code < 600 else TemporaryFailure(detail, code)
