"""An SMTP server that offers PIPELINING (RFC 2920), for testing the pipelined path.

aiosmtpd does not offer PIPELINING, so this small asyncio server does. It stores what
it accepts in a MailStore, can refuse addresses with given replies, and notes whether
the client really sent RCPT before waiting for the reply to MAIL.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from petitions.mail.catcher import MailStore


class PipeliningSmtpServer:
    def __init__(self, folder: Path, port: int):
        self.store = MailStore(folder)
        self.port = port
        self.rules: dict[str, str] = {}  # address fragment -> reply, for MAIL or RCPT
        self.connections = 0
        self.pipelined_transactions = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._session, "127.0.0.1", self.port), self._loop
        )
        self._server = future.result(5)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _rcpt_reply(self, line: bytes, mail_ok: bool) -> bytes:
        return self._reply_for(line.decode()) if mail_ok else b"503 5.5.1 Need MAIL first\r\n"

    def _reply_for(self, address: str) -> bytes:
        for fragment, reply in self.rules.items():
            if fragment in address:
                return reply.encode() + b"\r\n"
        return b"250 OK\r\n"

    async def _session(self, reader, writer) -> None:
        self.connections += 1
        writer.write(b"220 test ESMTP\r\n")
        valid_recipients, mail_ok = 0, False
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                await writer.drain()
            elif verb == b"MAIL":
                valid_recipients = 0
                mail_ok = self._reply_for(line.decode()).startswith(b"25")
                # A pipelining client has sent RCPT already, without waiting for us.
                try:
                    rcpt = await asyncio.wait_for(reader.readline(), 0.2)
                except TimeoutError:
                    rcpt = None
                writer.write(self._reply_for(line.decode()))
                if rcpt is not None:
                    self.pipelined_transactions += 1
                    reply = self._rcpt_reply(rcpt, mail_ok)
                    valid_recipients += reply.startswith(b"25")
                    writer.write(reply)
                await writer.drain()
            elif verb == b"RCPT":
                reply = self._rcpt_reply(line, mail_ok)
                valid_recipients += reply.startswith(b"25")
                writer.write(reply)
                await writer.drain()
            elif verb == b"DATA":
                if not valid_recipients:
                    writer.write(b"554 5.5.1 No valid recipients\r\n")
                    await writer.drain()
                    continue
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                lines = []
                while (data_line := await reader.readline()) != b".\r\n":
                    lines.append(data_line[1:] if data_line.startswith(b"..") else data_line)
                self.store.save(b"".join(lines))
                writer.write(b"250 2.0.0 queued\r\n")
                await writer.drain()
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:  # RSET, NOOP
                writer.write(b"250 OK\r\n")
                await writer.drain()
        writer.close()
