"""Previewing a subscriber's next digest, and sending a test copy to yourself (admins only).

The preview is built by the worker's own code: digest_runs.plan_chunk chooses the articles
and petitions (with an unsaved stand-in run whose cutoff is now, so nothing is written
and the real run's cutoff is not fixed), and DigestRenderer renders them. The two
personal links (change settings, unsubscribe) are replaced by the site's home page in
both the preview and the test copy, so a click or a mail client's "unsubscribe" button
can never change the subscriber's settings. The test copy is an ordinary outbox row
(kind "digest_test") to the admin's own address: no ledger row, so the subscriber's
real digest is unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from types import SimpleNamespace
from urllib.parse import urlsplit

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
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from petitions.admin import audit
from petitions.admin.dashboard import bp
from petitions.admin.permissions import admin_only
from petitions.database import utcnow
from petitions.errors import render_error
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.mail.outbox import NUDGE_FLAG
from petitions.mail.suppression import is_suppressed
from petitions.newsletter import digests as digest_runs
from petitions.newsletter.digest_models import DigestDelivery, DigestRun
from petitions.newsletter.digest_render import DigestRenderer
from petitions.newsletter.links import subscriber_links
from petitions.newsletter.subscribers import Subscriber, SubscriberState
from petitions.signing.canonical import canonical_email

SEARCH_MAX = 254
SEARCH_RESULTS = 25
# Sandboxed, no scripts, no forms, nothing fetched but images: the digest is just shown.
PREVIEW_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
               "sandbox; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


@dataclass
class Preview:
    subscriber: Subscriber
    why_none: str | None = None        # set when they would get no digest now
    since: datetime | None = None
    subject: str = ""
    text: str = ""
    html: str = ""
    article_count: int = 0
    petition_count: int = 0


def last_digest_at(subscriber: Subscriber) -> datetime | None:
    return db.session.scalar(
        select(func.max(DigestRun.cutoff))
        .join(DigestDelivery, DigestDelivery.run_id == DigestRun.id)
        .where(DigestDelivery.subscriber_id == subscriber.id)
    )


def _without_personal_links(subscriber: Subscriber, body: str) -> str:
    """The renderer's links for this subscriber, pointed at the home page instead."""
    person = SimpleNamespace(id=subscriber.id, email=subscriber.email,
                             canonical_email=canonical_email(subscriber.email))
    manage, one_click, _headers = subscriber_links(person, "digest")
    home = current_app.config["BASE_URL"] + "/"
    return body.replace(one_click, home).replace(manage, home)


def next_digest(subscriber: Subscriber, now: datetime | None = None) -> Preview:
    """What the subscriber's digest would hold if it were built now."""
    preview = Preview(subscriber)
    if subscriber.state != SubscriberState.ACTIVE:
        preview.why_none = (_("They have not confirmed their subscription yet.")
                            if subscriber.state == SubscriberState.PENDING
                            else _("They have unsubscribed."))
        return preview
    if subscriber.paused:
        preview.why_none = _("They have paused their digests.")
        return preview
    if is_suppressed(subscriber.email):
        preview.why_none = _("Their address is suppressed after a bounce or complaint.")
        return preview
    run = DigestRun(id=0, frequency=subscriber.frequency, period_key="preview",
                    cutoff=now or utcnow())
    planned = digest_runs.plan_chunk(run, subscriber.id, subscriber.id)
    if not planned:
        preview.why_none = _("There is nothing new in their categories since their last "
                             "digest, so they would get no digest now.")
        return preview
    plan = planned[0]
    row = OutboxMessage(id=0, kind="digest", to_address=subscriber.email,
                        subject=digest_runs.digest_subject(plan), payload=digest_runs.payload_for(run, plan),
                        subscriber_id=subscriber.id, headers={})
    renderer = DigestRenderer()
    renderer.prepare([row])
    content = renderer.render(row)
    preview.since = plan.since
    preview.subject = content.subject
    preview.text = _without_personal_links(subscriber, content.text)
    preview.html = _without_personal_links(subscriber, content.html)
    preview.article_count, preview.petition_count = len(plan.articles), len(plan.petitions)
    return preview


# --- views ----------------------------------------------------------------------------------

def _subscriber_or_404(subscriber_id: int) -> Subscriber:
    subscriber = db.session.get(Subscriber, subscriber_id,
                                options=[selectinload(Subscriber.categories)])
    if subscriber is None:
        abort(make_response(render_error(
            404, _("Subscriber not found"), _("There is no subscriber with that number."))))
    return subscriber


def _search(query: str) -> list[Subscriber]:
    return db.session.scalars(
        select(Subscriber)
        .where(or_(Subscriber.email.icontains(query, autoescape=True),
                   Subscriber.canonical_email.icontains(query, autoescape=True)))
        .order_by(Subscriber.email, Subscriber.id)
        .limit(SEARCH_RESULTS)
    ).all()


@bp.get("/digests")
@admin_only
def digests():
    query = request.args.get("q", "").strip()
    if len(query) > SEARCH_MAX:
        return render_error(400, _("That search is too long"),
                            _("Search with at most %(max)d characters.", max=SEARCH_MAX))
    chosen = request.args.get("subscriber", "").strip()
    if chosen and not (chosen.isascii() and chosen.isdigit() and len(chosen) < 12):
        return render_error(400, _("That subscriber number is not valid"),
                            _("Choose a subscriber from the search results."))
    preview = None
    last_digest = None
    if chosen:
        subscriber = _subscriber_or_404(int(chosen))
        preview = next_digest(subscriber)
        last_digest = last_digest_at(subscriber)
        audit.record("digest_previewed", subscriber, articles=preview.article_count)
        db.session.commit()
    return render_template(
        "admin/dashboard/digests.html", query=query, results=_search(query) if query else None,
        preview=preview, last_digest=last_digest, base_url=current_app.config["BASE_URL"],
    )


@bp.get("/digests/<int:subscriber_id>/preview.html")
@admin_only
def digest_html(subscriber_id: int):
    """The HTML part alone, for the page's sandboxed <iframe>, under its own strict CSP.
    The page that embeds it has already recorded the preview in the audit log."""
    preview = next_digest(_subscriber_or_404(subscriber_id))
    if preview.why_none:
        return render_error(404, _("No digest to preview"), preview.why_none)
    response = make_response(preview.html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"  # the admin area's default is DENY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/digests/<int:subscriber_id>/test")
@admin_only
def digest_test_send(subscriber_id: int):
    subscriber = _subscriber_or_404(subscriber_id)
    preview = next_digest(subscriber)
    back = redirect(url_for("admin.dashboard.digests", subscriber=subscriber.id), code=303)
    if preview.why_none:
        flash(_("No test was sent: %(why)s", why=preview.why_none))
        return back
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    # The same fields queue_email writes, with the bodies the digest renderer made.
    db.session.add(OutboxMessage(
        kind="digest_test",
        to_address=current_user.email,
        subject=_("[Test] %(subject)s", subject=preview.subject)[:300],
        text_body=preview.text,
        html_body=preview.html,
        headers={"Auto-Submitted": "auto-generated"},
        message_id=make_msgid(domain=domain),
    ))
    db.session.info[NUDGE_FLAG] = True
    audit.record("digest_test_sent", subscriber, to=current_user.email,
                 articles=preview.article_count)
    db.session.commit()
    flash(_("A test copy of this digest is on its way to %(address)s.",
            address=current_user.email))
    return back
