"""GET /petitions.json (filtered, paged), GET /categories.json and GET /petitions.csv."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Response, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from petitions.admin.csv_safety import csv_line, neutralise
from petitions.api.http_cache import LIST_MAX_AGE, cacheable
from petitions.api.read_common import (
    PUBLIC_STATES,
    BadParameter,
    bad_parameter_response,
    base_url,
    in_public_state,
    open_now,
    petition_item,
    petition_state,
    petition_url,
    public_petitions,
)
from petitions.extensions import db
from petitions.newsletter.models import Category
from petitions.signing.models import Petition

MAX_PER_PAGE = 50
DEFAULT_PER_PAGE = 20
MAX_PAGE = 10_000
MAX_QUERY_LENGTH = 100
MAX_SLUG_LENGTH = 80


@dataclass(frozen=True)
class Filters:
    state: str | None
    category: str | None
    q: str | None

    def params(self) -> dict[str, str]:
        return {k: v for k, v in (("state", self.state), ("category", self.category),
                                  ("q", self.q)) if v}


def _text_param(name: str, limit: int, strip: bool = True) -> str | None:
    value = request.args.get(name, "")
    value = value.strip() if strip else value
    if "\x00" in value:
        raise BadParameter(f"invalid_{name}", name,
                           _("%(name)s contains a character we can't use.", name=name))
    if len(value) > limit:
        raise BadParameter(f"{name}_too_long", name,
                           _("%(name)s can be at most %(limit)d characters.",
                             name=name, limit=limit))
    return value or None


def _int_param(name: str, default: int, highest: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= highest:
        raise BadParameter(f"invalid_{name}", name,
                           _("%(name)s must be a whole number from 1 to %(highest)d.",
                             name=name, highest=highest))
    return int(raw)


def parse_filters() -> Filters:
    state = _text_param("state", 20, strip=False)
    if state is not None and state not in PUBLIC_STATES:
        raise BadParameter("invalid_state", "state",
                           _("state must be one of: %(states)s.", states=", ".join(PUBLIC_STATES)))
    category = _text_param("category", MAX_SLUG_LENGTH)
    if category is not None and db.session.scalar(
            select(Category.id).where(Category.slug == category)) is None:
        raise BadParameter("unknown_category", "category",
                           _("There is no category with that slug."), status=404)
    return Filters(state=state, category=category, q=_text_param("q", MAX_QUERY_LENGTH))


def filtered(filters: Filters):
    query = public_petitions()
    if filters.state:
        query = query.where(in_public_state(filters.state))
    if filters.category:
        query = query.join(Category, Petition.category_id == Category.id).where(
            Category.slug == filters.category)
    if filters.q:
        query = query.where(or_(Petition.title.icontains(filters.q, autoescape=True),
                                Petition.summary.icontains(filters.q, autoescape=True)))
    return query


def _page_url(filters: Filters, page: int, per_page: int) -> str:
    params = {**filters.params(), "page": str(page), "per_page": str(per_page)}
    return f"{base_url()}/petitions.json?{urlencode(params)}"


def petitions() -> Response:
    try:
        filters = parse_filters()
        page = _int_param("page", 1, MAX_PAGE)
        per_page = _int_param("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    except BadParameter as error:
        return bad_parameter_response(error)
    query = filtered(filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(Petition.created_at.desc(), Petition.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    last_page = max(1, -(-total // per_page))
    links = {
        "self": _page_url(filters, page, per_page),
        "first": _page_url(filters, 1, per_page),
        "last": _page_url(filters, last_page, per_page),
        "next": _page_url(filters, page + 1, per_page) if page < last_page else None,
        "prev": _page_url(filters, min(page, last_page + 1) - 1, per_page)
        if page > 1 else None,
    }
    response = jsonify(
        petitions=[petition_item(p) for p in rows],
        page=page, per_page=per_page, total=total, links=links,
    )
    response.headers["Link"] = ", ".join(
        f'<{url}>; rel="{rel}"' for rel, url in links.items() if url and rel != "self")
    return cacheable(response, LIST_MAX_AGE)


def categories() -> Response:
    open_counts = dict(db.session.execute(
        public_petitions().where(open_now()).with_only_columns(
            Petition.category_id, func.count()).group_by(Petition.category_id)
    ).all())
    rows = db.session.scalars(select(Category).order_by(Category.name)).all()
    response = jsonify(categories=[
        {"name": c.name, "slug": c.slug, "open_petitions": open_counts.get(c.id, 0),
         "url": f"{base_url()}/petitions.json?{urlencode({'category': c.slug})}",
         "feed_url": f"{base_url()}/categories/{c.slug}/petitions.atom"}
        for c in rows
    ])
    return cacheable(response, LIST_MAX_AGE)


def petitions_csv() -> Response:
    """Every listed petition (same filters as petitions.json), safe to open in a spreadsheet."""
    try:
        filters = parse_filters()
    except BadParameter as error:
        return bad_parameter_response(error)
    rows = db.session.scalars(
        filtered(filters).order_by(Petition.created_at.desc(), Petition.id.desc())).all()
    lines = [csv_line(["slug", "title", "state", "count", "url"])]
    lines += [csv_line([neutralise(p.slug), neutralise(p.title), petition_state(p),
                        str(p.signature_count), petition_url(p.slug)]) for p in rows]
    response = Response("".join(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'inline; filename="petitions.csv"'
    return cacheable(response, LIST_MAX_AGE)
