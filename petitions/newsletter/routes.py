"""Subscribing, confirming, the preference centre and one-click unsubscribe."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from petitions.abuse.limiter import limit_string
from petitions.extensions import db, limiter
from petitions.newsletter.consent import subscribe_form_text, subscriber_choices_text
from petitions.newsletter.forms import SubscribeForm
from petitions.newsletter.links import manage_url
from petitions.newsletter.models import Category
from petitions.newsletter.service import (
    ConfirmOutcome,
    SubscriptionRequest,
    confirm_subscription,
    load_for_confirmation,
    subscribe,
)

bp = Blueprint("newsletter", __name__)


@bp.after_request
def _keep_private(response):
    # These pages carry tokens in their URLs and personal choices in their bodies:
    # never cache them, and never leak the URL to another site as a Referer.
    response.headers.setdefault("Cache-Control", "private, no-store")
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def all_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.name)))


def _render_subscribe(form: SubscribeForm, status: int = 200, preselected=None):
    page = render_template(
        "newsletter/subscribe.html",
        form=form,
        consent_text=subscribe_form_text(),
        preselected=preselected,
    )
    return page, status


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(limit_string("RATELIMIT_SUBSCRIBE"), methods=["POST"])
def subscribe_form():
    categories = all_categories()
    form = SubscribeForm(categories=categories)
    if request.method == "GET":
        # The site's "Subscribe" link names the category of the article it sits under.
        slug = request.args.get("category", "")[:80]
        preselected = next((c for c in categories if c.slug == slug), None)
        if preselected is not None:
            form.categories.data = [preselected.id]
        return _render_subscribe(form, preselected=preselected)
    if not form.validate_on_submit():
        return _render_subscribe(form, status=422)
    subscribe(
        SubscriptionRequest(
            email=form.email.data,
            categories=form.chosen_categories(),
            all_categories=form.all_categories.data,
            frequency=form.frequency.data,
            consent_text=subscribe_form_text(),
            ip=request.remote_addr,
        )
    )
    return redirect(url_for("newsletter.check_email"), code=303)


@bp.get("/subscribe/check-email")
def check_email():
    # The same page for new, pending, active, unsubscribed and suppressed addresses.
    return render_template("newsletter/check_email.html")


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(limit_string("RATELIMIT_CONFIRM"))
def confirm(token: str):
    if request.method == "GET":
        # Link scanners open every URL in an email: looking at this page changes nothing.
        result = load_for_confirmation(token)
    else:
        result = confirm_subscription(token, ip=request.remote_addr)
    template, status = {
        ConfirmOutcome.CONFIRMED: (
            "newsletter/confirm.html" if request.method == "GET" else "newsletter/confirmed.html",
            200,
        ),
        ConfirmOutcome.ALREADY_CONFIRMED: ("newsletter/confirmed.html", 200),
        ConfirmOutcome.EXPIRED: ("newsletter/token_problem.html", 410),
        ConfirmOutcome.INVALID: ("newsletter/token_problem.html", 404),
    }[result.outcome]
    subscriber = result.subscriber
    shows_subscriber = result.outcome in (ConfirmOutcome.CONFIRMED,
                                          ConfirmOutcome.ALREADY_CONFIRMED)
    return (
        render_template(
            template,
            outcome=result.outcome.value,
            token=token,
            subscriber=subscriber if shows_subscriber else None,
            manage_url=manage_url(subscriber) if shows_subscriber else None,
            choices=subscriber_choices_text(subscriber) if shows_subscriber else None,
            just_confirmed=result.outcome == ConfirmOutcome.CONFIRMED,
        ),
        status,
    )


# The preference centre and unsubscribe pages register on the same blueprint.
from petitions.newsletter import preference_routes as _preference_routes  # noqa: E402, F401
