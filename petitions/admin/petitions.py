"""Creating and editing petitions, and moving them through their states.

Moderators and admins alike may use every view here. The rules for states, hiding and
removal live in petition_states; this module is the web side.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from petitions.admin import audit, petition_states
from petitions.admin.petition_forms import BODY_MAX, PetitionForm, RemovalForm
from petitions.admin.petition_states import ChangeRefused, state_label
from petitions.errors import render_error
from petitions.extensions import db
from petitions.newsletter.models import Article
from petitions.signing.models import Petition, PetitionState, Signature
from petitions.text import render_markdown

bp = Blueprint("petitions", __name__, url_prefix="/petitions")

FILTERS = ("draft", "open", "closed", "archived", "hidden", "removed")


@bp.context_processor
def helpers():
    return {"state_label": state_label}


def _petition(petition_id: int, lock: bool = False) -> Petition:
    """The petition, or a 404 page. `lock` holds its row until the commit (PostgreSQL)."""
    petition = db.session.get(Petition, petition_id, with_for_update=lock or None)
    if petition is None:
        abort(make_response(render_error(
            404, _("Petition not found"), _("There is no petition with that number."))))
    return petition


def sign_snippet(petition: Petition) -> str:
    # The article page is the news site's, not ours: the link text stays as the spec gives it.
    url = f"{current_app.config['BASE_URL']}/petitions/{petition.slug}"
    return f'<a class="petition" href="{url}">Sign Our Petition</a>'


# --- listing --------------------------------------------------------------------------------

@bp.get("/")
def index():
    shown = request.args.get("state", "")
    if shown and shown not in FILTERS:
        return render_error(400, _("Unknown filter"),
                            _("Show petitions that are: %(choices)s.", choices=", ".join(FILTERS)))
    query = select(Petition).options(selectinload(Petition.category))
    if shown == "hidden":
        query = query.where(Petition.hidden.is_(True))
    elif shown == "removed":
        query = query.where(Petition.removed_at.is_not(None))
    elif shown:
        query = query.where(Petition.state == shown)
    petitions = db.session.scalars(query.order_by(Petition.created_at.desc(), Petition.id.desc()))
    return render_template("admin/petitions/index.html", petitions=petitions.all(), shown=shown,
                           filters=FILTERS)


# --- the editor -----------------------------------------------------------------------------

def _render_form(form: PetitionForm, petition: Petition | None, status: int = 200):
    preview = None
    if form.preview.data and len(form.body.data or "") <= BODY_MAX:
        preview = render_markdown(form.body.data)
    return render_template("admin/petitions/form.html", form=form, petition=petition,
                           preview=preview), status


def _slug_taken(form: PetitionForm):
    """Another request took the slug between our check and the commit."""
    db.session.rollback()
    form.slug.errors = [*form.slug.errors, _("Another petition already uses this address.")]
    return _render_form(form, form.petition, status=409)


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = PetitionForm()
    if not form.is_submitted():
        return _render_form(form, None)
    valid = form.validate()
    if form.preview.data:
        return _render_form(form, None)
    if not valid:
        return _render_form(form, None, status=422)
    petition = Petition(state=PetitionState.DRAFT.value, **form.values())
    db.session.add(petition)
    try:
        db.session.flush()
        audit.record("petition_created", petition, slug=petition.slug)
        db.session.commit()
    except IntegrityError:
        return _slug_taken(form)
    flash(_("The petition was created as a draft. Open it when it is ready."))
    return redirect(url_for(".show", petition_id=petition.id), code=303)


@bp.route("/<int:petition_id>/edit", methods=["GET", "POST"])
def edit(petition_id: int):
    petition = _petition(petition_id)
    form = PetitionForm(petition=petition)
    if not form.is_submitted():
        return _render_form(form, petition)
    valid = form.validate()
    if form.preview.data:
        return _render_form(form, petition)
    if not valid:
        return _render_form(form, petition, status=422)
    values = form.values()
    changed = [name for name, value in values.items() if getattr(petition, name) != value]
    if not changed:
        flash(_("Nothing was changed."))
        return redirect(url_for(".show", petition_id=petition.id), code=303)
    for name in changed:
        setattr(petition, name, values[name])
    audit.record("petition_edited", petition, fields=changed)
    try:
        db.session.commit()
    except IntegrityError:
        return _slug_taken(form)
    flash(_("Your changes were saved."))
    return redirect(url_for(".show", petition_id=petition.id), code=303)


# --- the petition's page, and its actions --------------------------------------------------

def _signature_counts(petition: Petition) -> dict[str, int]:
    rows = db.session.execute(
        select(Signature.state, func.count()).where(Signature.petition_id == petition.id)
        .group_by(Signature.state)
    )
    return {"pending": 0, "confirmed": 0, "invalidated": 0, **dict(rows.all())}


def _render_show(petition: Petition, status: int = 200, error: str | None = None,
                 removal_form: RemovalForm | None = None):
    articles = db.session.scalars(
        select(Article).where(Article.petition_id == petition.id)
        .order_by(Article.published_at.desc()).limit(100)
    ).all()
    page = render_template(
        "admin/petitions/show.html",
        petition=petition,
        counts=_signature_counts(petition),
        moves=petition_states.allowed_moves(petition),
        articles=articles,
        snippet=sign_snippet(petition),
        removal_form=removal_form or RemovalForm(),
        error=error,
    )
    return page, status


@bp.get("/<int:petition_id>")
def show(petition_id: int):
    return _render_show(_petition(petition_id))


def _act(petition: Petition, change, done: str):
    """Apply a change from petition_states and commit it, or show why it was refused."""
    try:
        change()
    except ChangeRefused as refused:
        db.session.rollback()
        return _render_show(petition, status=409, error=str(refused))
    db.session.commit()
    flash(done)
    return redirect(url_for(".show", petition_id=petition.id), code=303)


@bp.post("/<int:petition_id>/state")
def change_state(petition_id: int):
    wanted = request.form.get("to", "")
    if wanted not in {state.value for state in PetitionState}:
        return render_error(400, _("Unknown state"),
                            _("A petition can be draft, open, closed or archived."))
    petition = _petition(petition_id, lock=True)
    to = PetitionState(wanted)
    return _act(petition, lambda: petition_states.move(petition, to),
                _("The petition is now %(state)s.", state=state_label(to)))


@bp.post("/<int:petition_id>/hide")
def hide(petition_id: int):
    petition = _petition(petition_id, lock=True)
    return _act(petition, lambda: petition_states.hide(petition),
                _("The petition is hidden: its page answers “not found” and it is left out "
                  "of listings."))


@bp.post("/<int:petition_id>/unhide")
def unhide(petition_id: int):
    petition = _petition(petition_id, lock=True)
    return _act(petition, lambda: petition_states.unhide(petition),
                _("The petition is visible again."))


@bp.post("/<int:petition_id>/remove")
def remove(petition_id: int):
    petition = _petition(petition_id, lock=True)
    form = RemovalForm()
    if not form.validate():
        db.session.rollback()
        return _render_show(petition, status=422, removal_form=form)
    return _act(petition, lambda: petition_states.remove(petition, form.reason.data),
                _("The petition was removed: its page now shows your reason."))


@bp.post("/<int:petition_id>/restore")
def restore(petition_id: int):
    petition = _petition(petition_id, lock=True)
    return _act(petition, lambda: petition_states.restore(petition),
                _("The petition was restored."))


# A petition's translations register on this blueprint.
from petitions.admin import translations as _translations  # noqa: E402, F401
