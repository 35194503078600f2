"""Security headers on every response.

- Content-Security-Policy: scripts, styles, fonts and frames only from this site; no
  inline scripts or event handlers. Style attributes are allowed (style-src-attr), for
  the count's progress bar width; they cannot run script, and img-src keeps url() in
  them to this site.
- Frame protection (X-Frame-Options DENY and frame-ancestors 'none') everywhere except
  views marked with @allow_framing or named in FRAMEABLE_ENDPOINTS (the embed).
- Strict-Transport-Security when BASE_URL is https.
- Referrer-Policy: strict-origin-when-cross-origin, and no-referrer on any page whose
  URL carries a token (a <token> in its route), so the token never leaks in a Referer.
- X-Content-Type-Options: nosniff.

A NUL character in the URL path is refused with 400: PostgreSQL refuses it in any query,
and views look slugs up before they could check (a 500 otherwise). Query strings and
forms are left to the views, which answer a NUL with a 422 naming the field.
Pages take forms, not JSON or files: a JSON body or a file upload sent to anything but
the JSON endpoints is refused with 415 before a form reads it (Flask-WTF would turn JSON
into form data, and a number or a file where text is expected crashes a form's filters).

A view may set its own Content-Security-Policy, X-Frame-Options or Referrer-Policy
(the admin digest preview and the dev mail catcher do); these headers are then left
as the view set them. Emails are not pages: nothing here touches them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, abort, current_app, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-src 'self'",
    "child-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
))
FRAMEABLE_ENDPOINTS = {"embed.petition"}
TOKEN_ENDPOINTS = {"signing.confirm", "newsletter.confirm", "newsletter.preferences"}
HSTS = "max-age=31536000; includeSubDomains"
JSON_BLUEPRINTS = {"api", "webhooks", "partner_api"}
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

View = TypeVar("View", bound=Callable)


def allow_framing(view: View) -> View:
    """Let other sites show this view in an <iframe> (the embeddable petition)."""
    view.allow_framing = True  # type: ignore[attr-defined]
    return view


def _frameable() -> bool:
    if request.endpoint in FRAMEABLE_ENDPOINTS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "allow_framing", False))


def _carries_token() -> bool:
    return request.endpoint in TOKEN_ENDPOINTS or "token" in (request.view_args or {})


def content_security_policy(frameable: bool) -> str:
    return CONTENT_SECURITY_POLICY + ("" if frameable else "; frame-ancestors 'none'")


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    frameable = _frameable()
    headers.setdefault("Content-Security-Policy", content_security_policy(frameable))
    if frameable:
        # A blueprint's blanket DENY must not stop the embed.
        if headers.get("X-Frame-Options") == "DENY":
            del headers["X-Frame-Options"]
    else:
        headers.setdefault("X-Frame-Options", "DENY")
    if _carries_token():
        headers["Referrer-Policy"] = "no-referrer"
    else:
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if current_app.config["BASE_URL"].startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def refuse_malformed_requests() -> None:
    if "\x00" in request.path:
        abort(400)
    if request.method not in BODY_METHODS or request.blueprint in JSON_BLUEPRINTS:
        return
    if request.is_json or request.files:
        abort(415)


def register_security(app: Flask) -> None:
    app.before_request(refuse_malformed_requests)
    app.after_request(add_security_headers)
