"""Signatures in every state, at known times, and small helpers for the admin pages."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import func, select

from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from tests.factories import SignatureFactory

COVER = "Dear Mayor,\n\nPlease find our petition attached.\n\nThe campaign"


def confirmed(petition, minutes_ago: float = 60, **fields):
    return SignatureFactory(petition=petition, state="confirmed",
                            confirmed_at=utcnow() - timedelta(minutes=minutes_ago), **fields)


def invalidated(petition, minutes_ago: float = 60, **fields):
    moment = utcnow() - timedelta(minutes=minutes_ago)
    return SignatureFactory(petition=petition, state="invalidated", confirmed_at=moment,
                            invalidated_at=moment, invalidation_reason="test", **fields)


def pending(petition, **fields):
    return SignatureFactory(petition=petition, state="pending", **fields)


def mixed_signers(petition):
    """Four people in the pack (in this order) and two who are not."""
    people = [
        confirmed(petition, 50, name="Zoë Ångström-Núñez", postcode="20004", country="US",
                  comment="Ça suffit, « enfin »."),
        confirmed(petition, 40, name="=HYPERLINK(\"http://evil.example\")", postcode="SW1A 1AA",
                  country="GB", comment="+1 from London, \"quoted\""),
        confirmed(petition, 30, name="@mention Smith", postcode="K1A 0B1", country="CA",
                  comment="-minus\nand a second line"),
        # Its text layer is right; drawing it needs a CJK font on the server.
        confirmed(petition, 20, name="李小龍", postcode="10115", country="DE",
                  comment="\tTabbed\rreturn"),
    ]
    pending(petition, name="Pending Person")
    invalidated(petition, 45, name="Invalid Person")
    return people


# --- the admin pages ---------------------------------------------------------------------

def entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def base(petition) -> str:
    return f"/admin/petitions/{petition.slug}/delivery"


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": client.csrf, **data})
