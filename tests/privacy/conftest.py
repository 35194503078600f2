"""Fixtures for the privacy tests."""

from __future__ import annotations

import pytest
from flask import g, request_started

from petitions.privacy.routes import bp


@pytest.fixture(autouse=True)
def privacy_routes(app):
    """The privacy blueprint, for as long as create_app() does not register it itself."""
    if "privacy" not in app.blueprints:
        handled = app._got_first_request
        app._got_first_request = False  # the session's app has served other tests already
        try:
            app.register_blueprint(bp)
        finally:
            app._got_first_request = handled
    return app


@pytest.fixture(autouse=True)
def fresh_csrf_per_request(app):
    """The test holds one app context open, so `g` would carry one request's CSRF token to
    the next; in production every request has its own."""

    def forget(sender, **extra):
        g.pop("csrf_token", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)
