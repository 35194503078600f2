"""Fetching a feed over HTTP: conditional GET, a 10-second limit and a 5 MB cap.

Plain urllib rather than feedparser's own fetching, so that one slow or huge feed
cannot stall the worker.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 10.0
USER_AGENT = "petitions-feed-reader/1.0"
ACCEPT = "application/rss+xml, application/atom+xml, application/json;q=0.9, */*;q=0.5"


class FeedError(Exception):
    """The source could not be fetched or read; the message says why, for a person."""


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304 when the validators still match
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def _header(response, name: str, limit: int) -> str | None:
    value = (response.headers.get(name) or "").strip()
    return value if 0 < len(value) <= limit else None


def _read_capped(response, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise FeedError("the feed is larger than 5 MB")
    chunks, size = [], 0
    while chunk := response.read(64 * 1024):
        size += len(chunk)
        if size > MAX_BYTES:
            raise FeedError("the feed is larger than 5 MB")
        if time.monotonic() > deadline:
            raise FeedError(f"the server took longer than {TIMEOUT_SECONDS:g} seconds")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
    """GET `url`, conditionally when validators are given. Raises FeedError."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FeedError("only http:// and https:// URLs can be fetched")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": ACCEPT})
    if etag:
        request.add_header("If-None-Match", etag)
    if last_modified:
        request.add_header("If-Modified-Since", last_modified)
    deadline = time.monotonic() + TIMEOUT_SECONDS
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = _read_capped(response, deadline)
            return Fetched(
                status=200,
                body=body,
                content_type=response.headers.get("Content-Type"),
                etag=_header(response, "ETag", 300),
                last_modified=_header(response, "Last-Modified", 100),
            )
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 304:
            return Fetched(status=304)
        raise FeedError(f"the server answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise FeedError(f"could not connect ({exc.reason})") from None
    except TimeoutError:
        raise FeedError(f"the server took longer than {TIMEOUT_SECONDS:g} seconds") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise FeedError(f"the download failed ({exc.__class__.__name__}: {exc})") from None
