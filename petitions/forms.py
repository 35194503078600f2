"""Form pieces shared by every domain."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import DataRequired, Length, ValidationError


def _valid_email_address(form, field) -> None:
    """Syntax only (no DNS lookups in a request); the field keeps the normalised form."""
    try:
        result = validate_email(field.data, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(_l("Enter an email address like name@example.com.")) from None
    field.data = result.normalized


def email_address_field() -> EmailField:
    return EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("Your email address must be 254 characters or fewer.")),
            _valid_email_address,
        ],
        filters=[lambda v: v.strip() if v else v],
    )
