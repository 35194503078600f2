"""The extra parts of GET /petitions/<slug>.json: where the signatures come from, the
related articles and the signers who chose to be shown (first name and country only)."""

from __future__ import annotations

from sqlalchemy import func, select

from petitions.admin.export_counts import postcode_prefix
from petitions.api.read_common import iso
from petitions.extensions import db
from petitions.newsletter.models import Article
from petitions.signing.forms import country_name
from petitions.signing.models import Petition, Signature, SignatureState

MAX_ARTICLES = 50
RECENT_SIGNERS = 10


def _counted_by(petition: Petition, key) -> list[tuple[str, int]]:
    """Confirmed signatures (never flagged or invalidated) per value of key, most first."""
    key = key.label("key")
    rows = db.session.execute(
        select(key, func.count())
        .where(Signature.petition_id == petition.id,
               Signature.state == SignatureState.CONFIRMED, Signature.flagged.is_(False))
        .group_by(key)
    ).all()
    return sorted(((value, n) for value, n in rows if value), key=lambda r: (-r[1], r[0]))


def counts_by_country(petition: Petition) -> list[dict]:
    return [{"country": code, "name": country_name(code), "signature_count": n}
            for code, n in _counted_by(petition, Signature.country)]


def counts_by_postcode_area(petition: Petition) -> list[dict]:
    return [{"area": area, "signature_count": n}
            for area, n in _counted_by(petition, postcode_prefix(Signature.postcode))]


def related_articles(petition: Petition) -> list[dict]:
    rows = db.session.scalars(
        select(Article).where(Article.petition_id == petition.id)
        .order_by(Article.published_at.desc(), Article.id.desc()).limit(MAX_ARTICLES)
    )
    return [{"title": a.title, "url": a.url, "published_at": iso(a.published_at)} for a in rows]


def recent_signers(petition: Petition) -> list[dict]:
    """Only those who ticked "show my name": first name and country name, nothing else.
    Flagged signatures are never counted, so they are never shown either."""
    rows = db.session.scalars(
        select(Signature)
        .where(Signature.petition_id == petition.id,
               Signature.state == SignatureState.CONFIRMED, Signature.flagged.is_(False),
               Signature.show_name_publicly.is_(True))
        .order_by(Signature.confirmed_at.desc(), Signature.id.desc()).limit(RECENT_SIGNERS)
    )
    return [{"first_name": s.first_name, "region": country_name(s.country)} for s in rows]
