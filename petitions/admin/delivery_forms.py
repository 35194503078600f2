"""Forms of the delivery page: the target, the cover message, and the confirmed send."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

COVER_MAX = 5000
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Control characters other than tab and line breaks have no place in an email's text.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _one_line(value: str | None) -> str | None:
    return " ".join(value.split()) if value else value


def _text(value: str | None) -> str | None:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if value else value


def _email_address(form, field) -> None:
    if not field.data:
        return
    try:
        field.data = validate_email(field.data, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(_l("Enter an email address like name@example.com.")) from None


def _no_control_characters(form, field) -> None:
    if field.data and CONTROL_CHARS.search(field.data):
        raise ValidationError(_l("Please remove special characters."))


class TargetForm(FlaskForm):
    target = StringField(
        _l("Who the petition is addressed to"),
        validators=[DataRequired(_l("Enter who the petition is addressed to.")),
                    Length(max=200, message=_l("Keep it to 200 characters or fewer.")),
                    _no_control_characters],
        filters=[_one_line],
    )
    target_email = EmailField(
        _l("Their email address (optional)"),
        validators=[Optional(),
                    Length(max=254, message=_l("An email address has 254 characters or fewer.")),
                    _email_address],
        filters=[lambda v: v.strip() if v else v],
    )


class CoverForm(FlaskForm):
    cover_message = TextAreaField(
        _l("Cover message"),
        validators=[DataRequired(_l("Write a cover message to go with the petition.")),
                    Length(max=COVER_MAX, message=_l(
                        "Keep the cover message to %(max)d characters or fewer.", max=COVER_MAX)),
                    _no_control_characters],
        filters=[_text],
        render_kw={"rows": 12},
    )


class SendForm(CoverForm):
    """The confirmation page's form: the cover message as reviewed, the address it was
    reviewed for, and the nonce that makes the send happen once (see delivery.service)."""

    target_email = HiddenField(validators=[DataRequired()])
    nonce = HiddenField(validators=[DataRequired(), Regexp(NONCE)])
