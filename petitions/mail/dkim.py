"""DKIM signatures (RFC 6376) on the messages we send, made with dkimpy.

The key is read and checked once, when the settings are loaded: a missing piece or a key
dkimpy cannot use stops start-up with one line, never a traceback at send time. Each
message is signed in the worker right after compose() made its bytes; the signature goes
on top, so the bytes that follow it are the ones that were hashed.
"""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from petitions.config import ConfigError

# The headers we sign whenever the message has them (RFC 6376 section 5.4.1), lowercase.
SIGNED_HEADERS = (
    "from", "to", "subject", "date", "message-id", "list-unsubscribe",
    "list-unsubscribe-post", "list-id", "mime-version", "content-type",
    "content-transfer-encoding",
)
# Listed once more than it occurs, so a From added on the way fails verification.
OVERSIGNED = ("from",)
SELECTOR = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*",
                      re.IGNORECASE)
DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.IGNORECASE)
MIN_BITS = 1024


@dataclass(frozen=True)
class DkimKey:
    selector: str
    domain: str
    private_key: bytes  # PEM, PKCS#1 or PKCS#8
    bits: int


def _pem_from(value: str) -> bytes:
    """The PEM itself, or the contents of the file it names. Platforms that cannot hold
    line breaks in a variable get "\\n" written out; those become line breaks."""
    if value.lstrip().startswith("-----BEGIN"):
        return (value.replace("\\n", "\n").strip() + "\n").encode("ascii", "replace")
    path = Path(value).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError("DKIM_PRIVATE_KEY",
                          f"is neither a PEM key nor a readable file ({exc.strerror}: {value})") from None


def key_bits(pem: bytes) -> int:
    """The modulus size of an RSA private key in PEM; ValueError if it is not one."""
    from dkim.crypto import UnparsableKeyError, parse_pem_private_key

    try:
        return parse_pem_private_key(pem.replace(b"\r\n", b"\n"))["modulus"].bit_length()
    except (UnparsableKeyError, IndexError, TypeError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"not an RSA private key in PEM form ({first_line})") from None


def dkim_from_env(env: Mapping[str, str], mail_domain: str) -> DkimKey | None:
    """DKIM_SELECTOR, DKIM_DOMAIN and DKIM_PRIVATE_KEY: all three, or none (no signing)."""
    values = {name: env.get(name, "").strip()
              for name in ("DKIM_SELECTOR", "DKIM_DOMAIN", "DKIM_PRIVATE_KEY")}
    given = [name for name, value in values.items() if value]
    if not given:
        return None
    for name, value in values.items():
        if not value:
            raise ConfigError(name, f"is required with {' and '.join(given)} (DKIM needs all three)")
    selector, domain = values["DKIM_SELECTOR"], values["DKIM_DOMAIN"].lower().rstrip(".")
    if not SELECTOR.fullmatch(selector):
        raise ConfigError("DKIM_SELECTOR", "must be letters, digits and hyphens, like mail2026")
    if not DOMAIN.fullmatch(domain):
        raise ConfigError("DKIM_DOMAIN", f"is not a domain name: {domain!r}")
    mail_domain = mail_domain.lower()
    if mail_domain != domain and not mail_domain.endswith("." + domain):
        # DMARC passes on DKIM only when the signing domain aligns with From's.
        raise ConfigError("DKIM_DOMAIN", f"must be MAIL_FROM's domain ({mail_domain}) or a parent of it")
    # dkimpy's PEM reader wants LF line ends.
    pem = _pem_from(values["DKIM_PRIVATE_KEY"]).replace(b"\r\n", b"\n")
    try:
        bits = key_bits(pem)
    except ValueError as exc:
        raise ConfigError("DKIM_PRIVATE_KEY", str(exc)) from None
    if bits < MIN_BITS:
        raise ConfigError("DKIM_PRIVATE_KEY", f"is a {bits}-bit key; receivers ignore keys under {MIN_BITS} bits (use 2048)")
    key = DkimKey(selector, domain, pem, bits)
    try:  # one real signature now, so nothing about the key can surprise the worker
        DkimSigner(key).sign(b"From: a@" + domain.encode() + b"\r\n\r\nstart-up check\r\n", ["From"])
    except Exception as exc:  # dkimpy raises several unrelated types
        raise ConfigError("DKIM_PRIVATE_KEY", f"cannot sign with this key ({exc})") from None
    return key


