"""Delivering a petition to its target: the pack, and the delivery email (admins only).

Every view here is admin-only: the pack holds every signer's name and region, which is
personal data in bulk. The page shows the target (editable), how many signatures a pack
would hold now, the packs and deliveries made so far with their PDF and CSV, and the
email form. Emailing goes through a confirmation page; see petitions/delivery/service.py
for how a double press is kept to one email.
"""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from petitions.admin import audit
from petitions.admin.delivery_forms import CoverForm, SendForm, TargetForm
from petitions.admin.lookups import not_found as _not_found
from petitions.admin.lookups import petition_by_slug as _petition
from petitions.admin.permissions import admin_only
from petitions.database import utcnow
from petitions.delivery import pack, service
from petitions.delivery.models import PetitionDelivery
from petitions.delivery.pdf import render_pack_pdf
from petitions.delivery.rendering import paragraphs
from petitions.extensions import db
from petitions.signing.models import Petition

bp = Blueprint("delivery", __name__, url_prefix="/petitions/<slug>/delivery")


@bp.context_processor
def helpers():
    return {"paragraphs": paragraphs}


def _delivery(petition: Petition, delivery_id: int) -> PetitionDelivery:
    delivery = db.session.get(PetitionDelivery, delivery_id)
    if delivery is None or delivery.petition_id != petition.id:
        _not_found(_("Pack not found"), _("This petition has no pack with that number."))
    return delivery


def _page(petition: Petition, status: int = 200, *, target_form=None, cover_form=None,
          error: str | None = None):
    deliveries = service.deliveries_of(petition)
    page = render_template(
        "admin/delivery/index.html",
        petition=petition,
        count_now=pack.count_signers(petition.id, utcnow()),
        deliveries=deliveries,
        emails=service.email_states(deliveries),
        target_form=target_form or TargetForm(obj=petition),
        cover_form=cover_form or CoverForm(),
        error=error,
    )
    return page, status


def _to_page(petition: Petition, anchor: str | None = None):
    return redirect(url_for(".index", slug=petition.slug, _anchor=anchor), code=303)


@bp.get("/")
@admin_only
def index(slug: str):
    return _page(_petition(slug))


@bp.post("/target")
@admin_only
def save_target(slug: str):
    petition = _petition(slug)
    form = TargetForm()
    if not form.validate():
        return _page(petition, 400, target_form=form)
    before = {"target": petition.target, "target_email": petition.target_email}
    petition.target = form.target.data
    petition.target_email = form.target_email.data or None
    after = {"target": petition.target, "target_email": petition.target_email}
    if after != before:
        audit.record("petition_target_changed", petition, before=before, after=after)
        db.session.commit()
    flash(_("The target is saved."))
    return _to_page(petition)


@bp.post("/packs")
@admin_only
def prepare_pack(slug: str):
    petition = _petition(slug)
    try:
        delivery = service.prepare_download(petition, current_user)
    except service.DeliveryRefused as refusal:
        return _page(petition, 409, error=str(refusal))
    flash(ngettext("The pack is ready, with %(num)d signature. Download it below.",
                   "The pack is ready, with %(num)d signatures. Download it below.",
                   delivery.signature_count))
    return _to_page(petition, "packs")


def _record_download(petition: Petition, delivery: PetitionDelivery, file_format: str) -> None:
    audit.record("delivery_pack_downloaded", petition, delivery_id=delivery.id,
                 format=file_format, signature_count=delivery.signature_count,
                 cutoff=delivery.delivered_at.isoformat(timespec="seconds"))
    db.session.commit()


@bp.get("/packs/<int:delivery_id>.pdf")
@admin_only
def download_pdf(slug: str, delivery_id: int):
    petition = _petition(slug)
    delivery = _delivery(petition, delivery_id)
    pdf = render_pack_pdf(petition, delivery.delivered_at)
    _record_download(petition, delivery, "pdf")
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{pack.pdf_filename(petition)}"'
    return response


@bp.get("/packs/<int:delivery_id>.csv")
@admin_only
def download_csv(slug: str, delivery_id: int):
    petition = _petition(slug)
    delivery = _delivery(petition, delivery_id)
    # Recorded and committed before the first byte leaves, as every personal-data export.
    _record_download(petition, delivery, "csv")
    chunks = pack.csv_chunks(petition.id, delivery.delivered_at)
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{pack.csv_filename(petition)}"'
    return response


# --- emailing the target ----------------------------------------------------------------

@bp.post("/review")
@admin_only
def review(slug: str):
    petition = _petition(slug)
    form = CoverForm()
    if not petition.target_email:
        return _page(petition, 409, cover_form=form, error=_(
            "Add the target's email address first, under “Target”."))
    if not form.validate():
        return _page(petition, 400, cover_form=form)
    count = pack.count_signers(petition.id, utcnow())
    try:
        service.check_deliverable(petition, count)
    except service.DeliveryRefused as refusal:
        return _page(petition, 409, cover_form=form, error=str(refusal))
    send_form = SendForm(cover_message=form.cover_message.data,
                         target_email=petition.target_email, nonce=secrets.token_urlsafe(18))
    earlier = [d for d in service.deliveries_of(petition)
               if d.target_email and d.target_email.lower() == petition.target_email.lower()]
    return render_template("admin/delivery/confirm.html", petition=petition, form=send_form,
                           count=count, earlier=earlier,
                           cover_paragraphs=paragraphs(form.cover_message.data))


@bp.post("/send")
@admin_only
def send(slug: str):
    petition = _petition(slug)
    form = SendForm()
    if not form.validate():
        cover = CoverForm(formdata=None, cover_message=form.cover_message.data)
        return _page(petition, 400, cover_form=cover, error=_(
            "The email wasn't sent: something was missing. Please review it again."))
    earlier = service.delivery_by_nonce(form.nonce.data)
    if earlier is None and form.target_email.data != petition.target_email:
        cover = CoverForm(formdata=None, cover_message=form.cover_message.data)
        return _page(petition, 409, cover_form=cover, error=_(
            "The target's email address changed after you reviewed the email. "
            "Nothing was sent: please review it again."))
    try:
        delivery, queued = service.email_delivery(
            petition, form.cover_message.data, form.nonce.data, current_user)
    except service.DeliveryRefused as refusal:
        return _page(petition, 409, error=str(refusal))
    if queued:
        flash(ngettext("The petition, with %(num)d signature, is on its way to %(email)s.",
                       "The petition, with %(num)d signatures, is on its way to %(email)s.",
                       delivery.signature_count, email=delivery.target_email))
    else:
        flash(_("This email was already sent (the button was pressed twice). "
                "Nothing more was sent."))
    return _to_page(petition, "packs")
