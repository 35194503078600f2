from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import Choice
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import Select, html_params

from petitions.forms import email_address_field

CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,10}$")
US_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
DEFAULT_COUNTRY = "US"


@lru_cache(maxsize=8)
def _country_choices(locale_name: str) -> tuple[tuple[str, str], ...]:
    """ISO 3166 alpha-2 countries, named in the reader's language (from Babel's CLDR data)."""
    territories = Locale.parse(locale_name).territories
    pairs = [
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN", "QO"}
        and not code.startswith("X")
    ]
    return tuple(sorted(pairs, key=lambda pair: pair[1]))


@lru_cache(maxsize=8)
def _wtforms_messages(locale_name: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale_name], domain="wtforms")


def country_choices() -> list[tuple[str, str]]:
    return list(_country_choices(str(get_locale() or "en")))


def country_name(code: str) -> str:
    return dict(_country_choices(str(get_locale() or "en"))).get(code, code)


@lru_cache(maxsize=64)
def _rendered_options(choices: tuple[tuple[str, str], ...], selected: str | None) -> Markup:
    return Markup("").join(
        Select.render_option(Choice(code, name, code == selected, None))
        for code, name in choices)


class CachedOptionsSelect(Select):
    """A <select> whose options are rendered once per list of choices and chosen value.

    WTForms builds each <option> through html_params and markupsafe on every render: for
    the ~250 countries that was half the petition page's time (bench/count_reads.py).
    The choices must be (value, label) pairs of strings, and the field's coerce str.
    """

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in dir(flags):
            if name in self.validation_attrs and name not in kwargs:
                kwargs[name] = getattr(flags, name)
        options = _rendered_options(tuple(field.choices), field.data)
        return (Markup(f"<select {html_params(name=field.name, **kwargs)}>") + options
                + Markup("</select>"))


def _no_control_characters(form, field) -> None:
    if field.data and CONTROL_CHARS.search(field.data.replace("\r\n", "\n").replace("\n", "")):
        raise ValidationError(_l("Please remove special characters."))


class SignatureForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            """WTForms' own messages in the reader's language, read from disk once per
            process, not once per request as Flask-WTF does (every signature builds
            this form)."""
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_messages(str(get_locale() or "en"))

    name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=100, message=_l("Your name must be 100 characters or fewer.")),
            _no_control_characters,
        ],
        filters=[lambda v: " ".join(v.split()) if v else v],
    )
    email = email_address_field()
    postcode = StringField(
        _l("ZIP or postal code"),
        validators=[
            DataRequired(_l("Enter your ZIP or postal code.")),
            Length(max=12, message=_l("Your postal code must be 12 characters or fewer.")),
        ],
        filters=[lambda v: " ".join(v.upper().split()) if v else v],
    )
    country = SelectField(_l("Country"), default=DEFAULT_COUNTRY, validate_choice=False,
                          widget=CachedOptionsSelect())
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[
            Optional(),
            Length(max=500, message=_l("Your comment must be 500 characters or fewer.")),
            _no_control_characters,
        ],
        filters=[lambda v: v.strip() if v else v],
    )
    show_name_publicly = BooleanField(_l("Show my first name and country on this petition"))
    email_updates = BooleanField(_l("Email me updates on this petition"))
    subscribe_newsletter = BooleanField(_l("Subscribe me to the newsletter"))
    # Bot traps (petitions/abuse/traps.py): people never see or fill the first; the second
    # is a signed timestamp of when the form was shown.
    website = StringField(_l("Leave this field empty"))
    form_started = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()

    def validate_country(self, field) -> None:
        if field.data not in dict(self.country.choices):
            raise ValidationError(_l("Choose your country from the list."))

    def validate_postcode(self, field) -> None:
        if self.country.data == "US":
            if not US_ZIP.match(field.data):
                raise ValidationError(_l("Enter a 5-digit ZIP code, like 20004."))
        elif not POSTCODE.match(field.data):
            raise ValidationError(_l("Enter a postal code using letters, digits and spaces."))
