"""API keys for partner sites and article ingest (admins only).

A key is shown once, on the page that answers its creation (never put in the session or
a flash message: the session cookie is signed, not encrypted). Only its SHA-256 is kept.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from petitions.admin import audit
from petitions.admin.permissions import admin_only
from petitions.api.keys import BadRateLimit, create_key, normalise_rate_limit
from petitions.api.models import DEFAULT_RATE_LIMIT, ApiKey, KeyScope
from petitions.database import utcnow
from petitions.extensions import db

bp = Blueprint("api_keys", __name__, url_prefix="/api-keys")


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name (the partner or site)"), validators=[
        DataRequired(_l("Enter a name.")),
        Length(max=100, message=_l("The name must be 100 characters or fewer."))],
        filters=[lambda v: " ".join(v.split()) if v else v])
    scope = SelectField(_l("Use"), choices=[
        (KeyScope.PARTNER.value, _l("Partner: sign petitions through the partner API")),
        (KeyScope.ARTICLES.value, _l("Articles: post articles to /api/articles")),
    ])
    rate_limit = StringField(_l("Rate limit"), default=DEFAULT_RATE_LIMIT, validators=[
        Length(max=100, message=_l("The rate limit must be 100 characters or fewer."))])

    def validate_rate_limit(self, field) -> None:
        try:
            field.data = normalise_rate_limit(field.data)
        except BadRateLimit:
            raise ValidationError(
                _l('Use a limit like "60/minute" or "60/minute;1000/day".')) from None


def _keys() -> list[ApiKey]:
    return list(db.session.scalars(
        select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc())))


@bp.get("/")
@admin_only
def index(form: ApiKeyForm | None = None, status: int = 200, new_secret: str | None = None,
          new_key: ApiKey | None = None):
    return render_template("admin/api_keys/index.html", keys=_keys(), form=form or ApiKeyForm(),
                           new_secret=new_secret, new_key=new_key), status


@bp.post("/")
@admin_only
def create():
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return index(form, 422)
    key, secret = create_key(form.name.data, form.scope.data, form.rate_limit.data)
    audit.record("api_key_created", key, name=key.name, scope=key.scope,
                 rate_limit=key.rate_limit)
    db.session.commit()
    return index(ApiKeyForm(formdata=None), 200, new_secret=secret, new_key=key)


@bp.post("/<int:key_id>/revoke")
@admin_only
def revoke(key_id: int):
    key = db.session.get(ApiKey, key_id)
    if key is None:
        abort(404)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record("api_key_revoked", key, name=key.name, scope=key.scope)
        db.session.commit()
        flash(_("Key %(name)s (%(prefix)s…) revoked. It stops working at once.",
                name=key.name, prefix=key.prefix))
    return redirect(url_for(".index"), code=303)
