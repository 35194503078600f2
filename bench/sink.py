"""A minimal, fast SMTP sink for benchmarks: accepts everything, stores nothing, counts.

Usage: python bench/sink.py PORT STATS_FILE [RECIPIENTS_FILE]
Every half second it writes {"messages": N, "bytes": N, "connections": N} to STATS_FILE.
With RECIPIENTS_FILE it appends each accepted message's recipients there, one address a
line, written once the message is accepted (so a reconciliation can find duplicates).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

END_OF_DATA = b"\r\n.\r\n"
stats = {"messages": 0, "bytes": 0, "connections": 0}


def _address(line: bytes) -> str:
    """The address in "RCPT TO:<a@b> ..." (without the brackets)."""
    argument = line.split(b":", 1)[1].strip()
    return argument.split(b">", 1)[0].lstrip(b"<").decode("utf-8", "replace")


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                  recipients_log: TextIO | None) -> None:
    stats["connections"] += 1
    writer.write(b"220 bench-sink ESMTP\r\n")
    recipients: list[str] = []
    try:
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-bench-sink\r\n250-8BITMIME\r\n250 PIPELINING\r\n")
            elif verb == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                # The whole body in one read, not line by line: a few hundred messages a
                # second then cost this process little.
                body = await reader.readuntil(END_OF_DATA)
                stats["messages"] += 1
                stats["bytes"] += len(body)
                if recipients_log is not None:
                    recipients_log.write("".join(f"{address}\n" for address in recipients))
                recipients.clear()
                writer.write(b"250 2.0.0 Ok: queued\r\n")
            elif verb == b"RCPT":
                recipients.append(_address(line))
                writer.write(b"250 Ok\r\n")
            elif verb in (b"MAIL", b"RSET"):
                recipients.clear()
                writer.write(b"250 Ok\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 Bye\r\n")
                await writer.drain()
                break
            else:  # NOOP and the rest
                writer.write(b"250 Ok\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def report(path: Path, recipients_log: TextIO | None) -> None:
    while True:
        if recipients_log is not None:
            recipients_log.flush()
        path.write_text(json.dumps(stats))
        await asyncio.sleep(0.5)


async def main(port: int, path: Path, recipients_path: Path | None) -> None:
    recipients_log = open(recipients_path, "a", buffering=1 << 16) if recipients_path else None
    server = await asyncio.start_server(
        lambda reader, writer: session(reader, writer, recipients_log), "127.0.0.1", port,
        limit=1 << 22)  # a message may be a few MB (attachments); readuntil needs room
    async with server:
        await asyncio.gather(server.serve_forever(), report(path, recipients_log))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2]),
                     Path(sys.argv[3]) if len(sys.argv) > 3 else None))
