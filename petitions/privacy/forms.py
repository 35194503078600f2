from __future__ import annotations

from flask_wtf import FlaskForm

from petitions.forms import email_address_field


class LinkRequestForm(FlaskForm):
    email = email_address_field()


class EraseForm(FlaskForm):
    """Only the CSRF token: the link itself says whose data goes."""
