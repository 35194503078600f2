"""The form for writing a petition update."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

TITLE_MAX = 200
BODY_MAX = 20_000
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_CHARS_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # keeps tab, newlines


def _one_line(value: str | None) -> str | None:
    return " ".join(value.split()) if value else value


def _multi_line(value: str | None) -> str | None:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if value else value


def _without(pattern: re.Pattern):
    def check(form, field) -> None:
        if field.data and pattern.search(field.data):
            raise ValidationError(_l("Please remove special characters."))

    return check


class UpdateForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Give the update a title.")),
            Length(max=TITLE_MAX, message=_l("Use %(max)d characters or fewer.", max=TITLE_MAX)),
            _without(CONTROL_CHARS),
        ],
        filters=[_one_line],
    )
    body = TextAreaField(
        _l("Text (Markdown)"),
        validators=[
            DataRequired(_l("Write the update.")),
            Length(max=BODY_MAX, message=_l("Use %(max)d characters or fewer.", max=BODY_MAX)),
            _without(CONTROL_CHARS_IN_TEXT),
        ],
        filters=[_multi_line],
    )
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save draft"))
