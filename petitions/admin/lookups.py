"""Finding what an admin URL names, or answering a friendly 404."""

from __future__ import annotations

from flask import abort, make_response
from flask_babel import gettext as _
from sqlalchemy import select

from petitions.errors import render_error
from petitions.extensions import db
from petitions.signing.models import Petition


def not_found(title: str, detail: str):
    abort(make_response(render_error(404, title, detail)))


def petition_by_slug(slug: str) -> Petition:
    """Any petition (drafts, hidden and removed ones too): this is the admin."""
    petition = None
    if len(slug) <= 80:
        petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None:
        not_found(_("Petition not found"), _("There is no petition at that address."))
    return petition
