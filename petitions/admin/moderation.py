"""Signature search, invalidation, and the fraud view, under /admin/signatures.

Moderators and admins alike may use every view here. The filters and their SQL live in
signature_search, the changes in invalidation, the fraud numbers in fraud.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from petitions.admin import fraud as fraud_counts
from petitions.admin import invalidation
from petitions.admin import signature_search as search
from petitions.admin.moderation_forms import (
    BulkInvalidateForm,
    FraudForm,
    ReasonForm,
    RestoreForm,
    search_form,
)
from petitions.admin.signature_search import FilterError, SignatureFilters
from petitions.extensions import db
from petitions.signing.models import Signature, SignatureState

bp = Blueprint("moderation", __name__, url_prefix="/signatures")
MAX_ID = 2**31 - 1  # ids are 32-bit integers; a larger one would fail PostgreSQL's cast


def _signature(signature_id: int) -> Signature:
    if signature_id > MAX_ID:
        abort(404)
    signature = db.session.get(Signature, signature_id)
    if signature is None:
        abort(404)
    return signature


def _filters_or_errors(form) -> tuple[SignatureFilters | None, list]:
    """The filters and their SQL conditions, or None when a value is bad (the form then
    carries the messages)."""
    filters = search.parse_filters(form)
    if filters is None:
        return None, []
    try:
        return filters, search.conditions(filters)
    except FilterError as error:
        form[error.field].errors.append(error.message)
        return None, []


# --- search -------------------------------------------------------------------------------

def _page_start() -> tuple[int | None, bool]:
    """The `before` id of a later page: (id or None, whether the value was usable)."""
    text = request.args.get("before", "")
    if not text:
        return None, True
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_ID:
        return None, False
    return int(text), True


@bp.get("/")
def index():
    form = search_form(request.args)
    filters, where = _filters_or_errors(form)
    before, page_ok = _page_start()
    if filters is None or not page_ok:
        page_error = None if page_ok else _("That page link is broken. Start again from the "
                                            "first page.")
        return render_template("admin/moderation/index.html", form=form, filters=None,
                               page_error=page_error, signatures=[], total=0), 422
    signatures, next_before = search.page_of(where, before)
    return render_template(
        "admin/moderation/index.html", form=form, filters=filters, page_error=None,
        signatures=signatures, total=search.count_matching(where), next_before=next_before,
        first_page=before is None,
    )


@bp.get("/<int:signature_id>")
def detail(signature_id: int):
    signature = _signature(signature_id)
    return render_template("admin/moderation/detail.html", signature=signature,
                           form=ReasonForm(), restore_form=RestoreForm())


# --- one signature ------------------------------------------------------------------------

@bp.post("/<int:signature_id>/invalidate")
def invalidate(signature_id: int):
    signature = _signature(signature_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return render_template("admin/moderation/detail.html", signature=signature, form=form,
                               restore_form=RestoreForm()), 422
    if invalidation.invalidate_signature(signature, form.reason.data):
        flash(_("Signature invalidated. It no longer counts, and its signer gets no more "
                "email from us."))
    else:
        flash(_("That signature was already invalidated."))
    return redirect(url_for(".detail", signature_id=signature_id), code=303)


@bp.post("/<int:signature_id>/restore")
def restore(signature_id: int):
    signature = _signature(signature_id)
    if not RestoreForm().validate_on_submit():
        abort(400)
    state = invalidation.restore_signature(signature)
    if state is None:
        flash(_("That signature is not invalidated, so there was nothing to restore."))
    elif state == "confirmed":
        flash(_("Signature restored as confirmed. It counts again from the next count update."))
    else:
        flash(_("Signature restored as pending. It counts once its signer confirms it."))
    return redirect(url_for(".detail", signature_id=signature_id), code=303)


# --- many signatures ----------------------------------------------------------------------

def _preview(form, filters, where, bulk_form, status=200, changed_from=None):
    petitions = invalidation.preview([*where, Signature.state != SignatureState.INVALIDATED])
    count = sum(matching for _petition, matching, _counted in petitions)
    bulk_form.expected_count.data = str(count)
    return render_template(
        "admin/moderation/bulk_preview.html", form=form, filters=filters, count=count,
        petitions=petitions, bulk_form=bulk_form, changed_from=changed_from,
    ), status


def _no_filters(form):
    return render_template("admin/moderation/bulk_preview.html", form=form, filters=None,
                           no_filters=True), 400


@bp.get("/invalidate")
def bulk_preview():
    form = search_form(request.args)
    filters, where = _filters_or_errors(form)
    if filters is None:
        return render_template("admin/moderation/bulk_preview.html", form=form,
                               filters=None), 422
    if not filters:
        return _no_filters(form)
    return _preview(form, filters, where, BulkInvalidateForm(formdata=None))


@bp.post("/invalidate")
def bulk_invalidate():
    form = search_form(request.form)
    bulk_form = BulkInvalidateForm()
    filters, where = _filters_or_errors(form)
    if filters is None:
        return render_template("admin/moderation/bulk_preview.html", form=form,
                               filters=None), 422
    if not filters:
        return _no_filters(form)
    if not bulk_form.validate_on_submit():
        return _preview(form, filters, where, bulk_form, status=422)
    expected = int(bulk_form.expected_count.data)
    try:
        count = invalidation.invalidate_matching(filters, bulk_form.reason.data, expected)
    except invalidation.CountChanged:
        return _preview(form, filters, where, bulk_form, status=409, changed_from=expected)
    except FilterError as error:
        form[error.field].errors.append(error.message)
        return render_template("admin/moderation/bulk_preview.html", form=form,
                               filters=None), 422
    flash(ngettext("Invalidated %(num)d signature.", "Invalidated %(num)d signatures.", count))
    return redirect(url_for(".index", **filters.as_args()), code=303)


# --- fraud --------------------------------------------------------------------------------

@bp.get("/fraud")
def fraud():
    form = FraudForm(request.args)
    settings = fraud_counts.parse_settings(form)
    if settings is None:
        return render_template("admin/moderation/fraud.html", form=form, settings=None), 422
    return render_template(
        "admin/moderation/fraud.html", form=form, settings=settings,
        by_ip=fraud_counts.busiest("ip", settings),
        by_domain=fraud_counts.busiest("domain", settings),
        row_limit=fraud_counts.ROW_LIMIT,
    )
