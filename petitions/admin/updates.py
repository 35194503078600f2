"""Writing, previewing, test-sending and sending petition updates; their progress.

Moderators and admins alike may use every view here (updates are part of running a
petition; no personal data is shown). The sending itself lives in petitions/updates/.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

import petitions.updates.tasks  # noqa: F401  (registers the update tasks with Celery)
from petitions.admin import audit
from petitions.admin.lookups import not_found as _not_found
from petitions.admin.lookups import petition_by_slug as _petition
from petitions.admin.update_forms import BODY_MAX, UpdateForm
from petitions.errors import render_error
from petitions.extensions import db
from petitions.signing.models import Petition
from petitions.text import render_markdown
from petitions.updates import recipients, sending
from petitions.updates.models import PetitionUpdate, UpdateKind, UpdateState
from petitions.updates.trial import queue_test

bp = Blueprint("updates", __name__, url_prefix="/petitions/<slug>/updates")


@bp.context_processor
def helpers():
    labels = {UpdateKind.MANUAL: _("written"), UpdateKind.GOAL_REACHED: _("goal reached"),
              UpdateKind.CLOSED: _("closed")}
    states = {UpdateState.DRAFT: _("draft"), UpdateState.SENDING: _("sending"),
              UpdateState.SENT: _("sent")}
    return {"kind_label": lambda kind: labels.get(kind, kind),
            "state_label": lambda state: states.get(state, state)}


def _update(petition: Petition, update_id: int, lock: bool = False) -> PetitionUpdate:
    update = db.session.get(PetitionUpdate, update_id, with_for_update=lock or None)
    if update is None or update.petition_id != petition.id:
        _not_found(_("Update not found"), _("This petition has no update with that number."))
    return update


def _to_show(petition: Petition, update: PetitionUpdate):
    return redirect(url_for(".show", slug=petition.slug, update_id=update.id), code=303)


# --- the list, and the milestone switch --------------------------------------------------

@bp.get("/")
def index(slug: str):
    petition = _petition(slug)
    updates = list(db.session.scalars(
        select(PetitionUpdate).where(PetitionUpdate.petition_id == petition.id)
        .order_by(PetitionUpdate.created_at.desc(), PetitionUpdate.id.desc())
    ))
    return render_template("admin/updates/index.html", petition=petition, updates=updates,
                           progress=recipients.progress_of(updates))


@bp.post("/milestones")
def milestones(slug: str):
    wanted = request.form.get("milestone_emails", "")
    if wanted not in ("on", "off"):
        return render_error(400, _("Choose on or off"),
                            _("Milestone emails can be switched on or off."))
    petition = _petition(slug)
    if petition.milestone_emails != (wanted == "on"):
        petition.milestone_emails = wanted == "on"
        audit.record("milestone_emails_changed", petition, slug=petition.slug,
                     milestone_emails=petition.milestone_emails)
        db.session.commit()
    flash(_("Milestone emails are on: signers who asked for updates will hear when the goal "
            "is reached and when the petition closes.") if wanted == "on"
          else _("Milestone emails are off."))
    return redirect(url_for(".index", slug=petition.slug), code=303)


# --- writing -----------------------------------------------------------------------------

def _render_form(form: UpdateForm, petition: Petition, update: PetitionUpdate | None,
                 status: int = 200):
    preview = None
    if form.preview.data and len(form.body.data or "") <= BODY_MAX:
        preview = render_markdown(form.body.data)
    return render_template("admin/updates/form.html", form=form, petition=petition,
                           update=update, preview=preview), status


@bp.route("/new", methods=["GET", "POST"])
def create(slug: str):
    petition = _petition(slug)
    form = UpdateForm()
    if not form.is_submitted():
        return _render_form(form, petition, None)
    valid = form.validate()
    if form.preview.data:
        return _render_form(form, petition, None)
    if not valid:
        return _render_form(form, petition, None, status=422)
    update = PetitionUpdate(petition_id=petition.id, kind=UpdateKind.MANUAL.value,
                            state=UpdateState.DRAFT.value, title=form.title.data,
                            body=form.body.data, created_by_id=current_user.id)
    db.session.add(update)
    db.session.flush()
    audit.record("update_created", update, petition=petition.slug, title=update.title)
    db.session.commit()
    flash(_("The update is saved as a draft. Check it, send yourself a test, then send it."))
    return _to_show(petition, update)


def _draft_only(petition: Petition, update: PetitionUpdate):
    return render_template("admin/updates/show.html", petition=petition, update=update,
                           progress=recipients.progress_of([update])[update.id],
                           error=_("This update has been sent, so it can't be changed.")), 409


@bp.route("/<int:update_id>/edit", methods=["GET", "POST"])
def edit(slug: str, update_id: int):
    petition = _petition(slug)
    update = _update(petition, update_id, lock=request.method == "POST")
    if update.state != UpdateState.DRAFT:  # perhaps sent while this form was open
        return _draft_only(petition, update)
    form = UpdateForm(obj=update)
    if not form.is_submitted():
        return _render_form(form, petition, update)
    valid = form.validate()
    if form.preview.data:
        return _render_form(form, petition, update)
    if not valid:
        return _render_form(form, petition, update, status=422)
    changed = [name for name in ("title", "body") if getattr(update, name) != form[name].data]
    if changed:
        update.title, update.body = form.title.data, form.body.data
        audit.record("update_edited", update, petition=petition.slug, fields=changed)
        db.session.commit()
        flash(_("Your changes were saved."))
    else:
        flash(_("Nothing was changed."))
    return _to_show(petition, update)


# --- one update: preview, progress, test, send, resume -----------------------------------

@bp.get("/<int:update_id>")
def show(slug: str, update_id: int):
    petition = _petition(slug)
    update = _update(petition, update_id)
    return render_template("admin/updates/show.html", petition=petition, update=update,
                           progress=recipients.progress_of([update])[update.id], error=None)


@bp.post("/<int:update_id>/test")
def send_test(slug: str, update_id: int):
    petition = _petition(slug)
    update = _update(petition, update_id)
    queue_test(update, current_user.email)
    audit.record("update_test_sent", update, petition=petition.slug, to=current_user.email)
    db.session.commit()
    flash(_("A test copy is on its way to %(email)s. Nobody else got it.",
            email=current_user.email))
    return _to_show(petition, update)


@bp.route("/<int:update_id>/send", methods=["GET", "POST"])
def send(slug: str, update_id: int):
    petition = _petition(slug)
    update = _update(petition, update_id, lock=request.method == "POST")
    if update.state != UpdateState.DRAFT:
        # A second press, or another tab: the first one is already sending it.
        flash(_("This update has already been sent (or is being sent); nobody gets it twice."))
        return _to_show(petition, update)
    if request.method == "GET":
        return render_template("admin/updates/confirm_send.html", petition=petition,
                               update=update, count=recipients.recipient_count(update))
    sending.publish(update)
    count = recipients.recipient_count(update)
    audit.record("update_sent", update, petition=petition.slug, title=update.title,
                 recipients=count)
    db.session.commit()
    sending.start(update_id)  # not update.id: reloading it would open a transaction
    flash(_("Sending has started to %(count)d signers. The update is now on the petition's "
            "page.", count=count))
    return _to_show(petition, update)


@bp.post("/<int:update_id>/resume")
def resume(slug: str, update_id: int):
    petition = _petition(slug)
    update = _update(petition, update_id)
    if update.state != UpdateState.SENDING:
        flash(_("There is nothing to resume: this update is not being sent."))
        return _to_show(petition, update)
    audit.record("update_resumed", update, petition=petition.slug)
    db.session.commit()
    sending.start(update_id)
    flash(_("Sending resumed. Signers who already have the update won't get it again."))
    return _to_show(petition, update)
