"""The preference centre (/subscription/<token>) and one-click unsubscribe (RFC 8058).

Every page is reached with the manage token from an email; a token that is overlong,
tampered with, or names an erased subscriber gets a friendly 404.
"""

from __future__ import annotations

import json

from flask import (
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

from petitions.errors import render_error
from petitions.extensions import csrf
from petitions.newsletter.consent import (
    Source,
    one_click_text,
    subscriber_choices_text,
    unsubscribe_text,
)
from petitions.newsletter.forms import ChoicesForm
from petitions.newsletter.links import one_click_unsubscribe_url, read_manage_token
from petitions.newsletter.preferences import change_choices, erase, export, set_paused, unsubscribe
from petitions.newsletter.routes import all_categories, bp
from petitions.newsletter.subscribers import Subscriber, SubscriberState

# Where a browser's unsubscribe button came from (a hidden field); a mail client's
# one-click POST sends none of these and gets a tiny plain-text answer.
PAGE_SOURCES = {"page": Source.UNSUBSCRIBE_PAGE, "preference-centre": Source.PREFERENCE_CENTRE}


def _subscriber_or_404(token: str) -> Subscriber:
    subscriber = read_manage_token(token)
    if subscriber is None:
        abort(make_response(render_template("newsletter/link_problem.html"), 404))
    return subscriber


def _render_preferences(subscriber: Subscriber, token: str, form=None, status: int = 200):
    if form is None:
        form = ChoicesForm(
            categories=all_categories(),
            data={
                "categories": [c.id for c in subscriber.categories],
                "all_categories": subscriber.all_categories,
                "frequency": subscriber.frequency,
            },
        )
    page = render_template(
        "newsletter/preferences.html",
        subscriber=subscriber,
        token=token,
        form=form,
        choices=subscriber_choices_text(subscriber),
    )
    return page, status


@bp.get("/subscription/<token>")
def preferences(token: str):
    return _render_preferences(_subscriber_or_404(token), token)


@bp.post("/subscription/<token>")
def change(token: str):
    subscriber = _subscriber_or_404(token)
    if subscriber.state == SubscriberState.UNSUBSCRIBED:
        return _render_preferences(subscriber, token, status=409)
    form = ChoicesForm(categories=all_categories())
    if not form.validate_on_submit():
        return _render_preferences(subscriber, token, form=form, status=422)
    changed = change_choices(
        subscriber,
        form.chosen_categories(),
        form.all_categories.data,
        form.frequency.data,
        ip=request.remote_addr,
    )
    flash(_("Your choices are saved.") if changed else _("Your choices were already saved."))
    return redirect(url_for("newsletter.preferences", token=token), code=303)


def _pause_or_resume(token: str, paused: bool):
    subscriber = _subscriber_or_404(token)
    if subscriber.state != SubscriberState.ACTIVE:
        return _render_preferences(subscriber, token, status=409)
    set_paused(subscriber, paused, ip=request.remote_addr)
    flash(_("Your emails are paused. Resume them here whenever you like.") if paused
          else _("Your emails will start again with the next one."))
    return redirect(url_for("newsletter.preferences", token=token), code=303)


@bp.post("/subscription/<token>/pause")
def pause(token: str):
    return _pause_or_resume(token, paused=True)


@bp.post("/subscription/<token>/resume")
def resume(token: str):
    return _pause_or_resume(token, paused=False)


@bp.get("/subscription/<token>/unsubscribe")
def unsubscribe_page(token: str):
    # The footer link in emails lands here. Looking changes nothing, so link scanners
    # never unsubscribe anyone; the button POSTs to the one-click URL.
    subscriber = _subscriber_or_404(token)
    return render_template(
        "newsletter/unsubscribe.html",
        subscriber=subscriber,
        token=token,
        action=one_click_unsubscribe_url(subscriber),
    )


@bp.post("/subscription/<token>/unsubscribe")
@csrf.exempt
def one_click_unsubscribe(token: str):
    """RFC 8058: a mail client POSTs "List-Unsubscribe=One-Click" with no cookies and no
    CSRF token. Unsubscribing is safe to do for whoever holds the token."""
    subscriber = read_manage_token(token)
    from_page = request.form.get("from", "")
    if subscriber is None:
        if from_page in PAGE_SOURCES:
            return render_template("newsletter/link_problem.html"), 404
        return _plain(_("This unsubscribe link doesn't work."), 404)
    if from_page in PAGE_SOURCES:
        unsubscribe(subscriber, PAGE_SOURCES[from_page], unsubscribe_text(), request.remote_addr)
        return render_template("newsletter/unsubscribed.html", token=token)
    unsubscribe(subscriber, Source.ONE_CLICK, one_click_text(), request.remote_addr)
    return _plain(_("You're unsubscribed. We won't send you newsletter emails any more."))


def _plain(text: str, status: int = 200):
    response = make_response(text + "\n", status)
    response.mimetype = "text/plain"
    return response


@bp.get("/subscription/<token>/export.json")
def export_json(token: str):
    subscriber = read_manage_token(token)
    if subscriber is None:
        return render_error(404)
    body = json.dumps(export(subscriber), ensure_ascii=False, indent=2)
    response = current_app.response_class(body + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="newsletter-data.json"'
    return response


@bp.get("/subscription/<token>/erase")
def erase_page(token: str):
    return render_template("newsletter/erase.html", subscriber=_subscriber_or_404(token),
                           token=token)


@bp.post("/subscription/<token>/erase")
def erase_subscriber(token: str):
    erase(_subscriber_or_404(token))
    return render_template("newsletter/erased.html")
