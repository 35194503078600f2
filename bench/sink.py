"""A minimal, fast SMTP sink for benchmarks: accepts everything, stores nothing, counts.

Usage: python bench/sink.py PORT STATS_FILE
Every half second it writes {"messages": N, "bytes": N} to STATS_FILE.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

stats = {"messages": 0, "bytes": 0, "connections": 0}


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    stats["connections"] += 1
    writer.write(b"220 bench-sink ESMTP\r\n")
    in_data = False
    size = 0
    try:
        while line := await reader.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    stats["messages"] += 1
                    stats["bytes"] += size
                    writer.write(b"250 2.0.0 Ok: queued\r\n")
                else:
                    size += len(line)
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-bench-sink\r\n250-8BITMIME\r\n250 PIPELINING\r\n")
            elif verb == b"DATA":
                in_data, size = True, 0
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 Bye\r\n")
                await writer.drain()
                break
            else:  # MAIL, RCPT, RSET, NOOP
                writer.write(b"250 Ok\r\n")
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def report(path: Path) -> None:
    while True:
        path.write_text(json.dumps(stats))
        await asyncio.sleep(0.5)


async def main(port: int, path: Path) -> None:
    server = await asyncio.start_server(session, "127.0.0.1", port)
    async with server:
        await asyncio.gather(server.serve_forever(), report(path))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2])))
