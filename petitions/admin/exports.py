"""Signature counts (CSV, JSON) and signer lists (CSV, admins only)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import select

from petitions.admin import export_counts, export_signers
from petitions.admin.permissions import admin_only
from petitions.errors import render_error
from petitions.extensions import db
from petitions.signing.models import Petition

bp = Blueprint("exports", __name__, url_prefix="/exports")

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"", "0", "false", "no", "off"}


class BadRequest(Exception):
    def __init__(self, status: int, title: str, detail: str):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest):
    return render_error(error.status, error.title, error.detail)


def _petition_by_slug(slug: str) -> Petition:
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug[:200]))
    if petition is None:
        raise BadRequest(404, _("Petition not found"),
                         _("No petition has the address “%(slug)s”. Check the spelling.",
                           slug=slug[:80]))
    return petition


@bp.get("/")
def index():
    petitions = db.session.execute(
        select(Petition.slug, Petition.title, Petition.state, Petition.signature_count)
        .order_by(Petition.slug)
    ).all()
    return render_template("admin/exports/index.html", petitions=petitions)


@bp.get("/counts.<any(csv, json):fmt>")
def counts(fmt: str):
    by = request.args.get("by", "petition")
    if by not in export_counts.COUNT_KINDS:
        raise BadRequest(400, _("Unknown grouping"),
                         _("Counts can be grouped by petition, day, country or postcode."))
    slug = request.args.get("petition", "").strip()
    petition = _petition_by_slug(slug) if slug else None
    body = export_counts.render_counts(by, fmt, petition)
    response = Response(body, mimetype=export_counts.MIMETYPES[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{export_counts.filename(by, fmt, petition)}"')
    return response


@bp.get("/<slug>/signatures.csv")
@admin_only
def signers(slug: str):
    bom_word = request.args.get("bom", "").strip().lower()
    if bom_word not in TRUE_WORDS | FALSE_WORDS:
        raise BadRequest(400, _("Unknown option"), _("Use bom=1 for Excel, or leave it out."))
    bom = bom_word in TRUE_WORDS
    petition = _petition_by_slug(slug)
    petition_id, name = petition.id, export_signers.filename(petition)
    export_signers.record_export(petition, via="admin", bom=bom)
    chunks = export_signers.signer_chunks(petition_id, bom=bom)
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
