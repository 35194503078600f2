"""A real SMTP server for the tests (aiosmtpd), storing through the dev catcher's MailStore."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller

from petitions.mail.catcher import CaughtMessage, MailStore


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        for fragment, reply in self.sink.rules.items():
            if fragment in address:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.sink.store.save(envelope.original_content or envelope.content)
        self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.sink.accepted += 1
        return "250 Message accepted"


class SmtpSink:
    def __init__(self, folder: Path, port: int):
        self.store = MailStore(folder)
        self.port = port
        # Address fragment -> SMTP reply, e.g. {"bounce": "550 5.1.1 No such user"}.
        self.rules: dict[str, str] = {}
        self.accepted = 0
        # (MAIL FROM, RCPT TOs) of each message accepted, in order.
        self.envelopes: list[tuple[str, list[str]]] = []
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        self.store.clear()
        self.accepted = 0
        self.envelopes.clear()

    @property
    def messages(self) -> list[CaughtMessage]:
        return list(reversed(self.store.all()))

    def to(self, address: str) -> list[CaughtMessage]:
        return [m for m in self.messages if m.to == address]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[CaughtMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.1)
        return self.messages


class _SlowHandler:
    """Takes a moment per recipient, so that a send lasts long enough to be killed."""

    def __init__(self, store: MailStore, delay: float):
        self.store, self.delay = store, delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.store.save(envelope.original_content or envelope.content)
        return "250 Message accepted"


@contextmanager
def slow_smtp_sink(folder: Path, delay: float = 0.08) -> Iterator[tuple[MailStore, str]]:
    """A real SMTP server that saves what it accepts, slowly: (its store, its smtp:// URL)."""
    from tests.support.processes import free_port

    store = MailStore(folder)
    controller = Controller(_SlowHandler(store, delay), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield store, f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()
