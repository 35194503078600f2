"""Reading tokens out of mail sent to the List-Unsubscribe mailto address."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator

MAX_MESSAGE_BYTES = 1024 * 1024


def tokens_in_message(raw: bytes, token: re.Pattern) -> Iterator[str]:
    """Every match of `token` in the message's subject, then in its plain text: mail
    clients put our subject back as it was, but some people forward or type it."""
    message = email.message_from_bytes(raw[:MAX_MESSAGE_BYTES], policy=email.policy.default)
    places = [str(message.get("Subject", ""))]
    body = message.get_body(preferencelist=("plain",))
    if body is not None:
        places.append(body.get_content()[:10_000])
    for place in places:
        yield from token.findall(place)
