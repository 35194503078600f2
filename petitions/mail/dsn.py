"""Reading bounce and complaint reports that arrive as email, with the stdlib email package.

Two formats: delivery status notifications (RFC 3464: multipart/report;
report-type=delivery-status) and ARF complaints (RFC 5965: report-type=feedback-report).
Each becomes one Report per recipient, with what it takes to find our message again:
where a VERP token may be (the addresses it was delivered to, the original envelope
sender) and the original Message-ID from the returned headers.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser

from petitions.mail.bounces import ReportType

MAX_MESSAGE_BYTES = 2 * 1024 * 1024
STATUS = re.compile(r"([245])\.\d{1,3}\.\d{1,3}")
# Feedback types that mean "this is unwanted mail"; virus or not-spam reports are not.
COMPLAINT_TYPES = {"abuse", "fraud"}
# Headers of the report itself that may carry the VERP address it was sent to.
DELIVERY_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")


class ReportError(ValueError):
    """The input is not a report we can act on; the message says why, in one line."""


@dataclass(frozen=True)
class Report:
    type: ReportType
    recipient: str | None  # as the report names it; may be missing or redacted in ARF
    status: str | None  # the RFC 3463 status code, e.g. "5.1.1"
    detail: str
    message_id: str | None  # the Message-ID of the message that bounced
    return_paths: tuple[str, ...] = field(default=())  # texts that may hold a VERP token


def _address(value: str | None) -> str | None:
    """"rfc822; ana@example.net" or "<ana@example.net>" -> "ana@example.net"."""
    if not value:
        return None
    kind, _, address = str(value).partition(";")
    if not address:
        address = kind
    elif kind.strip().lower() not in ("rfc822", "utf-8"):
        return None
    address = address.strip().strip("<>").strip()
    return address if "@" in address and " " not in address else None


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    return [HeaderParser(policy=email.policy.default).parsestr(chunk.strip() + "\n")
            for chunk in re.split(r"\r?\n\r?\n", text) if chunk.strip()]


def _returned_headers(report: Message) -> Message | None:
    """The original message's headers, from a text/rfc822-headers or message/rfc822 part."""
    for part in report.iter_parts():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                return payload[0]
        elif kind in ("text/rfc822-headers", "message/rfc822-headers",
                      "text/global-headers"):
            return HeaderParser(policy=email.policy.default).parsestr(part.get_content())
    return None


def _parse(raw: bytes) -> Message:
    if not raw.strip():
        raise ReportError("the input is empty")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ReportError(f"the message is larger than {MAX_MESSAGE_BYTES // 1024} KiB")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # the email package's failures have no common base
        raise ReportError(f"not a readable email message ({type(exc).__name__})") from None
    if message.get_content_type() != "multipart/report":
        raise ReportError(f"not a bounce or complaint report: the message is "
                          f"{message.get_content_type()}, not multipart/report")
    return message


def read_reports(raw: bytes, envelope_recipient: str | None = None) -> list[Report]:
    """Every recipient the report speaks of, or ReportError."""
    message = _parse(raw)
    report_type = (message.get_param("report-type") or "").lower()
    original = _returned_headers(message)
    message_id = None
    if original is not None:
        message_id = str(original.get("Message-ID", "")).strip() or None
    paths = [envelope_recipient or ""]
    paths += [str(value) for name in DELIVERY_HEADERS for value in message.get_all(name, [])]
    if original is not None:
        paths += [str(original.get("Return-Path", ""))]
    wanted = {"delivery-status": "message/delivery-status",
              "feedback-report": "message/feedback-report"}.get(report_type)
    if wanted is None:
        raise ReportError(f"report-type {report_type or '(none)'!r} is neither "
                          "delivery-status (RFC 3464) nor feedback-report (RFC 5965)")
    part = next((p for p in message.iter_parts() if p.get_content_type() == wanted), None)
    if part is None:
        raise ReportError(f"the report has no {wanted} part")
    blocks = _blocks(part)
    if report_type == "feedback-report":
        return [_complaint(blocks, original, message_id, paths)]
    return _delivery_status(blocks, original, message_id, paths)


def _delivery_status(blocks, original, message_id, paths) -> list[Report]:
    recipients = [block for block in blocks[1:] if block.get("Action")]
    if not recipients:
        raise ReportError("the delivery-status part names no recipient (no Action field)")
    reports = []
    for block in recipients:
        action = str(block.get("Action", "")).strip().lower()
        status_text = str(block.get("Status", "")).strip()
        status = STATUS.match(status_text)
        recipient = (_address(block.get("Original-Recipient"))
                     or _address(block.get("Final-Recipient")))
        if action in ("delivered", "relayed", "expanded"):
            kind = ReportType.DELIVERED
        elif action == "delayed":
            kind = ReportType.SOFT_BOUNCE
        elif action == "failed":
            if status is None:
                raise ReportError(f"Action: failed without a Status code like 5.1.1 ({status_text!r})")
            kind = ReportType.HARD_BOUNCE if status.group(1) == "5" else ReportType.SOFT_BOUNCE
        else:
            raise ReportError(f"unknown Action {action!r} (RFC 3464: failed, delayed, "
                              "delivered, relayed or expanded)")
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
        detail = f"{action} {status.group(0) if status else ''} {diagnostic}".strip()
        reports.append(Report(kind, recipient, status.group(0) if status else None,
                              detail[:500], message_id, tuple(paths)))
    return reports


def _complaint(blocks, original, message_id, paths) -> Report:
    fields = blocks[0] if blocks else None
    if fields is None or not fields.get("Feedback-Type"):
        raise ReportError("the feedback-report part has no Feedback-Type")
    feedback = str(fields["Feedback-Type"]).strip().lower()
    if feedback not in COMPLAINT_TYPES:
        raise ReportError(f"Feedback-Type {feedback!r} is not a complaint; nothing to do")
    recipient = _address(fields.get("Original-Rcpt-To"))
    if recipient is None and original is not None:
        recipient = _address(str(original.get("To", "")))
    agent = " ".join(str(fields.get("User-Agent", "")).split())
    paths = [*paths, str(fields.get("Original-Mail-From", ""))]
    return Report(ReportType.COMPLAINT, recipient, None,
                  f"complaint ({feedback}) {agent}".strip()[:500], message_id, tuple(paths))
