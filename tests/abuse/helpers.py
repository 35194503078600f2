"""Signing through the real form, from a given IP, the way a browser (or a bot) would."""

from __future__ import annotations

from sqlalchemy import select

from petitions.extensions import db
from petitions.signing.counting import fold_confirmed_signatures
from petitions.signing.models import Petition, Signature
from petitions.signing.service import confirm_signature
from petitions.signing.tokens import make_confirmation_token
from tests.signing.helpers import SIGNER, inputs


def form_fields(client, slug: str, ip: str = "198.51.100.1") -> dict[str, str]:
    """Every hidden input of the signing form (CSRF token, the form's start time)."""
    page = client.get(f"/petitions/{slug}", environ_base={"REMOTE_ADDR": ip})
    assert page.status_code == 200
    return {name: attrs.get("value") or "" for name, attrs in
            inputs(page.get_data(as_text=True)).items() if attrs.get("type") == "hidden"}


def sign(client, slug: str, ip: str = "198.51.100.1", drop: tuple[str, ...] = (), **fields):
    """GET the page and POST its form from `ip`; `fields` override SIGNER and the hidden
    inputs; names in `drop` are left out of the POST."""
    data = {**form_fields(client, slug, ip), **SIGNER, **fields}
    data = {name: value for name, value in data.items() if name not in drop}
    return client.post(f"/petitions/{slug}/sign", data=data, environ_base={"REMOTE_ADDR": ip})


def stored(petition: Petition) -> list[Signature]:
    query = select(Signature).where(Signature.petition_id == petition.id).order_by(Signature.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def confirm_all_and_fold(petition: Petition) -> int:
    """Confirm every stored signature through its real token, fold, return the count."""
    for signature in stored(petition):
        confirm_signature(make_confirmation_token(signature.id, signature.canonical_email))
    fold_confirmed_signatures()
    db.session.refresh(petition)
    return petition.signature_count
