"""An SMTP server the test switches between down, deferring (4xx) and accepting.

`refuse()` closes the port (connections are refused, as when the relay is down),
`defer(reply, at=...)` answers every transaction with a 4xx at RCPT TO or after DATA
(the message is then not kept: the client must send it again), and `accept()` keeps
every message in a MailStore, as the other test sinks do. The port stays the same
throughout, so the worker's SMTP_URL does not change.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller

from petitions.mail.catcher import CaughtMessage, MailStore


class _Handler:
    def __init__(self, server: FlakySmtpServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.server.deferral_at("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.server.deferral_at("DATA")
        if reply:
            return reply
        self.server.store.save(envelope.original_content or envelope.content)
        self.server.accepted += 1
        return "250 Message accepted"


class FlakySmtpServer:
    def __init__(self, folder: Path, port: int):
        self.store = MailStore(folder)
        self.port = port
        self.accepted = 0
        # 4xx replies given, by stage ("RCPT", "DATA").
        self.deferred: Counter[str] = Counter()
        self._deferral: tuple[str, str] | None = None  # (stage, reply)
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[CaughtMessage]:
        return self.store.all()

    def refuse(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def defer(self, reply: str = "451 4.3.0 Try again later", at: str = "RCPT") -> None:
        assert at in ("RCPT", "DATA") and reply.startswith("4")
        self._deferral = (at, reply)
        self._listen()

    def accept(self) -> None:
        self._deferral = None
        self._listen()

    def stop(self) -> None:
        self.refuse()

    def deferral_at(self, stage: str) -> str | None:
        if self._deferral is None or self._deferral[0] != stage:
            return None
        self.deferred[stage] += 1
        return self._deferral[1]

    def _listen(self) -> None:
        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
            self._controller.start()
