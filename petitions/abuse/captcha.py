"""An optional CAPTCHA on the signing form: hCaptcha, Turnstile or Altcha.

CAPTCHA_PROVIDER = "" (off, the default) | "hcaptcha" | "turnstile" | "altcha", with
CAPTCHA_SITE_KEY (hCaptcha, Turnstile) and CAPTCHA_SECRET. hCaptcha and Turnstile tokens
are checked with the provider's siteverify endpoint; Altcha's proof of work is checked
here, against a challenge we signed with CAPTCHA_SECRET (no third party at all).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.parse
import urllib.request
from collections.abc import Callable

from markupsafe import Markup, escape

from petitions.abuse.limiter import setting

log = logging.getLogger("petitions.abuse")

TIMEOUT_SECONDS = 5
ALTCHA_MAX_NUMBER = 100_000
ALTCHA_VALID_SECONDS = 1200
PROVIDERS = {
    "hcaptcha": {
        "script": "https://js.hcaptcha.com/1/api.js",
        "verify": "https://api.hcaptcha.com/siteverify",
        "field": "h-captcha-response",
        "class": "h-captcha",
    },
    "turnstile": {
        "script": "https://challenges.cloudflare.com/turnstile/v0/api.js",
        "verify": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        "field": "cf-turnstile-response",
        "class": "cf-turnstile",
    },
    "altcha": {
        "script": "https://cdn.jsdelivr.net/npm/altcha@1/dist/altcha.min.js",
        "field": "altcha",
    },
}

Fetch = Callable[[str, dict[str, str]], dict]


class CaptchaUnavailable(Exception):
    """The provider could not be asked; the signer is asked to try again."""


def provider() -> str:
    return str(setting("CAPTCHA_PROVIDER") or "").strip().lower()


def enabled() -> bool:
    return provider() in PROVIDERS


def response_field() -> str | None:
    return PROVIDERS[provider()]["field"] if enabled() else None


def widget(challenge_url: str = "") -> Markup:
    """The markup for the form (empty when off). The script comes from the provider's
    origin, so the Content-Security-Policy must allow it (see README)."""
    name = provider()
    if name not in PROVIDERS:
        return Markup("")
    script = PROVIDERS[name]["script"]
    if name == "altcha":
        return Markup('<script type="module" src="{}" async defer></script>'
                      '<altcha-widget challengeurl="{}"></altcha-widget>').format(
                          script, challenge_url)
    return Markup('<script src="{}" async defer></script><div class="{}" data-sitekey="{}">'
                  "</div>").format(script, PROVIDERS[name]["class"],
                                   escape(setting("CAPTCHA_SITE_KEY")))


def _post_form(url: str, fields: dict[str, str]) -> dict:
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
        return json.loads(answer.read(65536))


def verify(token: str | None, ip: str | None, fetch: Fetch | None = None) -> bool:
    """True when the token proves a person; raises CaptchaUnavailable when the provider
    cannot be reached. Always True when no provider is configured."""
    name = provider()
    if name not in PROVIDERS:
        return True
    if not token or len(token) > 8192:
        return False
    if name == "altcha":
        return verify_altcha(token, str(setting("CAPTCHA_SECRET")))
    fields = {"secret": str(setting("CAPTCHA_SECRET")), "response": token}
    if ip:
        fields["remoteip"] = ip
    if name == "hcaptcha" and setting("CAPTCHA_SITE_KEY"):
        fields["sitekey"] = str(setting("CAPTCHA_SITE_KEY"))
    try:
        answer = (fetch or _post_form)(PROVIDERS[name]["verify"], fields)
    except Exception as exc:  # noqa: BLE001  (network, timeout, bad JSON)
        log.warning("%s siteverify failed: %s", name, exc)
        raise CaptchaUnavailable(str(exc)) from exc
    return isinstance(answer, dict) and answer.get("success") is True


# --- Altcha: a proof of work against an HMAC-signed challenge -----------------------------

def _altcha_hmac(secret: str, challenge: str) -> str:
    return hmac.new(secret.encode(), challenge.encode(), hashlib.sha256).hexdigest()


def altcha_challenge(secret: str, now: float | None = None,
                     number: int | None = None) -> dict:
    """A challenge for the widget: find n with sha256(salt + n) == challenge."""
    expires = int((now or time.time()) + ALTCHA_VALID_SECONDS)
    salt = f"{secrets.token_hex(12)}?expires={expires}"
    number = secrets.randbelow(ALTCHA_MAX_NUMBER) if number is None else number
    challenge = hashlib.sha256(f"{salt}{number}".encode()).hexdigest()
    return {"algorithm": "SHA-256", "challenge": challenge, "maxnumber": ALTCHA_MAX_NUMBER,
            "salt": salt, "signature": _altcha_hmac(secret, challenge)}


def verify_altcha(payload: str, secret: str, now: float | None = None) -> bool:
    """Check the widget's base64 JSON answer: our signature, not expired, work done."""
    if not secret:
        return False
    try:
        data = json.loads(base64.b64decode(payload, validate=True))
        algorithm, challenge = data["algorithm"], str(data["challenge"])
        number, salt, signature = int(data["number"]), str(data["salt"]), str(data["signature"])
    except (ValueError, TypeError, KeyError):
        return False
    if algorithm != "SHA-256" or not hmac.compare_digest(_altcha_hmac(secret, challenge),
                                                         signature):
        return False
    expires = urllib.parse.parse_qs(salt.partition("?")[2]).get("expires", ["0"])[0]
    if not expires.isdigit() or int(expires) < (now or time.time()):
        return False
    worked = hashlib.sha256(f"{salt}{number}".encode()).hexdigest()
    return hmac.compare_digest(worked, challenge)
