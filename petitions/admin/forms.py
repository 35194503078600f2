"""Forms for logging in and managing accounts."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from petitions.admin.models import Role
from petitions.forms import email_address_field

MIN_PASSWORD_LENGTH = 12


class LoginForm(FlaskForm):
    email = email_address_field()
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."),
                    Length(max=1024, message="That password is too long.")],
    )


class SecondFactorForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        validators=[DataRequired("Enter the 6-digit code."),
                    Regexp(r"^\s*\d{6}\s*$", message="The code is 6 digits.")],
        filters=[lambda v: v.strip() if v else v],
    )


class AccountForm(FlaskForm):
    email = email_address_field()
    role = SelectField("Role", choices=[(r.value, r.value.title()) for r in Role])
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter a password."),
                    Length(min=MIN_PASSWORD_LENGTH, max=1024,
                           message=f"Use at least {MIN_PASSWORD_LENGTH} characters.")],
    )
