"""A real HTTP server on 127.0.0.1 serving one feed, with ETag, Last-Modified and 304s."""

from __future__ import annotations

import hashlib
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FeedServer:
    def __init__(self):
        self.body = b""
        self.etag: str | None = None
        self.last_modified: str | None = None
        self.status = 200
        self.delay = 0.0
        self.content_type = "application/rss+xml; charset=utf-8"
        self.seen: list[dict[str, str]] = []  # request headers, one dict per request
        self.answered: list[int] = []
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/feed.xml"

    def publish(self, body: bytes) -> None:
        self.body = body
        self.etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
        self.last_modified = formatdate(time.time(), usegmt=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop, and wait for requests in flight, so none outlives its test."""
        self._httpd.shutdown()
        self._httpd.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def handle_error(self, request, client_address) -> None:
        # The poller hangs up on purpose (timeouts, size cap); that is not worth a traceback.
        pass


def _handler(feed: FeedServer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            feed.seen.append(dict(self.headers))
            time.sleep(feed.delay)
            if feed.status != 200:
                return self._answer(feed.status)
            if_none_match = self.headers.get("If-None-Match")
            if (if_none_match and if_none_match == feed.etag) or (
                    not if_none_match and self.headers.get("If-Modified-Since") == feed.last_modified):
                return self._answer(304)
            self._answer(200, feed.body)

        def _answer(self, status: int, body: bytes = b"") -> None:
            feed.answered.append(status)
            self.send_response(status)
            if feed.etag:
                self.send_header("ETag", feed.etag)
                self.send_header("Last-Modified", feed.last_modified)
            if status == 200:
                self.send_header("Content-Type", feed.content_type)
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return Handler
