"""Composing the bytes of a multipart/alternative message (with attachments: mixed), fast.

The email package's generator spends milliseconds per message folding headers and
quoted-printable-encoding bodies in pure Python; a digest run sends a hundred thousand
of them. Here the bodies are encoded by binascii's C quoted-printable encoder, which
keeps every line within 76 characters (far inside RFC 5321's 998), and only headers
that need it go through RFC 2047 encoding.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from email.header import Header

CRLF = b"\r\n"


# A header name is printable ASCII without a colon (RFC 5322 section 2.2).
HEADER_NAME = re.compile(r"[!-9;-~]+")
# Control characters and Unicode line breaks: none may reach the wire inside a header
# value, where CR or LF would start a new header ("Bob\r\nBcc: x@evil.test").
UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def header_value(value: str) -> str:
    """The value on one line: every control character or line break becomes a space,
    and runs of whitespace one space. Folding is left to the encoder."""
    return " ".join(UNSAFE_IN_HEADER.sub(" ", str(value)).split())


# Headers of the form "phrase <address>": only the phrase may become an encoded word
# (RFC 2047 section 5); an encoded "<address>" is no address at all.
PHRASE_AND_ADDRESS = {"from", "to", "cc", "reply-to", "sender", "list-id"}
_PHRASE_AND_ADDRESS = re.compile(r"(.*?)\s*(<[\x21-\x7e]+>)")
MAX_LINE, FOLD_AT = 998, 78  # RFC 5322's "MUST" and "SHOULD"


def _fold(line: str) -> str:
    """An ASCII header line over 998 characters folded at spaces, into lines of about 78;
    unfolding (and DKIM's relaxed canonicalization) gives it back. Shorter lines are left
    whole: readers that keep the folding (the email package's compat32) see them as sent."""
    if len(line) <= MAX_LINE:
        return line
    folded, current = [], ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > FOLD_AT:
            folded.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    folded.append(current)
    return "\r\n ".join(folded)


def _encoded(name: str, value: str) -> str:
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _header_line(name: str, value: str) -> bytes:
    if not HEADER_NAME.fullmatch(name):
        raise ValueError(f"not a valid email header name: {name!r}")
    if value.isascii() and UNSAFE_IN_HEADER.search(value) is None:
        return _fold(f"{name}: {value}").encode("ascii")
    value = header_value(value)
    parts = _PHRASE_AND_ADDRESS.fullmatch(value) if name.lower() in PHRASE_AND_ADDRESS else None
    if parts is not None:
        phrase = parts.group(1).strip()
        if len(phrase) > 1 and phrase[0] == phrase[-1] == '"':
            phrase = phrase[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        encoded = f"{_encoded(name, phrase)} {parts.group(2)}" if phrase else parts.group(2)
        return f"{name}: {encoded}".encode("ascii")
    return f"{name}: {_encoded(name, value)}".encode("ascii")


def quoted_printable(body: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends. Encoding text that ends with a line
    break, then more text, gives the same as encoding both at once: callers may cache
    the encoding of a message's fixed head and encode only its tail per message."""
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True)
    # b2a_qp breaks soft lines with whatever line end it saw first; SMTP wants CRLF.
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", CRLF)


def compose(headers: list[tuple[str, str]], text: str | bytes, html: str | bytes,
            attachments: tuple[Attachment, ...] = ()) -> bytes:
    """RFC 5322 bytes with CRLF line ends: the headers, then text and HTML alternatives,
    wrapped in multipart/mixed with the attachments when there are any.

    A body given as bytes is already quoted-printable (see quoted_printable()).
    """
    # "=_" never occurs in quoted-printable or base64 output, so boundaries cannot clash.
    boundary = f"=_{secrets.token_hex(12)}"
    lines = [_header_line(name, value) for name, value in headers]
    lines.append(b"MIME-Version: 1.0")
    if attachments:
        mixed = f"=_{secrets.token_hex(12)}"
        lines += [f'Content-Type: multipart/mixed; boundary="{mixed}"'.encode(), b"",
                  f"--{mixed}".encode()]
    lines += [f'Content-Type: multipart/alternative; boundary="{boundary}"'.encode(), b""]
    for subtype, body in (("plain", text), ("html", html)):
        lines += [
            f"--{boundary}".encode(),
            f'Content-Type: text/{subtype}; charset="utf-8"'.encode(),
            b"Content-Transfer-Encoding: quoted-printable",
            b"",
            body if isinstance(body, bytes) else quoted_printable(body),
        ]
    lines += [f"--{boundary}--".encode(), b""]
    if attachments:
        for attachment in attachments:
            lines += [f"--{mixed}".encode(), *_attachment_part(attachment)]
        lines += [f"--{mixed}--".encode(), b""]
    return CRLF.join(lines)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/csv; charset=utf-8"
    data: bytes


def _attachment_part(attachment: Attachment) -> list[bytes]:
    filename = header_value(attachment.filename)
    disposition = Header(filename, "utf-8").encode() \
        if not filename.isascii() else filename.replace('"', "").replace("\\", "")
    # base64 in 76-character lines, as RFC 2045 asks.
    encoded = base64.encodebytes(attachment.data).replace(b"\n", CRLF)
    return [
        f"Content-Type: {header_value(attachment.content_type)}".encode(),
        b"Content-Transfer-Encoding: base64",
        f'Content-Disposition: attachment; filename="{disposition}"'.encode(),
        b"",
        encoded,
    ]
