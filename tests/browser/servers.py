"""HTTP servers for the browser tests, each on a free loopback port, in a thread.

- LiveServer: the app under test, served by werkzeug's threaded server (one thread per
  request, each with its own app context and database session, as under gunicorn).
- ArticleSite: a news site on another origin, whose article page embeds a petition with
  embed.js, the way an editor pastes the admin's snippet into an article.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """No line per request on stderr (count.js polls every two seconds); errors still log."""

    def log_request(self, code="-", size="-") -> None:
        pass


class LiveServer:
    def __init__(self, app: Flask, port: int):
        self.port = port
        self._server = make_server("127.0.0.1", port, app, threaded=True,
                                   request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def article_html(petitions_url: str, slug: str) -> str:
    """The snippet the admin shows for copying (petitions.api.embed.embed_snippet), in a
    minimal article page."""
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>City council votes tonight</title></head>
<body>
<main>
<h1>City council votes tonight</h1>
<p>The council meets at seven to decide.</p>
<a class="petition" href="{petitions_url}/petitions/{slug}">Sign Our Petition</a>
<script src="{petitions_url}/embed.js" async></script>
<p>More after the vote.</p>
</main>
</body>
</html>
"""


class ArticleSite:
    """Serves one HTML page at every path, from another origin than the app."""

    def __init__(self, port: int, html: str):
        body = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args) -> None:
                pass

        self.port = port
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def url(self) -> str:
        # "localhost", not 127.0.0.1: another site, not only another port, as for a real
        # news site framing the card.
        return f"http://localhost:{self.port}"

    def __enter__(self) -> ArticleSite:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
