"""The per-petition "stop these updates" link, and the list headers of an update email.

The token names one signature (so one petition) and a short digest of its canonical
address: "u<id>-<digest>.<signature>". It never expires, because it sits in every update
email, however old. It stops working if the signature is deleted. The leading "u" keeps
it apart from the newsletter's manage token ("<id>-<digest>.<signature>"), so the
unsubscribe mailbox can tell the two apart. Everything here works without a request:
URLs are built from BASE_URL and plain paths.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import current_app
from itsdangerous import BadData

from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.tokens import email_digest, signer

SALT = "petition-updates-stop"
MAX_TOKEN_LENGTH = 200
TOKEN_PATTERN = r"u\d{1,12}-[0-9a-f]{12}\.[A-Za-z0-9_\-]{16,100}"
_VALUE = re.compile(r"u(\d{1,12})-([0-9a-f]{12})")


def stop_token(signature_id: int, canonical_email: str) -> str:
    value = f"u{signature_id}-{email_digest(canonical_email)}"
    return signer(SALT).sign(value).decode()


def read_stop_token(token: str) -> Signature | None:
    """The signature a token names, or None when it is overlong, tampered or stale."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    try:
        value = signer(SALT).unsign(token).decode()
    except (BadData, UnicodeDecodeError):
        return None
    match = _VALUE.fullmatch(value)
    if match is None:
        return None
    signature = db.session.get(Signature, int(match.group(1)))
    if signature is None or email_digest(signature.canonical_email) != match.group(2):
        return None
    return signature


def stop_path(token: str) -> str:
    return f"/updates/stop/{token}"


def stop_url(token: str) -> str:
    """GET shows a "Stop updates" button; POST (RFC 8058 one-click) stops them at once."""
    return current_app.config["BASE_URL"] + stop_path(token)


def list_id(petition_id: int, slug: str) -> str:
    """One list per petition, so mail clients group (and unsubscribe) per petition.
    The phrase stays ASCII: an encoded word around the <id> would break it."""
    domain = current_app.config["LIST_ID_DOMAIN"]
    name = f"Updates on {slug}" if slug.isascii() else "Petition updates"
    return f"{name} <{petition_id}.updates.{domain}>"


def update_headers(token: str, petition_id: int, slug: str, automatic: bool) -> dict[str, str]:
    """RFC 2369 / 2919 / 8058 headers. `automatic`: a milestone nobody wrote by hand."""
    mailto = current_app.config["UNSUBSCRIBE_MAILTO"]
    subject = quote(f"unsubscribe {token}")
    headers = {
        "List-Unsubscribe": f"<{stop_url(token)}>, <mailto:{mailto}?subject={subject}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": list_id(petition_id, slug),
        "Precedence": "bulk",
    }
    if automatic:
        headers["Auto-Submitted"] = "auto-generated"
    return headers
