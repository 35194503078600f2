"""POST /webhooks/bounce: bounces, complaints and deliveries from the mail relay.

Authenticated with `Authorization: Bearer BOUNCE_WEBHOOK_TOKEN`; without that setting
the endpoint does not exist (404). The body is one report or a list of them:
{"email": "...", "type": "hard_bounce" | "complaint" | "soft_bounce" | "delivered",
"detail": "...", "verp": "bounces+<token>@..."}. "verp" (optional: the envelope sender
the relay saw, or the bare token) ties the report to its outbox row, so one message
reported twice counts once towards a soft-bounce streak. The whole body is checked
before anything is stored, so a bad report changes nothing.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request

from petitions.extensions import db
from petitions.mail.bounces import ReportType, apply_report, find_outbox_row
from petitions.mail.verp import token_reader
from petitions.signing.canonical import canonical_email

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

MAX_REPORTS = 500


def _error(status: int, message: str, **headers):
    return jsonify(error=message, status=status), status, headers


def _authorised() -> bool:
    expected = current_app.config["BOUNCE_WEBHOOK_TOKEN"]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )


def _outbox_id(index: int, verp, email: str) -> int | None | str:
    """The outbox row a report's "verp" names, None without one, or what is wrong."""
    if verp is None:
        return None
    if not isinstance(verp, str) or len(verp) > 320:
        return f"report {index}: verp must be the envelope sender we used, or its token"
    outbox_id = token_reader(current_app.config).outbox_id(verp)
    if outbox_id is None:
        return f"report {index}: verp is not a return path of ours"
    row = find_outbox_row(outbox_id)
    if row is not None and canonical_email(row.to_address) != canonical_email(email):
        return f"report {index}: email is not the address that message was sent to"
    return outbox_id


def _parse(body) -> list[tuple[str, ReportType, str | None, int | None]] | str:
    """The reports in the body, or a message saying what is wrong with it."""
    reports = body if isinstance(body, list) else [body]
    if len(reports) > MAX_REPORTS:
        return f"send at most {MAX_REPORTS} reports at a time"
    parsed = []
    for index, report in enumerate(reports):
        if not isinstance(report, dict):
            return f"report {index}: must be an object"
        email, kind, detail = report.get("email"), report.get("type"), report.get("detail")
        if (not isinstance(email, str) or "@" not in email or len(email) > 254
                or any(ord(ch) < 32 or ord(ch) == 127 for ch in email)):
            return f"report {index}: email must be an email address"
        if not isinstance(kind, str) or kind not in {t.value for t in ReportType}:
            return (f"report {index}: type must be hard_bounce, complaint, soft_bounce "
                    "or delivered")
        if detail is not None and not isinstance(detail, str):
            return f"report {index}: detail must be a string"
        outbox_id = _outbox_id(index, report.get("verp"), email.strip())
        if isinstance(outbox_id, str):
            return outbox_id
        parsed.append((email.strip(), ReportType(kind), detail and detail.replace("\x00", ""),
                       outbox_id))
    return parsed


@bp.post("/bounce")
def bounce():
    if not current_app.config.get("BOUNCE_WEBHOOK_TOKEN"):
        return _error(404, "not found")
    if not _authorised():
        return _error(401, "a valid bearer token is required", **{"WWW-Authenticate": "Bearer"})
    body = request.get_json(silent=True)
    if body is None:
        return _error(400, "the body must be JSON")
    reports = _parse(body)
    if isinstance(reports, str):
        return _error(400, reports)
    totals = {"received": len(reports), "suppressed": 0, "already_suppressed": 0,
              "unsubscribed": 0, "ignored": 0}
    for email, kind, detail, outbox_id in reports:
        for key, value in apply_report(email, kind, detail, outbox_id).items():
            totals[key] += value
    db.session.commit()
    return jsonify(totals)
