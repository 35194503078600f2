"""HTTP caching and CORS for the public read API.

Every read endpoint is public data: any site may fetch it (Access-Control-Allow-Origin: *,
never with credentials), and shared caches may keep it briefly and serve it stale while
they revalidate or when the service is down. A conditional GET whose ETag still matches
gets a 304 with no body, so pollers (count.json on every article page) cost almost nothing.
"""

from __future__ import annotations

from flask import Response, request

# Served stale while a cache refetches in the background, and when this service errors.
STALE_WHILE_REVALIDATE = 30
STALE_IF_ERROR = 86400
# Lists, feeds and the CSV change when petitions open or close, not every count fold.
LIST_MAX_AGE = 60

# Endpoints (blueprint.view) that answer any origin, including their OPTIONS preflight.
CORS_ENDPOINTS = {
    "public_api.petition",
    "public_api.petitions",
    "public_api.categories",
    "public_api.petitions_csv",
    "signing.count",
    "feeds.petitions",
    "feeds.category_petitions",
}
ALLOWED_METHODS = "GET, HEAD, OPTIONS"
ALLOWED_HEADERS = "Accept, Accept-Language, Cache-Control, If-None-Match, If-Modified-Since"
EXPOSED_HEADERS = "ETag, Link, Cache-Control"
PREFLIGHT_MAX_AGE = 86400


def public_cache(response: Response, max_age: int) -> Response:
    response.headers["Cache-Control"] = (
        f"public, max-age={max(0, int(max_age))}, "
        f"stale-while-revalidate={STALE_WHILE_REVALIDATE}, stale-if-error={STALE_IF_ERROR}"
    )
    return response


def conditional(response: Response, etag: str | None = None, weak: bool = False) -> Response:
    """Set the ETag (given, or a hash of the body) and answer If-None-Match with a 304."""
    if etag is None:
        response.add_etag(weak=weak)
    else:
        response.set_etag(etag, weak=weak)
    response.make_conditional(request)
    if response.status_code == 304:
        # No body, and nothing that described one.
        response.set_data(b"")
        response.headers.pop("Content-Length", None)
        response.headers.pop("Content-Type", None)
    return response


def cacheable(response: Response, max_age: int, etag: str | None = None,
              weak: bool = False) -> Response:
    return conditional(public_cache(response, max_age), etag, weak)


def add_cors_headers(response: Response) -> Response:
    """An after_app_request hook: CORS on the read endpoints only."""
    if request.endpoint not in CORS_ENDPOINTS:
        return response
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response
