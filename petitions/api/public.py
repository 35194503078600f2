"""The public read API: petitions as JSON (no personal data, except the first names and
regions of signers who chose to be shown, on the petition's own endpoint)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, jsonify

from petitions.delivery.service import public_deliveries
from petitions.signing.models import Petition, PetitionState
from petitions.signing.routes import _public_petition
from petitions.text import render_markdown
from petitions.updates.routes import published_updates

bp = Blueprint("public_api", __name__)


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def petition_state(petition: Petition) -> str:
    """As the public sees it: an open petition past its closing time is closed."""
    if petition.state == PetitionState.OPEN and not petition.is_open:
        return PetitionState.CLOSED.value
    return petition.state


def petition_json(petition: Petition) -> dict:
    category = petition.category
    return {
        "slug": petition.slug,
        "title": petition.title,
        "summary": petition.summary,
        "target": petition.target,
        "state": petition_state(petition),
        "goal": petition.goal,
        "signature_count": petition.signature_count,
        "closes_at": _time(petition.closes_at),
        "created_at": _time(petition.created_at),
        "category": {"name": category.name, "slug": category.slug} if category else None,
        "url": f"{current_app.config['BASE_URL']}/petitions/{petition.slug}",
        "updates": [
            {
                "title": update.title,
                "body_html": str(render_markdown(update.body)),
                "published_at": _time(update.published_at),
                "kind": update.kind,
            }
            for update in published_updates(petition)
        ],
        "deliveries": public_deliveries(petition),
    }


@bp.get("/petitions/<slug>.json")
def petition(slug: str):
    """Hidden and draft petitions answer 404, removed ones 410 with the reason, as JSON."""
    response = jsonify(petition_json(_public_petition(slug)))
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["COUNT_REFRESH_SECONDS"]
    return response
