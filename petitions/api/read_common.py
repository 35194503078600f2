"""What the read endpoints share: which petitions are public, their public state, the
list item's fields, and the 400 answer for a bad query parameter."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, jsonify
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from petitions.database import utcnow
from petitions.signing.models import Petition, PetitionState

PUBLIC_STATES = (PetitionState.OPEN.value, PetitionState.CLOSED.value,
                 PetitionState.ARCHIVED.value)


class BadParameter(Exception):
    """A query parameter the API cannot use: answered as a 400 (404 for a filter naming
    something that does not exist) with a stable code."""

    def __init__(self, code: str, parameter: str, detail: str, status: int = 400):
        super().__init__(detail)
        self.code, self.parameter, self.detail, self.status = code, parameter, detail, status


def bad_parameter_response(error: BadParameter):
    title = (_("Something was wrong with that request") if error.status == 400
             else _("Page not found"))
    response = jsonify(error=title, detail=error.detail, status=error.status,
                       code=error.code, parameter=error.parameter)
    response.status_code = error.status
    return response


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def petition_url(slug: str) -> str:
    return f"{base_url()}/petitions/{slug}"


def petition_state(petition: Petition) -> str:
    """As the public sees it: an open petition past its closing time is closed."""
    if petition.state == PetitionState.OPEN and not petition.is_open:
        return PetitionState.CLOSED.value
    return petition.state


def public_petitions():
    """Listed petitions: never drafts, hidden or removed ones."""
    return select(Petition).where(Petition.state.in_(PUBLIC_STATES),
                                  Petition.hidden.is_(False), Petition.removed_at.is_(None))


def open_now():
    """Open, and not past the closing time (which the public sees as closed)."""
    return and_(Petition.state == PetitionState.OPEN.value,
                or_(Petition.closes_at.is_(None), Petition.closes_at > utcnow()))


def in_public_state(state: str):
    if state == PetitionState.OPEN.value:
        return open_now()
    if state == PetitionState.CLOSED.value:
        return or_(Petition.state == PetitionState.CLOSED.value,
                   and_(Petition.state == PetitionState.OPEN.value,
                        Petition.closes_at.is_not(None), Petition.closes_at <= utcnow()))
    return Petition.state == state


def category_json(petition: Petition) -> dict | None:
    category = petition.category
    return {"name": category.name, "slug": category.slug} if category else None


def petition_item(petition: Petition) -> dict:
    """One petition in a list: public fields only."""
    return {
        "slug": petition.slug,
        "title": petition.title,
        "summary": petition.summary,
        "state": petition_state(petition),
        "signature_count": petition.signature_count,
        "goal": petition.goal,
        "created_at": iso(petition.created_at),
        "closes_at": iso(petition.closes_at),
        "category": category_json(petition),
        "url": petition_url(petition.slug),
        "json_url": f"{petition_url(petition.slug)}.json",
    }
