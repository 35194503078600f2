"""The development mail catcher: a local SMTP server that keeps what it receives.

Used when SMTP_URL is unset. Messages are stored as .eml files in the instance
folder, so the web process can show them at /dev/mail while another process
runs this server.
"""

from __future__ import annotations

import email
import email.policy
import os
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class CaughtMessage:
    id: str
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def to(self) -> str:
        return str(self.message.get("To", ""))

    @property
    def date(self) -> str:
        return str(self.message.get("Date", ""))

    def part(self, subtype: str) -> str | None:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else None


class MailStore:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def save(self, raw: bytes) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        message_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        partial = self.folder / f".{message_id}.tmp"
        partial.write_bytes(raw)
        partial.rename(self.folder / f"{message_id}.eml")
        return message_id

    def ids(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted((p.stem for p in self.folder.glob("*.eml")), reverse=True)

    def get(self, message_id: str) -> CaughtMessage | None:
        if not message_id.replace("-", "").isalnum():
            return None
        path = self.folder / f"{message_id}.eml"
        if not path.is_file():
            return None
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        return CaughtMessage(message_id, parsed)

    def all(self) -> list[CaughtMessage]:
        return [m for m in (self.get(i) for i in self.ids()) if m is not None]

    def clear(self) -> None:
        for path in self.folder.glob("*.eml"):
            path.unlink(missing_ok=True)


class _StoringHandler:
    def __init__(self, store: MailStore):
        self.store = store

    async def handle_DATA(self, server, session, envelope):
        self.store.save(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def start_catcher(folder: str, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    controller = Controller(_StoringHandler(MailStore(folder)), hostname=host, port=port)
    controller.start()
    return controller
