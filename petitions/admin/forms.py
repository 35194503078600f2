"""Forms for logging in and managing accounts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from petitions.admin.models import Role
from petitions.forms import email_address_field

MIN_PASSWORD_LENGTH = 12


class LoginForm(FlaskForm):
    email = email_address_field()
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")),
                    Length(max=1024, message=_l("That password is too long."))],
    )


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the 6-digit code.")),
                    Regexp(r"^\s*\d{6}\s*$", message=_l("The code is 6 digits."))],
        filters=[lambda v: v.strip() if v else v],
    )


class AccountForm(FlaskForm):
    email = email_address_field()
    role = SelectField(_l("Role"), choices=[(r.value, r.value.title()) for r in Role])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter a password.")),
                    Length(min=MIN_PASSWORD_LENGTH, max=1024,
                           message=_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))],
    )


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[(r.value, r.value.title()) for r in Role])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password.")),
                                        Length(max=1024)])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")),
                    Length(min=MIN_PASSWORD_LENGTH, max=1024,
                           message=_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))],
    )
