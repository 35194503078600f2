"""The fields of an incoming article, checked and normalised before anything is stored.

Every message names the problem in words the sender can act on; `ValidationError.fields`
maps each bad field to its message (the API returns it as JSON).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import nh3
from sqlalchemy import select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing.models import Petition

TITLE_MAX = 300
URL_MAX = 2000
CATEGORY_MAX = 120
SUMMARY_MAX = 5000
EXTERNAL_ID_MAX = 200
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
# Clocks disagree a little; a date further ahead than this is a mistake, and it would
# pin the article to the top of every list until then.
FUTURE_SLACK = timedelta(days=1)


class ValidationError(Exception):
    """Bad input. `fields` maps each offending field to a message a person can act on."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        super().__init__("; ".join(f"{name}: {message}" for name, message in fields.items()))


class _FieldError(ValueError):
    pass


@dataclass(frozen=True)
class ArticleFields:
    """A valid article. None in summary or external_id: not given, keep the stored one."""

    title: str
    url: str
    category: str
    published_at: datetime
    summary: str | None
    external_id: str | None
    petition_given: bool
    petition_id: int | None


# --- text -----------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BREAK = re.compile(r"(?i)<br\s*/?>")
_BLOCK_END = re.compile(r"(?i)</(?:p|div|li|h[1-6]|blockquote|pre|tr|ul|ol|table|section)\s*>")


def _one_line(text: str) -> str:
    return _CONTROL.sub("", " ".join(text.split()))


def plain_text(markup: str) -> str:
    """HTML (or plain text) -> plain text: tags dropped, entities decoded, paragraphs kept."""
    marked = _BLOCK_END.sub("\n\n", _BREAK.sub("\n", markup))
    text = html.unescape(nh3.clean(marked, tags=set(), attributes={}))
    lines = [_one_line(line) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and end with an ellipsis, within `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _FieldError(f"{what} must be text.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _FieldError(f"{what} contains characters that are not valid text.") from None
    return value


# --- fields ---------------------------------------------------------------------------------

def _title(value: Any) -> str:
    if value is None:
        raise _FieldError("A title is required.")
    title = _one_line(_string(value, "The title"))
    if not title:
        raise _FieldError("A title is required.")
    if len(title) > TITLE_MAX:
        raise _FieldError(f"The title must be {TITLE_MAX} characters or fewer.")
    return title


def clean_url(value: Any) -> str:
    """An absolute http(s) URL of at most 2000 characters, or _FieldError (a ValueError)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _FieldError("A URL is required.")
    url = _string(value, "The URL").strip()
    if len(url) > URL_MAX:
        raise _FieldError(f"The URL must be {URL_MAX} characters or fewer.")
    if any(char.isspace() or _CONTROL.match(char) for char in url):
        raise _FieldError("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise _FieldError("The URL is not valid.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _FieldError("The URL must be absolute and start with http:// or https://.")
    return url


def _category(value: Any) -> str:
    if value is None:
        raise _FieldError("A category is required.")
    name = _one_line(_string(value, "The category"))
    if not name:
        raise _FieldError("A category is required.")
    if len(name) > CATEGORY_MAX:
        raise _FieldError(f"The category must be {CATEGORY_MAX} characters or fewer.")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    if not re.search(r"[A-Za-z0-9]", ascii_name):
        raise _FieldError("The category must contain letters or digits.")
    return name


def _summary(value: Any, truncate: bool) -> str:
    if value is None:
        return ""
    summary = plain_text(_string(value, "The summary"))
    if len(summary) > SUMMARY_MAX:
        if not truncate:
            raise _FieldError(f"The summary must be {SUMMARY_MAX} characters or fewer.")
        summary = shorten(summary, SUMMARY_MAX)
    return summary


def _published_at(value: Any) -> datetime:
    example = "Give the publication time in ISO 8601, like 2025-08-16T23:58:22Z."
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _FieldError("A publication time is required. " + example)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _FieldError("The publication time is not a valid date. " + example) from None
    else:
        raise _FieldError("The publication time must be text. " + example)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _FieldError("The publication time is out of range.") from None
    if not EARLIEST <= moment <= utcnow() + FUTURE_SLACK:
        raise _FieldError("The publication time must be after 1900 and not in the future.")
    return moment


def _external_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    external_id = _string(value, "The external id").strip()
    if _CONTROL.search(external_id):
        raise _FieldError("The external id must not contain control characters.")
    if len(external_id) > EXTERNAL_ID_MAX:
        raise _FieldError(f"The external id must be {EXTERNAL_ID_MAX} characters or fewer.")
    return external_id or None


def _petition_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    slug = _string(value, "The petition").strip()
    petition_id = db.session.scalar(select(Petition.id).where(Petition.slug == slug))
    if petition_id is None:
        raise _FieldError(f"There is no petition with the slug {slug[:80]!r}.")
    return petition_id


def validate_article(fields: Any, truncate_summary: bool = False) -> ArticleFields:
    """Check every field at once; raises ValidationError naming each bad one."""
    if not isinstance(fields, Mapping):
        raise ValidationError({"article": "An article must be a JSON object."})
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    checks = {
        "title": _title,
        "url": clean_url,
        "category": _category,
        "published_at": _published_at,
        "external_id": _external_id,
        "summary": lambda value: _summary(value, truncate_summary),
        "petition": _petition_id,
    }
    for name, check in checks.items():
        try:
            values[name] = check(fields.get(name))
        except _FieldError as exc:
            errors[name] = str(exc)
    if errors:
        raise ValidationError(errors)
    return ArticleFields(
        title=values["title"],
        url=values["url"],
        category=values["category"],
        published_at=values["published_at"],
        summary=values["summary"] if "summary" in fields else None,
        external_id=values["external_id"],
        petition_given="petition" in fields,
        petition_id=values["petition"],
    )
