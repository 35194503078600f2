"""Forms for signature search, invalidation and the fraud view.

The search and fraud filters arrive in a query string, so their forms are plain WTForms
forms fed with request.args (no CSRF on a GET). They hold the fields and their length
limits; what the values mean (a petition that exists, a valid network, a date range)
is checked in signature_search and fraud, which add their messages to these fields.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import Form, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from petitions.extensions import db
from petitions.signing.models import Petition

REASON_MAX = 500


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SearchForm(Form):
    """The signature filters. Field names are the query-string parameters."""

    petition = SelectField(_l("Petition"), choices=[("", _l("Any petition"))],
                           validate_choice=False)
    email = StringField(_l("Email address"), filters=[_strip], validators=[
        Length(max=254, message=_l("An email address has at most 254 characters."))])
    name = StringField(_l("Name contains"), filters=[_strip], validators=[
        Length(max=100, message=_l("A name has at most 100 characters."))])
    domain = StringField(_l("Email domain"), filters=[_strip], validators=[
        Length(max=253, message=_l("A domain has at most 253 characters."))])
    ip = StringField(_l("IP address or network"), filters=[_strip], validators=[
        Length(max=49, message=_l("That is too long for an IP address or network."))])
    postcode = StringField(_l("Postcode starts with"), filters=[_strip], validators=[
        Length(max=12, message=_l("A postcode has at most 12 characters."))])
    date_from = StringField(_l("Signed from"), filters=[_strip], render_kw={"type": "date"})
    date_to = StringField(_l("Signed until"), filters=[_strip], render_kw={"type": "date"})
    state = SelectField(_l("State"), validate_choice=False, choices=[
        ("", _l("Any state")), ("pending", _l("Pending")), ("confirmed", _l("Confirmed")),
        ("invalidated", _l("Invalidated"))])


def search_form(formdata) -> SearchForm:
    """The search form over `formdata` (request.args, or request.form for the bulk step),
    with every petition to choose from."""
    form = SearchForm(formdata)
    rows = db.session.execute(select(Petition.slug, Petition.title).order_by(Petition.title))
    form.petition.choices = [("", _("Any petition"))] + [
        (slug, f"{title} ({slug})") for slug, title in rows]
    return form


def _no_nul(form, field) -> None:
    if field.data and "\x00" in field.data:
        raise ValidationError(_l("That has a character that can't be saved."))


class ReasonForm(FlaskForm):
    """Invalidating one signature."""

    reason = TextAreaField(_l("Reason"), filters=[_strip], validators=[
        DataRequired(_l("Give a reason: it goes in the audit log.")), _no_nul,
        Length(max=REASON_MAX, message=_l("Keep the reason to %(max)d characters or fewer.",
                                          max=REASON_MAX))])


class BulkInvalidateForm(ReasonForm):
    """Invalidating everything the filters match. The filters travel as hidden inputs
    named like the search parameters; `expected_count` is the count the preview showed."""

    expected_count = HiddenField(validators=[
        DataRequired(_l("The preview count is missing. Preview again.")),
        Regexp(r"^\d{1,9}$", message=_l("The preview count is not a number. Preview again."))])


class RestoreForm(FlaskForm):
    """Undoing an invalidation: only the CSRF token."""


class FraudForm(Form):
    hours = SelectField(_l("Window"), validate_choice=False, default="24", choices=[
        ("1", _l("Last hour")), ("6", _l("Last 6 hours")), ("24", _l("Last 24 hours")),
        ("72", _l("Last 3 days")), ("168", _l("Last 7 days"))])
    ip_threshold = StringField(_l("Flag per IP per hour at"), filters=[_strip], default="20",
                               render_kw={"inputmode": "numeric"})
    domain_threshold = StringField(_l("Flag per domain per hour at"), filters=[_strip],
                                   default="50", render_kw={"inputmode": "numeric"})
