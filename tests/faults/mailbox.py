"""Reading what an SMTP test server received: how many, and how many copies per recipient."""

from __future__ import annotations

import time
from collections import Counter

from petitions.mail.catcher import CaughtMessage, MailStore


def wait_for_count(store: MailStore, count: int, timeout: float) -> int:
    """Wait (bounded) until the store holds `count` messages; returns how many it holds.
    Counts files only: parsing hundreds of messages on every poll would slow the worker."""
    deadline = time.monotonic() + timeout
    while len(store.ids()) < count and time.monotonic() < deadline:
        time.sleep(0.25)
    return len(store.ids())


def copies_per_recipient(messages: list[CaughtMessage]) -> Counter[str]:
    return Counter(message.to for message in messages)


def message_ids(messages: list[CaughtMessage]) -> list[str]:
    return [str(message.message["Message-ID"]) for message in messages]
