"""Unsubscribe requests that arrive as email, at the List-Unsubscribe mailto address.

Mail clients send a message to UNSUBSCRIBE_MAILTO with the subject we put in the
header ("unsubscribe <token>"). Route that mailbox to `flask mail process-unsubscribe`
(a pipe in the relay's aliases, or a fetch script); it reads one message on stdin.
"""

from __future__ import annotations

import re

from petitions.mail.mailto import tokens_in_message
from petitions.newsletter.consent import Source, mailto_text
from petitions.newsletter.links import read_manage_token
from petitions.newsletter.preferences import unsubscribe
from petitions.newsletter.subscribers import Subscriber

# "<id>-<12 hex>.<signature>", as petitions.newsletter.links.manage_token writes it.
TOKEN = re.compile(r"\b(\d{1,12}-[0-9a-f]{12}\.[A-Za-z0-9_\-]{16,100})\b")


def unsubscribe_from_message(raw: bytes) -> Subscriber | None:
    """Unsubscribe the subscriber whose token the message's subject (or, failing that,
    its text) carries. Returns them, or None when the message names nobody we know."""
    for token in tokens_in_message(raw, TOKEN):
        subscriber = read_manage_token(token)
        if subscriber is not None:
            unsubscribe(subscriber, Source.MAILTO, mailto_text(), None)
            return subscriber
    return None
