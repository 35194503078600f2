"""VERP return paths: the envelope sender bounces+<token>@domain names the outbox row.

A bounce goes to the envelope sender, so the address it arrives at says which message
bounced, however badly the remote server quotes the original. The token is the row id
and a MAC of it under SECRET_KEY: "4711.kq3zt6vd5nhw2x7a". Digits, lowercase base32 and
a dot, because some servers lowercase local parts and base32 survives that; forged
tokens (to suppress someone else's address) fail the MAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping

from email_validator import EmailNotValidError, validate_email

from petitions.config import ConfigError

# The row id, a dot, 16 base32 characters (an 80-bit MAC), after "+" or standing alone.
TOKEN = re.compile(r"(?<![0-9a-z])([0-9]{1,18})\.([a-z2-7]{16})(?![a-z2-7])", re.IGNORECASE)
_PURPOSE = b"petitions.mail.verp.v1"


def bounce_address_from_env(env: Mapping[str, str]) -> str | None:
    address = env.get("BOUNCE_ADDRESS", "").strip()
    if not address:
        return None
    try:
        address = validate_email(address, check_deliverability=False,
                                 test_environment=True).normalized
    except EmailNotValidError as exc:
        raise ConfigError("BOUNCE_ADDRESS", f"is not a valid address ({exc})") from None
    local = address.rsplit("@", 1)[0]
    if not address.isascii() or "+" in local or len(local) > 40:
        raise ConfigError("BOUNCE_ADDRESS", "must be a plain ASCII address without '+', "
                                            "like bounces@example.org (the token goes after a '+')")
    return address


def _key(secret: str) -> bytes:
    # A key of its own, so a VERP MAC is never valid as any other signature of SECRET_KEY.
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _mac(key: bytes, outbox_id: int) -> str:
    digest = hmac.new(key, str(outbox_id).encode(), hashlib.sha256).digest()[:10]
    return base64.b32encode(digest).decode("ascii").lower()


class ReturnPaths:
    """Makes and reads VERP addresses for one bounce address and SECRET_KEY (plus the
    fallback keys, so bounces of mail sent before a key rotation still match)."""

    def __init__(self, bounce_address: str | None, secret: str, fallbacks: Iterable[str] = ()):
        # Without a bounce address tokens can still be read (from a webhook), not made.
        self.local, _, self.domain = (bounce_address or "").rpartition("@")
        self._key = _key(secret)
        self._keys = [self._key, *(_key(old) for old in fallbacks)]

    def token(self, outbox_id: int) -> str:
        return f"{outbox_id}.{_mac(self._key, outbox_id)}"

    def address(self, outbox_id: int) -> str:
        return f"{self.local}+{self.token(outbox_id)}@{self.domain}"

    def outbox_id(self, *texts: str | None) -> int | None:
        """The row id of the first authentic token found in the texts (addresses, header
        values, a bare token), or None."""
        for text in texts:
            for match in TOKEN.finditer(text or ""):
                outbox_id, mac = int(match.group(1)), match.group(2).lower()
                if any(hmac.compare_digest(mac, _mac(key, outbox_id)) for key in self._keys):
                    return outbox_id
        return None


def token_reader(config: Mapping) -> ReturnPaths:
    return ReturnPaths(config.get("BOUNCE_ADDRESS"), config["SECRET_KEY"],
                       config.get("SECRET_KEY_FALLBACKS") or ())


def return_paths(config: Mapping) -> ReturnPaths | None:
    """The app's VERP maker, or None without BOUNCE_ADDRESS (the sender is MAIL_FROM's)."""
    return token_reader(config) if config.get("BOUNCE_ADDRESS") else None
