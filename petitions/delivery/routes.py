"""Public routes for deliveries: the pack's PDF link, and the privacy page.

Also the petition page's "Delivered to … on …" note, through a template global.
"""

from __future__ import annotations

from email.utils import parseaddr
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, make_response, render_template
from flask_babel import gettext as _

from petitions.delivery.links import LINK_MAX_AGE_DAYS, read_pack_token
from petitions.delivery.pack import pdf_filename
from petitions.delivery.pdf import render_pack_pdf
from petitions.delivery.service import emailed_deliveries
from petitions.errors import render_error
from petitions.signing.models import Petition

bp = Blueprint("delivery", __name__)


@bp.app_template_global()
def petition_deliveries(petition: Petition) -> list[dict]:
    """For templates/delivery/_delivered_note.html: each emailed delivery, newest first,
    with its date on the site's calendar."""
    zone = ZoneInfo(current_app.config["SITE_TIMEZONE"])
    return [
        {"target": d.target_name, "date": d.delivered_at.astimezone(zone).date(),
         "delivered_at": d.delivered_at, "signature_count": d.signature_count}
        for d in emailed_deliveries(petition)
    ]


def _private(response):
    # The pack holds signers' names: no caching, no indexing, no referrer to the next site.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/deliveries/<token>.pdf")
def pack_pdf(token: str):
    link = read_pack_token(token)
    if link.delivery is None:
        return _private(make_response(render_error(
            404, _("This link doesn't work"),
            _("It may be incomplete: check that you copied the whole link from the email."))))
    if link.expired:
        return _private(make_response(render_error(
            410, _("This link has expired"),
            _("Links to a petition's signatures work for %(days)d days. Reply to the email "
              "that brought it to ask for a new one.", days=LINK_MAX_AGE_DAYS))))
    petition = link.delivery.petition
    if petition.is_removed:
        return _private(make_response(render_error(
            410, _("This petition has been removed"), petition.removal_reason)))
    response = make_response(render_pack_pdf(petition, link.delivery.delivered_at))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{pdf_filename(petition)}"'
    return _private(response)


@bp.get("/privacy")
def privacy():
    contact = parseaddr(current_app.config["MAIL_FROM"])[1]
    return render_template(
        "privacy.html", contact=contact,
        confirmation_days=current_app.config["CONFIRMATION_MAX_AGE_DAYS"],
        link_days=LINK_MAX_AGE_DAYS)
