"""The public read API: petitions as JSON and CSV, categories (no personal data, except
the first names and regions of signers who chose to be shown, on the petition's own
endpoint). Every route here answers any origin (CORS) and conditional GETs (ETag, 304).

The list views live in read_list, the detail's extra parts in read_detail; all are
served by this blueprint.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from petitions.api import read_list
from petitions.api.http_cache import add_cors_headers, cacheable
from petitions.api.read_common import category_json, iso, petition_state, petition_url
from petitions.api.read_detail import (
    counts_by_country,
    counts_by_postcode_area,
    recent_signers,
    related_articles,
)
from petitions.delivery.service import public_deliveries
from petitions.signing.models import Petition
from petitions.signing.routes import _public_petition
from petitions.text import render_markdown
from petitions.updates.routes import published_updates

bp = Blueprint("public_api", __name__)
# CORS for every read endpoint, including signing.count and the feeds.
bp.after_app_request(add_cors_headers)

bp.add_url_rule("/petitions.json", "petitions", read_list.petitions, methods=["GET"])
bp.add_url_rule("/categories.json", "categories", read_list.categories, methods=["GET"])
bp.add_url_rule("/petitions.csv", "petitions_csv", read_list.petitions_csv, methods=["GET"])

__all__ = ["bp", "petition_json", "petition_state"]


def petition_json(petition: Petition) -> dict:
    return {
        "slug": petition.slug,
        "title": petition.title,
        "summary": petition.summary,
        "target": petition.target,
        "state": petition_state(petition),
        "goal": petition.goal,
        "signature_count": petition.signature_count,
        "closes_at": iso(petition.closes_at),
        "created_at": iso(petition.created_at),
        "category": category_json(petition),
        "url": petition_url(petition.slug),
        "updates": [
            {
                "title": update.title,
                "body_html": str(render_markdown(update.body)),
                "published_at": iso(update.published_at),
                "kind": update.kind,
            }
            for update in published_updates(petition)
        ],
        "deliveries": public_deliveries(petition),
        "counts_by_country": counts_by_country(petition),
        "counts_by_postcode_area": counts_by_postcode_area(petition),
        "articles": related_articles(petition),
        "recent_signers": recent_signers(petition),
    }


@bp.get("/petitions/<slug>.json")
def petition(slug: str):
    """Hidden and draft petitions answer 404, removed ones 410 with the reason, as JSON."""
    response = jsonify(petition_json(_public_petition(slug)))
    return cacheable(response, current_app.config["COUNT_REFRESH_SECONDS"])
