"""Stopping updates by email, at the List-Unsubscribe mailto address.

Update emails name the same mailbox as the newsletter (UNSUBSCRIBE_MAILTO) with the
subject "unsubscribe u<id>-<digest>.<signature>". `flask mail process-unsubscribe`
hands such a message here when it carries an update token (see
petitions/newsletter/mailto.py for the newsletter's own tokens).
"""

from __future__ import annotations

import re

from petitions.mail.mailto import tokens_in_message
from petitions.signing.models import Signature
from petitions.updates.links import TOKEN_PATTERN, read_stop_token
from petitions.updates.routes import stop_updates

TOKEN = re.compile(rf"\b({TOKEN_PATTERN})\b")


def stop_updates_from_message(raw: bytes) -> Signature | None:
    """Stop the updates whose token the message's subject (or, failing that, its text)
    carries. Returns the signature, or None when the message names none we know."""
    for token in tokens_in_message(raw, TOKEN):
        signature = read_stop_token(token)
        if signature is not None:
            stop_updates(signature)
            return signature
    return None
