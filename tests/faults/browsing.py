"""Supporters signing through the real form, timed, each from an address of their own."""

from __future__ import annotations

import ipaddress
import time
import traceback
from dataclasses import dataclass

from flask import Flask

from tests.signing.helpers import inputs

FIRST_ADDRESS = ipaddress.IPv6Address("2001:db8::1")  # documentation prefix: reaches no one


@dataclass(frozen=True)
class Answer:
    email: str
    status: int
    seconds: float
    started_at: float  # time.monotonic() when the request was sent
    retry_after: str | None
    content_type: str
    body: str


class Supporter:
    """One browser: reads the petition's form once (CSRF token and start time), then signs
    as many times as asked, each time with a new email address and client address
    (X-Forwarded-For, behind TRUSTED_PROXIES=1) so that no rate limit is what is tested."""

    def __init__(self, app: Flask, slug: str):
        self.client = app.test_client()
        self.slug = slug
        page = self.client.get(f"/petitions/{slug}")
        assert page.status_code == 200, page.status_code
        fields = inputs(page.get_data(as_text=True))
        self.hidden = {name: fields[name]["value"] for name in ("csrf_token", "form_started")}
        self.form_shown_at = time.monotonic()

    def sign(self, email: str, number: int) -> Answer:
        data = {"name": "Grace Hopper", "email": email, "postcode": "20004", "country": "US",
                **self.hidden}
        client_address = str(FIRST_ADDRESS + number)
        return self.timed(email, lambda: self.client.post(
            f"/petitions/{self.slug}/sign", data=data,
            headers={"X-Forwarded-For": client_address}))

    def get(self, path: str) -> Answer:
        return self.timed("", lambda: self.client.get(path))

    def post(self, path: str) -> Answer:
        """A form with only its CSRF token, such as the confirmation page's button."""
        return self.timed("", lambda: self.client.post(
            path, data={"csrf_token": self.hidden["csrf_token"]}))

    @staticmethod
    def timed(email: str, request) -> Answer:
        """The answer to `request()`, timed. An exception that escaped the app (the test
        client raises it, as TESTING propagates them) is an answer with status 0 and the
        traceback as its body, for the assertions to report."""
        started = time.monotonic()
        try:
            response = request()
        except Exception:
            return Answer(email=email, status=0, seconds=time.monotonic() - started,
                          started_at=started, retry_after=None, content_type="",
                          body=traceback.format_exc())
        return Answer(email=email, status=response.status_code,
                      seconds=time.monotonic() - started, started_at=started,
                      retry_after=response.headers.get("Retry-After"),
                      content_type=response.mimetype or "",
                      body=response.get_data(as_text=True))
