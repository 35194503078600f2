"""Every error is a friendly page (or JSON under .json / API paths), never a traceback."""

from __future__ import annotations

import logging
import time

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sqlalchemy_errors
from werkzeug.exceptions import Gone, HTTPException, InternalServerError

from petitions.extensions import db

log = logging.getLogger(__name__)

# The database could not be reached or lost the connection (PostgreSQL restarting, a
# dropped or killed connection, a full pool): nothing is wrong with the request, so it
# is a 503 the client may repeat, never a 500.
DATABASE_UNAVAILABLE = (
    sqlalchemy_errors.OperationalError,
    sqlalchemy_errors.InterfaceError,
    sqlalchemy_errors.DisconnectionError,
    sqlalchemy_errors.TimeoutError,
)
DATABASE_RETRY_AFTER_SECONDS = 5


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Something was wrong with that request"), _("Please go back and try again.")),
        404: (
            _("Page not found"),
            _("We couldn't find that page. The link may be mistyped or out of date."),
        ),
        405: (_("Not allowed"), _("That page can't be used this way.")),
        410: (_("This is no longer available"), _("The page you asked for has been removed.")),
        413: (
            _("That was too much to send"),
            _("The form you sent was too large. Please shorten it and try again."),
        ),
        429: (_("Too many requests"), _("Please wait a little and try again.")),
        500: (
            _("Sorry, something went wrong"),
            _("We've been told about it. Please try again in a few minutes."),
        ),
        503: (
            _("Sorry, we're busy for a moment"),
            _("Please try again in a few seconds. If you were signing a petition, just sign "
              "again: you will not be counted twice."),
        ),
    }


def _wants_json() -> bool:
    return request.path.endswith(".json") or request.path.startswith("/api/")


def render_error(status: int, title: str | None = None, detail: str | None = None):
    default_title, default_detail = _messages().get(status, _messages()[400])
    title, detail = title or default_title, detail or default_detail
    if _wants_json():
        return jsonify(error=title, detail=detail, status=status), status
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def retry_after_seconds() -> int:
    """Seconds until the rate limit that refused this request lets it through again."""
    try:
        from petitions.extensions import limiter

        current = limiter.current_limit
        if current is not None:
            return max(1, int(current.reset_at - time.time()))
    except Exception:  # noqa: BLE001  (no limiter, or its storage is down: a safe guess)
        pass
    return 60


def too_many_requests():
    """A rate limit's 429: the friendly page (or JSON), with Retry-After."""
    seconds = retry_after_seconds()
    minutes = max(1, (seconds + 59) // 60)
    detail = ngettext("Please wait %(num)d minute and try again.",
                      "Please wait %(num)d minutes and try again.", minutes)
    response = make_response(*render_error(429, detail=detail))
    response.headers["Retry-After"] = str(seconds)
    return response


def database_unavailable(error: Exception):
    """A 503 with Retry-After, the friendly page (or JSON), and one line in the log.

    The session is rolled back first: whatever the request wrote was not committed (a
    failed COMMIT raises here too, so it can never be answered with success), and the
    next request on this thread must not inherit a broken transaction.
    """
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the connection is gone; the session is reset anyway)
        pass
    log.warning("database unavailable on %s %s: %s: %s", request.method, request.path,
                type(error).__name__, _first_line(error))
    try:
        response = make_response(*render_error(503))
    except Exception:  # noqa: BLE001  (rendering needed the database too: say it plainly)
        response = make_response("Sorry, we're busy for a moment. Please try again.", 503)
        response.mimetype = "text/plain"
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def end_session_quietly(_error: BaseException | None = None) -> None:
    """Close the request's session. Closing rolls back a transaction still open (every
    page that only read has one), which needs the database: if the connection was lost
    since, the answer already made must stand, not turn into a 500 as the request ends.
    (Registered after Flask-SQLAlchemy, so it runs first; its own close then finds the
    session closed.)"""
    try:
        db.session.remove()
    except DATABASE_UNAVAILABLE as exc:
        log.warning("database connection lost as a request ended: %s", _first_line(exc))
        db.session.remove()  # the connection is invalidated by now: this closes cleanly


def _first_line(error: BaseException) -> str:
    """The driver's message without SQLAlchemy's statement and link: one line for the log."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def register_errorhandlers(app: Flask) -> None:
    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)
    app.teardown_appcontext(end_session_quietly)

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_error(
            400,
            _("Your form expired"),
            _("For your security, forms expire. Please go back, reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and error.code < 400:
            return error
        if error.code == 429:
            return too_many_requests()
        if error.code == 410 and error.description and error.description != Gone.description:
            # A removed petition: say why, as the admin wrote it.
            return render_error(410, _("This petition has been removed"), error.description)
        return render_error(error.code or 500)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        log.error("unhandled error on %s %s", request.method, request.path,
                  exc_info=error.original_exception)
        return render_error(500)
