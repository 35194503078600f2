"""The PDF link in a delivery email: /deliveries/<token>.pdf, signed and expiring.

The token names the delivery and its cutoff, so it can never open another delivery that
happens to reuse a deleted one's id. It works for LINK_MAX_AGE_DAYS after the email was
sent; an expired link still says which delivery it was, so the page can say "expired"
rather than "broken". Built from BASE_URL and a plain path: the worker has no request.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer

from petitions.delivery.models import PetitionDelivery
from petitions.extensions import db
from petitions.tokens import serializer

SALT = "petition-delivery-pack"
LINK_MAX_AGE_DAYS = 90
MAX_TOKEN_LENGTH = 200


def _serializer() -> URLSafeTimedSerializer:
    return serializer(SALT)


def _stamp(delivery: PetitionDelivery) -> str:
    return delivery.delivered_at.strftime("%Y%m%d%H%M%S%f")


def pack_token(delivery: PetitionDelivery) -> str:
    return _serializer().dumps([delivery.id, _stamp(delivery)])


def pdf_path(token: str) -> str:
    return f"/deliveries/{token}.pdf"


def pdf_url(delivery: PetitionDelivery) -> str:
    return current_app.config["BASE_URL"] + pdf_path(pack_token(delivery))


@dataclass(frozen=True)
class PackLink:
    delivery: PetitionDelivery | None
    expired: bool = False


def read_pack_token(token: str) -> PackLink:
    """The delivery a token names (None when it is overlong, tampered or stale)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return PackLink(None)
    serializer = _serializer()
    expired = False
    try:
        payload = serializer.loads(token, max_age=LINK_MAX_AGE_DAYS * 86400)
    except SignatureExpired as exc:
        expired = True
        try:
            payload = serializer.load_payload(exc.payload)
        except BadData:
            return PackLink(None)
    except BadSignature:
        return PackLink(None)
    if not (isinstance(payload, list) and len(payload) == 2
            and type(payload[0]) is int and isinstance(payload[1], str)):
        return PackLink(None)
    delivery = db.session.get(PetitionDelivery, payload[0])
    if delivery is None or _stamp(delivery) != payload[1]:
        return PackLink(None)
    return PackLink(delivery, expired)
