"""The optional CAPTCHA hook: off by default; hCaptcha and Turnstile verified through
their siteverify endpoints (a fake fetch here), Altcha verified locally."""

from __future__ import annotations

import base64
import json
import time

import pytest

from petitions.abuse import captcha
from tests.abuse.helpers import sign, stored
from tests.factories import PetitionFactory

SECRET = "altcha-test-secret"


class FakeSiteverify:
    def __init__(self, answer=None, error: Exception | None = None):
        self.answer, self.error, self.calls = answer, error, []

    def __call__(self, url, fields):
        self.calls.append((url, fields))
        if self.error:
            raise self.error
        return self.answer


def test_off_by_default_everything_passes_and_no_widget(app):
    assert captcha.enabled() is False
    assert captcha.verify(None, "192.0.2.1") is True
    assert str(captcha.widget()) == ""


@pytest.mark.parametrize(("name", "url"), [
    ("hcaptcha", "https://api.hcaptcha.com/siteverify"),
    ("turnstile", "https://challenges.cloudflare.com/turnstile/v0/siteverify"),
])
def test_siteverify_providers(app, name, url):
    app.config.update(CAPTCHA_PROVIDER=name, CAPTCHA_SITE_KEY="site-key", CAPTCHA_SECRET="s3cret")
    fake = FakeSiteverify({"success": True})
    assert captcha.verify("token-123", "192.0.2.1", fetch=fake) is True
    [(called, fields)] = fake.calls
    assert called == url
    assert fields["secret"] == "s3cret" and fields["response"] == "token-123"
    assert fields["remoteip"] == "192.0.2.1"
    assert captcha.verify("token", None, fetch=FakeSiteverify({"success": False})) is False
    assert captcha.verify("token", None, fetch=FakeSiteverify({"success": "yes"})) is False
    assert captcha.verify("token", None, fetch=FakeSiteverify(["odd"])) is False
    assert captcha.verify("", None, fetch=fake) is False  # no token: the provider is not asked
    assert len(fake.calls) == 1
    with pytest.raises(captcha.CaptchaUnavailable):
        captcha.verify("token", None, fetch=FakeSiteverify(error=TimeoutError("slow")))
    markup = str(captcha.widget())
    assert 'data-sitekey="site-key"' in markup and "<script src=\"https://" in markup


def _altcha_payload(challenge: dict, number: int, **changes) -> str:
    data = {"algorithm": "SHA-256", "challenge": challenge["challenge"], "number": number,
            "salt": challenge["salt"], "signature": challenge["signature"], **changes}
    return base64.b64encode(json.dumps(data).encode()).decode()


def test_altcha_solved_challenge_passes():
    challenge = captcha.altcha_challenge(SECRET, number=4242)
    assert captcha.verify_altcha(_altcha_payload(challenge, 4242), SECRET) is True


@pytest.mark.parametrize("tamper", [
    lambda c: _altcha_payload(c, 4241),                              # wrong work
    lambda c: _altcha_payload(c, 4242, signature="0" * 64),          # not our challenge
    lambda c: _altcha_payload(c, 4242, algorithm="SHA-1"),
    lambda c: "not base64 at all!",
    lambda c: base64.b64encode(b"[1, 2]").decode(),
])
def test_altcha_bad_answers_fail(tamper):
    challenge = captcha.altcha_challenge(SECRET, number=4242)
    assert captcha.verify_altcha(tamper(challenge), SECRET) is False
    assert captcha.verify_altcha(_altcha_payload(challenge, 4242), "another secret") is False


def test_altcha_expired_challenge_fails():
    challenge = captcha.altcha_challenge(SECRET, now=time.time() - 3600, number=7)
    assert captcha.verify_altcha(_altcha_payload(challenge, 7), SECRET) is False


def test_altcha_challenge_endpoint_only_when_configured(app, client):
    assert client.get("/captcha/altcha-challenge").status_code == 404
    app.config.update(CAPTCHA_PROVIDER="altcha", CAPTCHA_SECRET=SECRET)
    response = client.get("/captcha/altcha-challenge")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    challenge = response.get_json()
    assert set(challenge) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    solved = next(n for n in range(challenge["maxnumber"] + 1)
                  if captcha.hashlib.sha256(f"{challenge['salt']}{n}".encode()).hexdigest()
                  == challenge["challenge"])
    assert captcha.verify_altcha(_altcha_payload(challenge, solved), SECRET) is True


def test_signing_needs_the_captcha_when_it_is_on(app, client, monkeypatch):
    app.config.update(CAPTCHA_PROVIDER="hcaptcha", CAPTCHA_SITE_KEY="k", CAPTCHA_SECRET="s")
    petition = PetitionFactory()
    page = client.get(f"/petitions/{petition.slug}").get_data(as_text=True)
    assert 'class="h-captcha"' in page
    fake = FakeSiteverify({"success": False})
    monkeypatch.setattr(captcha, "_post_form", fake)
    missing = sign(client, petition.slug)
    assert missing.status_code == 422
    assert "Please complete the check that you" in missing.get_data(as_text=True)
    assert fake.calls == []
    failed = sign(client, petition.slug, **{"h-captcha-response": "bad"})
    assert failed.status_code == 422
    fake.error = OSError("network down")
    down = sign(client, petition.slug, **{"h-captcha-response": "x"})
    assert down.status_code == 422 and "try again in a minute" in down.get_data(as_text=True)
    assert stored(petition) == []
    fake.error, fake.answer = None, {"success": True}
    assert sign(client, petition.slug, **{"h-captcha-response": "good"}).status_code == 303
    assert [s.flagged for s in stored(petition)] == [False]
