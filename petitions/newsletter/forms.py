from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from petitions.forms import email_address_field
from petitions.newsletter.models import Category
from petitions.newsletter.subscribers import Frequency

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms before 3.3 takes (value, label) pairs

    def SelectChoice(value, label):  # noqa: N802
        return (value, label)


class CategoriesField(SelectMultipleField):
    """Category checkboxes, by id. Anything not on the list gets one plain message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, coerce=int, **kwargs)

    def process_formdata(self, valuelist):
        try:
            self.data = [int(value) for value in valuelist]
        except ValueError:
            self.data = []
            raise ValueError(_l("Choose categories from the list.")) from None

    def pre_validate(self, form) -> None:
        known = {value for value, *_rest in self.choices or []}
        if any(value not in known for value in self.data or []):
            raise ValidationError(_l("Choose categories from the list."))


class ChoicesForm(FlaskForm):
    categories = CategoriesField(_l("Categories"))
    all_categories = BooleanField(_l("All categories, including new ones"))
    frequency = RadioField(
        _l("How often"),
        choices=[
            SelectChoice(Frequency.WEEKLY.value, _l("Weekly: one email a week")),
            SelectChoice(Frequency.DAILY.value, _l("Daily: one email a day")),
        ],
        default=Frequency.WEEKLY.value,
        validate_choice=False,
    )

    def __init__(self, *args, categories: Sequence[Category], **kwargs):
        super().__init__(*args, **kwargs)
        self._categories = {c.id: c for c in categories}
        self.categories.choices = [SelectChoice(c.id, c.name) for c in categories]

    def validate_categories(self, field) -> None:
        if not field.data and not self.all_categories.data:
            raise ValidationError(_l("Choose at least one category, or all of them."))

    def validate_frequency(self, field) -> None:
        if field.data not in {f.value for f in Frequency}:
            raise ValidationError(_l("Choose daily or weekly."))

    def chosen_categories(self) -> list[Category]:
        return [self._categories[i] for i in dict.fromkeys(self.categories.data or [])]


class SubscribeForm(ChoicesForm):
    email = email_address_field()
