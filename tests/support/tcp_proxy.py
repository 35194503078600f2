"""A TCP proxy in the test process, to play a database failure between the app and PostgreSQL.

What the app sees when PostgreSQL restarts: every open connection is dropped (`drop()`),
new ones are refused while it starts up (`refuse()`), then it accepts again (`accept()`,
on the same port). `drop_at(b"COMMIT")` drops the connection that sends the next COMMIT
before the server receives it, so a test can fail one transaction exactly at its commit.

The proxy runs an asyncio loop in a daemon thread; every method is called from the test's
thread and waits (bounded) for the loop to have done it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

_Link = tuple[asyncio.StreamWriter, asyncio.StreamWriter]  # (to the client, to the server)


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int, port: int):
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self.dropped_at_marker = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy",
                                         daemon=True)
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._marker: bytes | None = None

    # --- what the test calls ------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self.accept()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self.refuse()
        self.drop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._loop.is_running():
            self._loop.close()

    def accept(self) -> None:
        """Listen (again) on the proxy's port."""
        self._run(self._listen())

    def refuse(self) -> None:
        """Stop listening: new connections are refused. Open ones are left alone."""
        self._run(self._close_listener())

    def drop(self) -> int:
        """Close every open connection at once; returns how many there were."""
        return self._run(self._abort_all())

    def drop_at(self, marker: bytes) -> None:
        """Drop the next connection whose client sends `marker`, without forwarding it."""
        self._run(self._set_marker(marker))

    @property
    def open_connections(self) -> int:
        return len(self._links)

    # --- inside the loop ----------------------------------------------------------------

    def _run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def _close_listener(self) -> None:
        if self._server is not None:
            # Not wait_closed(): from Python 3.12 it also waits for open connections.
            self._server.close()
            self._server = None

    async def _abort_all(self) -> int:
        links = list(self._links)
        for link in links:
            self._abort(link)
        return len(links)

    async def _set_marker(self, marker: bytes) -> None:
        self._marker = marker

    async def _serve(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream), timeout=5)
        except (OSError, TimeoutError):
            client_writer.transport.abort()
            return
        link = (client_writer, server_writer)
        self._links.add(link)
        try:
            await asyncio.gather(self._pipe(client_reader, server_writer, link, upstream=True),
                                 self._pipe(server_reader, client_writer, link, upstream=False))
        finally:
            self._abort(link)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    link: _Link, *, upstream: bool) -> None:
        try:
            while data := await reader.read(65536):
                if upstream and self._marker is not None and self._marker in data:
                    self._marker = None
                    self.dropped_at_marker += 1
                    break
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        # PostgreSQL's protocol never half-closes: one side gone ends the whole link.
        self._abort(link)

    def _abort(self, link: _Link) -> None:
        self._links.discard(link)
        for writer in link:
            writer.transport.abort()
