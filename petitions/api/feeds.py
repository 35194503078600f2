"""Atom feeds of new petitions, site-wide and per category (Atom 1.0, RFC 4287).

Built with xml.etree, so every title and summary is escaped. Only public petitions
appear (never drafts, hidden or removed ones), newest first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, abort
from flask_babel import gettext as _
from sqlalchemy import select

from petitions.api.http_cache import LIST_MAX_AGE, cacheable
from petitions.api.read_common import base_url, petition_url, public_petitions
from petitions.extensions import db
from petitions.newsletter.models import Category
from petitions.signing.models import Petition

bp = Blueprint("feeds", __name__)

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _stamp(moment: datetime | None) -> str:
    moment = (moment or EPOCH).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _link(parent: ET.Element, href: str, rel: str, kind: str | None = None) -> None:
    attributes = {"href": href, "rel": rel}
    if kind:
        attributes["type"] = kind
    ET.SubElement(parent, "link", attributes)


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def atom_feed(title: str, self_url: str, alternate: str, petitions: list[Petition]) -> bytes:
    feed = ET.Element("feed", {"xmlns": ATOM})
    _text(feed, "id", self_url)
    _text(feed, "title", title)
    _text(feed, "updated", _stamp(max((p.updated_at or p.created_at for p in petitions),
                                      default=None)))
    _link(feed, self_url, "self", "application/atom+xml")
    _link(feed, alternate, "alternate", "text/html")
    author = ET.SubElement(feed, "author")
    _text(author, "name", _("Petitions"))
    for petition in petitions:
        entry = ET.SubElement(feed, "entry")
        _text(entry, "id", petition_url(petition.slug))
        _text(entry, "title", petition.title)
        _text(entry, "published", _stamp(petition.created_at))
        _text(entry, "updated", _stamp(petition.updated_at or petition.created_at))
        _link(entry, petition_url(petition.slug), "alternate", "text/html")
        _link(entry, f"{petition_url(petition.slug)}.json", "related", "application/json")
        _text(entry, "summary", petition.summary)
        if petition.category:
            ET.SubElement(entry, "category", {"term": petition.category.slug,
                                              "label": petition.category.name})
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _newest(query) -> list[Petition]:
    return list(db.session.scalars(
        query.order_by(Petition.created_at.desc(), Petition.id.desc()).limit(FEED_SIZE)))


def _atom_response(body: bytes) -> Response:
    response = Response(body, mimetype="application/atom+xml")
    return cacheable(response, LIST_MAX_AGE)


@bp.get("/petitions.atom")
def petitions():
    return _atom_response(atom_feed(_("New petitions"), f"{base_url()}/petitions.atom",
                                    f"{base_url()}/", _newest(public_petitions())))


@bp.get("/categories/<slug>/petitions.atom")
def category_petitions(slug: str):
    if len(slug) > 80:
        abort(404)
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        abort(404)
    query = public_petitions().where(Petition.category_id == category.id)
    title = _("New petitions: %(category)s", category=category.name)
    return _atom_response(atom_feed(title, f"{base_url()}/categories/{slug}/petitions.atom",
                                    f"{base_url()}/", _newest(query)))
