"""Public routes for updates: per-petition one-click unsubscribe, and the updates shown on
the petition's page (the `published_updates` template global)."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from petitions.database import utcnow
from petitions.extensions import csrf, db
from petitions.signing.models import Petition, Signature
from petitions.updates.links import read_stop_token
from petitions.updates.models import PetitionUpdate, UpdateState

bp = Blueprint("updates", __name__)

SHOWN_ON_PAGE = 50


@bp.app_template_global()
def published_updates(petition: Petition) -> list[PetitionUpdate]:
    """The petition's published updates, newest first."""
    return list(db.session.scalars(
        select(PetitionUpdate)
        .where(PetitionUpdate.petition_id == petition.id,
               PetitionUpdate.state != UpdateState.DRAFT,
               PetitionUpdate.published_at.is_not(None))
        .order_by(PetitionUpdate.published_at.desc(), PetitionUpdate.id.desc())
        .limit(SHOWN_ON_PAGE)
    ))


def stop_updates(signature: Signature) -> bool:
    """Stop this petition's updates for this signer; True if they were still on. Nothing
    else changes: the newsletter, and updates on other petitions they signed, go on."""
    if signature.updates_stopped_at is not None:
        return False
    signature.email_updates = False
    signature.updates_stopped_at = utcnow()
    db.session.commit()
    return True


@bp.get("/updates/stop/<token>")
def stop_page(token: str):
    # The footer link lands here. Looking changes nothing, so link scanners never stop
    # anyone's updates; the button POSTs to the same address.
    signature = read_stop_token(token)
    if signature is None:
        return render_template("updates/link_problem.html"), 404
    return render_template("updates/stop.html", signature=signature,
                           petition=signature.petition, token=token)


@bp.post("/updates/stop/<token>")
@csrf.exempt
def stop(token: str):
    """RFC 8058: a mail client POSTs "List-Unsubscribe=One-Click" with no cookies and no
    CSRF token. Stopping updates is safe to do for whoever holds the token."""
    signature = read_stop_token(token)
    from_page = request.form.get("from") == "page"
    if signature is None:
        if from_page:
            return render_template("updates/link_problem.html"), 404
        return _plain(_("This link doesn't work."), 404)
    stop_updates(signature)
    if from_page:
        return render_template("updates/stopped.html", petition=signature.petition)
    return _plain(_("Done. We won't send you any more updates on this petition."))


def _plain(text: str, status: int = 200):
    response = make_response(text + "\n", status)
    response.mimetype = "text/plain"
    return response