class DkimSigner:
    """Signs composed messages with one key: relaxed/relaxed, rsa-sha256, no l= tag."""

    def __init__(self, key: DkimKey):
        import dkim

        self._dkim = dkim
        self.key = key
        self._selector = key.selector.encode("ascii")
        self._domain = key.domain.encode("ascii")
        self._include: dict[tuple[str, ...], list[bytes]] = {}

    def include_for(self, header_names: Iterable[str]) -> list[bytes]:
        """The h= list for a message with these top-level headers: cached per shape, as
        a run sends thousands of messages with the same headers."""
        shape = tuple(sorted({name.lower() for name in header_names}))
        include = self._include.get(shape)
        if include is None:
            present = [name for name in SIGNED_HEADERS if name in shape]
            include = [name.encode() for name in present + [n for n in OVERSIGNED if n in shape]]
            self._include[shape] = include
        return include

    def signature(self, message: bytes, header_names: Iterable[str]) -> bytes:
        """The DKIM-Signature header line (CRLF-terminated) for the message."""
        return self._dkim.sign(
            message, self._selector, self._domain, self.key.private_key,
            canonicalize=(b"relaxed", b"relaxed"), include_headers=self.include_for(header_names),
            linesep=b"\r\n",
        )

    def sign(self, message: bytes, header_names: Iterable[str]) -> bytes:
        return self.signature(message, header_names) + message


def signer_for(config: Mapping) -> DkimSigner | None:
    """This process's signer for the app's key: one per key, kept for the process."""
    key = config.get("DKIM")
    if key is None:
        return None
    signer = _signers.get(key)
    if signer is None:
        signer = _signers[key] = DkimSigner(key)
    return signer


_signers: dict[DkimKey, DkimSigner] = {}


# --- keys and DNS -------------------------------------------------------------------------

def generate_private_key(bits: int = 2048) -> bytes:
    """A new RSA key in PEM, made by the openssl command (as dkimpy's own dknewkey does)."""
    try:
        done = subprocess.run(["openssl", "genrsa", str(bits)], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"cannot run openssl to make the key ({exc})") from None
    if done.returncode != 0 or b"PRIVATE KEY" not in done.stdout:
        raise RuntimeError("openssl could not make the key: "
                           + done.stderr.decode(errors="replace").strip()[:200])
    return done.stdout


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def _der_int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


# 1.2.840.113549.1.1.1 (rsaEncryption) with its NULL parameters.
_RSA_ALGORITHM = _der(0x30, bytes.fromhex("06092a864886f70d0101010500"))


def public_key_b64(private_pem: bytes) -> str:
    """The p= value: the key's SubjectPublicKeyInfo in DER, base64 (RFC 6376 section 3.6.1)."""
    from dkim.crypto import parse_pem_private_key

    key = parse_pem_private_key(private_pem.replace(b"\r\n", b"\n"))
    rsa_public = _der(0x30, _der_int(key["modulus"]) + _der_int(key["publicExponent"]))
    spki = _der(0x30, _RSA_ALGORITHM + _der(0x03, b"\x00" + rsa_public))
    return base64.b64encode(spki).decode("ascii")


def dns_record(selector: str, domain: str, private_pem: bytes) -> tuple[str, str]:
    """(name, value) of the TXT record that publishes the key."""
    return f"{selector}._domainkey.{domain}", f"v=DKIM1; k=rsa; p={public_key_b64(private_pem)}"


def txt_strings(value: str, size: int = 255) -> list[str]:
    """A TXT value as the strings of at most 255 characters DNS requires; resolvers join them."""
    return [value[start:start + size] for start in range(0, len(value), size)]
