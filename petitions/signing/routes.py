from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from werkzeug.exceptions import Gone

from petitions.abuse import alerts, captcha, screening
from petitions.abuse.limiter import limit_string, setting
from petitions.abuse.traps import started_token
from petitions.api.http_cache import cacheable
from petitions.extensions import db, limiter
from petitions.newsletter.models import Article
from petitions.signing.canonical import canonical_email
from petitions.signing.forms import SignatureForm, country_name
from petitions.signing.models import Petition, PetitionState, Signature, SignatureState
from petitions.signing.service import (
    ConfirmOutcome,
    SignatureDetails,
    confirm_signature,
    load_for_confirmation,
    sign_petition,
)
from petitions.signing.translations import localized, localized_all

bp = Blueprint("signing", __name__)
RECENT_SIGNERS = 10


# Built once: every page and every signature looks its petition up by slug.
_PETITION_BY_SLUG = select(Petition).where(Petition.slug == bindparam("slug"))


def _public_petition(slug: str) -> Petition:
    if len(slug) > 80:
        abort(404)
    petition = db.session.scalar(_PETITION_BY_SLUG, {"slug": slug})
    if petition is not None and petition.is_removed and petition.state != PetitionState.DRAFT:
        raise Gone(petition.removal_reason)
    if petition is None or not petition.is_public:
        abort(404)
    return petition


def _recent_public_signers(petition: Petition) -> list[dict]:
    rows = db.session.scalars(
        select(Signature)
        .where(
            Signature.petition_id == petition.id,
            Signature.state == SignatureState.CONFIRMED,
            Signature.show_name_publicly.is_(True),
            Signature.flagged.is_(False),
        )
        .order_by(Signature.confirmed_at.desc())
        .limit(RECENT_SIGNERS)
    )
    return [
        {"first_name": s.first_name, "region": country_name(s.country), "at": s.confirmed_at}
        for s in rows
    ]


def _source_article(petition: Petition) -> Article | None:
    """The article the petition came from: the latest one that links to it."""
    return db.session.scalar(select(Article).where(Article.petition_id == petition.id)
                             .order_by(Article.published_at.desc()).limit(1))


def _render_petition(petition: Petition, form: SignatureForm, status: int = 200):
    page = render_template(
        "signing/petition.html",
        petition=localized(petition),
        source=_source_article(petition),
        form=form,
        recent_signers=_recent_public_signers(petition),
        refresh_seconds=current_app.config["COUNT_REFRESH_SECONDS"],
        # A form sent back with an error keeps the time it was first shown.
        form_started=form.form_started.data or started_token(petition.id),
        captcha_widget=captcha.widget(url_for("signing.altcha_challenge")),
    )
    return page, status


def _captcha_problem(form: SignatureForm) -> str | None:
    """The message to show when the CAPTCHA (if one is configured) was not passed."""
    if not captcha.enabled():
        return None
    try:
        passed = captcha.verify(request.form.get(captcha.response_field()), request.remote_addr)
    except captcha.CaptchaUnavailable:
        return _("We couldn't check that you're a person just now. Please try again in a minute.")
    return None if passed else _("Please complete the check that you're a person.")


@bp.get("/")
def index():
    petitions = db.session.scalars(
        select(Petition)
        .where(Petition.state == PetitionState.OPEN, Petition.hidden.is_(False),
               Petition.removed_at.is_(None))
        .order_by(Petition.signature_count.desc(), Petition.created_at.desc())
    ).all()
    return render_template("signing/index.html",
                           petitions=localized_all(p for p in petitions if p.is_open))


@bp.get("/petitions/<slug>")
def petition(slug: str):
    return _render_petition(_public_petition(slug), SignatureForm())


@bp.post("/petitions/<slug>/sign")
def sign(slug: str):
    petition = _public_petition(slug)
    if not petition.is_open:
        return _render_petition(petition, SignatureForm(), status=409)
    form = SignatureForm()
    if not form.validate_on_submit():
        return _render_petition(petition, form, status=422)
    problem = _captcha_problem(form)
    if problem:
        form.form_errors.append(problem)
        return _render_petition(petition, form, status=422)
    details = SignatureDetails(
        name=form.name.data,
        email=form.email.data,
        postcode=form.postcode.data,
        country=form.country.data,
        comment=form.comment.data,
        show_name_publicly=form.show_name_publicly.data,
        email_updates=form.email_updates.data,
        subscribe_newsletter=form.subscribe_newsletter.data,
    )
    # Traps, block rules and rate limits never change the answer: a flagged signature
    # is stored and emailed like any other, and never counted (petitions/abuse).
    reason = screening.flag_reason(petition.id, details.email, request.remote_addr,
                                   honeypot=form.website.data, started=form.form_started.data)
    # Read before signing commits: the commit expires the petition, and reading it after
    # would load it again.
    slug = petition.slug
    sign_petition(petition, details, ip=request.remote_addr, flag_reason=reason)
    if reason:
        screening.log.info("signature on %s flagged: %s", slug, reason)
    alerts.check_after_signing(petition, canonical_email(details.email), request.remote_addr)
    return redirect(url_for("signing.check_email", slug=slug), code=303)


@bp.get("/petitions/<slug>/check-email")
def check_email(slug: str):
    # The same page for new, pending and already-confirmed addresses: it reveals nothing.
    return render_template("signing/check_email.html", petition=localized(_public_petition(slug)))


@bp.get("/petitions/<slug>/count.json")
def count(slug: str):
    """Polled by every article page: shared caches keep it for COUNT_REFRESH_SECONDS, and
    a poller whose ETag still matches gets a 304 with no body."""
    petition = _public_petition(slug)
    state = (PetitionState.CLOSED.value
             if petition.state == PetitionState.OPEN and not petition.is_open
             else petition.state)
    response = jsonify(slug=petition.slug, signature_count=petition.signature_count,
                       goal=petition.goal, state=state)
    return cacheable(response, current_app.config["COUNT_REFRESH_SECONDS"],
                     etag=f"{petition.signature_count}-{state}-{petition.goal}", weak=True)


@bp.get("/captcha/altcha-challenge")
def altcha_challenge():
    if captcha.provider() != "altcha":
        abort(404)
    response = jsonify(captcha.altcha_challenge(str(setting("CAPTCHA_SECRET"))))
    response.cache_control.no_store = True
    return response


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(limit_string("RATELIMIT_CONFIRM"))
def confirm(token: str):
    if request.method == "GET":
        # Link scanners open every URL in an email: looking at this page changes nothing.
        result = load_for_confirmation(token)
    else:
        result = confirm_signature(token)
    template, status = {
        ConfirmOutcome.CONFIRMED: (
            "signing/confirm.html" if request.method == "GET" else "signing/confirmed.html",
            200,
        ),
        ConfirmOutcome.ALREADY_CONFIRMED: ("signing/confirmed.html", 200),
        ConfirmOutcome.CLOSED: ("signing/confirm_closed.html", 409),
        ConfirmOutcome.EXPIRED: ("signing/token_problem.html", 410),
        ConfirmOutcome.INVALID: ("signing/token_problem.html", 404),
    }[result.outcome]
    return (
        render_template(
            template,
            outcome=result.outcome.value,
            token=token,
            petition=localized(result.petition),
            just_confirmed=result.outcome == ConfirmOutcome.CONFIRMED,
        ),
        status,
    )
