"""The petition editor's form, and fields shared with the article editor.

Times are typed and shown in the site's time zone (SITE_TIMEZONE) and stored in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import Field, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import DateTimeLocalInput

from petitions.admin.clock import site_time, site_zone
from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter.models import Category
from petitions.signing.models import Petition, PetitionState

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# The form must fit in a request (MAX_CONTENT_LENGTH is 64 KiB, and non-ASCII text
# triples in size when form-encoded).
BODY_MAX = 20_000
REASON_MAX = 500
GOAL_MAX = 2_147_483_647  # the largest PostgreSQL integer
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_CHARS_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # keeps tab, newlines


# --- the site's clock -----------------------------------------------------------------------

class SiteDateTimeField(Field):
    """A date and time typed in the site's time zone; `data` is an aware UTC datetime."""

    widget = DateTimeLocalInput()
    formats = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self._value_of(self.data)

    @staticmethod
    def _value_of(moment: datetime | None) -> str:
        return site_time(moment, "%Y-%m-%dT%H:%M")

    def process_formdata(self, valuelist) -> None:
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        if self.object_data is not None and text == self._value_of(self.object_data):
            self.data = self.object_data  # unchanged: keep its seconds (and DST fold)
            return
        for fmt in self.formats:
            try:
                local = datetime.strptime(text, fmt).replace(tzinfo=site_zone())
                self.data = local.astimezone(UTC)
                return
            except (ValueError, OverflowError):
                continue
        raise ValueError(_l("Enter a date and time like 2025-09-30 17:00."))


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist) -> None:
        text = valuelist[0].strip().replace(",", "") if valuelist else ""
        self.data = None
        if not text:
            return
        if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 12:
            raise ValueError(_l("Enter a whole number, like 1000."))
        self.data = int(text)


def one_line(value: str | None) -> str | None:
    return " ".join(value.split()) if value else value


def multi_line(value: str | None) -> str | None:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if value else value


def no_control_characters(form, field) -> None:
    if field.data and CONTROL_CHARS.search(field.data):
        raise ValidationError(_l("Please remove special characters."))


def no_control_characters_in_text(form, field) -> None:
    if field.data and CONTROL_CHARS_IN_TEXT.search(field.data):
        raise ValidationError(_l("Please remove special characters."))


def text_field(label, max_length: int, required=None, area: bool = False):
    """A one-line text field; `required` is the message shown when it is left empty."""
    kind = TextAreaField if area else StringField
    return kind(
        label,
        validators=[
            DataRequired(required) if required else Optional(),
            Length(max=max_length,
                   message=_l("Use %(max)d characters or fewer.", max=max_length)),
            no_control_characters,
        ],
        filters=[one_line],
    )


def category_choices() -> list[tuple[str, str]]:
    names = db.session.execute(select(Category.id, Category.name).order_by(Category.name))
    return [(str(category_id), name) for category_id, name in names]


# --- the petition editor --------------------------------------------------------------------


def markdown_body_field() -> TextAreaField:
    """A petition's text, in its own language or a translation: the same limits for both."""
    return TextAreaField(
        _l("Text (Markdown)"),
        validators=[
            Optional(),
            Length(max=BODY_MAX, message=_l("Use %(max)d characters or fewer.", max=BODY_MAX)),
            no_control_characters_in_text,
        ],
        filters=[multi_line],
    )


class PetitionForm(FlaskForm):
    slug = StringField(
        _l("Address (slug)"),
        validators=[
            DataRequired(_l("Give the petition an address, like save-the-library.")),
            Length(max=80, message=_l("Use 80 characters or fewer.")),
            Regexp(SLUG_PATTERN, message=_l(
                "Use lowercase letters and digits, with single hyphens between words, "
                "like save-the-library.")),
        ],
        filters=[lambda v: v.strip() if v else v],
    )
    title = text_field(_l("Title"), 200, _l("Give the petition a title."))
    summary = text_field(_l("Summary"), 500, _l("Write a one-paragraph summary."), area=True)
    body = markdown_body_field()
    target = text_field(_l("Addressed to"), 200, _l("Say who the petition is addressed to."))
    goal = WholeNumberField(
        _l("Signature goal"),
        validators=[
            InputRequired(_l("Give a goal, like 1000.")),
            NumberRange(min=1, max=GOAL_MAX,
                        message=_l("The goal must be a whole number from 1 to %(max)d.",
                                   max=GOAL_MAX)),
        ],
    )
    closes_at = SiteDateTimeField(_l("Closes at (optional)"))
    category = SelectField(_l("Category"), validate_choice=False)
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def __init__(self, *args, petition: Petition | None = None, **kwargs):
        super().__init__(*args, obj=petition, **kwargs)
        self.petition = petition
        self.category.choices = [("", _l("No category")), *category_choices()]
        if not self.is_submitted() and petition is not None:
            self.category.data = str(petition.category_id or "")

    @property
    def slug_locked(self) -> bool:
        """A published petition's address is in emails, embeds and articles: it stays."""
        return self.petition is not None and self.petition.state != PetitionState.DRAFT

    def validate_slug(self, field) -> None:
        if self.slug_locked and field.data != self.petition.slug:
            raise ValidationError(_l("The address can't change once the petition has been "
                                     "opened: links to it would break."))
        query = select(Petition.id).where(Petition.slug == field.data)
        if self.petition is not None:
            query = query.where(Petition.id != self.petition.id)
        if db.session.scalar(query) is not None:
            raise ValidationError(_l("Another petition already uses this address."))

    def validate_category(self, field) -> None:
        if field.data and field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose a category from the list."))

    def validate_closes_at(self, field) -> None:
        if field.data is None:
            return
        unchanged = self.petition is not None and field.data == self.petition.closes_at
        still_running = self.petition is None or self.petition.state in (
            PetitionState.DRAFT, PetitionState.OPEN)
        if still_running and not unchanged and field.data <= utcnow():
            raise ValidationError(_l("The closing time must be in the future."))

    def category_id(self) -> int | None:
        return int(self.category.data) if self.category.data else None

    def values(self) -> dict:
        """The petition's columns as entered."""
        return {
            "slug": self.slug.data,
            "title": self.title.data,
            "summary": self.summary.data,
            "body": self.body.data or "",
            "target": self.target.data,
            "goal": self.goal.data,
            "closes_at": self.closes_at.data,
            "category_id": self.category_id(),
        }


class RemovalForm(FlaskForm):
    reason = text_field(_l("Reason (shown on the petition's page)"), REASON_MAX,
                        _l("Give the reason: it is shown to everyone who opens the petition."),
                        area=True)


# --- a petition's translations --------------------------------------------------------------

class TranslationForm(FlaskForm):
    """Title, summary and text in one more language, with the petition's own limits."""

    title = text_field(_l("Title"), 200, _l("Give the translated title."))
    summary = text_field(_l("Summary"), 500, _l("Write the translated summary."), area=True)
    body = markdown_body_field()
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def values(self) -> dict:
        return {"title": self.title.data, "summary": self.summary.data,
                "body": self.body.data or ""}
