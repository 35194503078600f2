"""The admin form for allow and block rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from petitions.abuse.models import RuleAction, RuleKind
from petitions.abuse.rules import BadPattern, normalise_pattern


class AccessRuleForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[
        (RuleKind.EMAIL_DOMAIN.value, _l("Email domain (globs like *.example.com)")),
        (RuleKind.IP.value, _l("IP address or network (CIDR)")),
        (RuleKind.EMAIL.value, _l("One email address")),
    ])
    pattern = StringField(_l("Pattern"), validators=[
        DataRequired(_l("Enter a pattern.")),
        Length(max=254, message=_l("The pattern must be 254 characters or fewer.")),
    ])
    action = SelectField(_l("Action"), choices=[
        (RuleAction.BLOCK.value, _l("Block: store their signatures flagged, never counted")),
        (RuleAction.ALLOW.value, _l("Allow: exempt from rate limits and blocks")),
    ])
    note = StringField(_l("Note (optional)"), validators=[
        Optional(), Length(max=500, message=_l("The note must be 500 characters or fewer."))])

    def validate_pattern(self, field) -> None:
        if self.kind.data not in {k.value for k in RuleKind}:
            return  # the kind's own error says it
        try:
            field.data = normalise_pattern(self.kind.data, field.data)
        except BadPattern as exc:
            raise ValidationError(str(exc)) from None
