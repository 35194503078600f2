"""Automatic updates (off unless Petition.milestone_emails): goal reached, and closed.

The beat task (updates.milestones) calls create_due() every minute. Each milestone is
written at most once per petition: the partial unique index on (petition, kind) turns
a second attempt, by a concurrent or repeated run, into an IntegrityError that is
caught here. Its text is generated, not written by an admin.
"""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace

from flask_babel import force_locale, format_number
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from petitions.admin import audit
from petitions.extensions import db
from petitions.signing.models import Petition, PetitionState
from petitions.updates import recipients, sending
from petitions.updates.content import petition_url
from petitions.updates.models import PetitionUpdate, UpdateKind

log = logging.getLogger(__name__)

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def _literal(text: str) -> str:
    """Petition text quoted inside a Markdown body: shown as typed, never as markup."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))


def milestone_text(petition: Petition, kind: UpdateKind) -> tuple[str, str]:
    """(title, Markdown body) in the current locale."""
    count = format_number(petition.signature_count)
    goal = format_number(petition.goal)
    title = _literal(petition.title)
    if kind == UpdateKind.GOAL_REACHED:
        return (
            _("We reached our goal of %(goal)s signatures", goal=goal),
            _("Thank you! The petition “%(title)s” has reached its goal: %(count)s people "
              "have signed it, and the goal was %(goal)s.", title=title, count=count, goal=goal)
            + "\n\n"
            + _("Every new signature still makes it stronger. Please share it with people "
                "who care: %(url)s", url=petition_url(petition.slug)),
        )
    return (
        _("The petition has closed with %(count)s signatures", count=count),
        _("The petition “%(title)s” to %(target)s has closed. %(count)s people signed it. "
          "Thank you for being one of them.", title=title, target=_literal(petition.target),
          count=count)
        + "\n\n"
        + _("We will write again when there is news."),
    )


def words_for_reader(update, petition, petition_title: str, locale: str) -> tuple[str, str]:
    """An update's (title, body) for one reader. An admin's words go out as written; a
    milestone's text is generated, so it is written again in the reader's language, with
    the petition's title in that language. `update` needs kind, title and body; `petition`
    target, signature_count, goal and slug (a Petition, or the renderer's plain copy)."""
    if update.kind == UpdateKind.MANUAL:
        return update.title, update.body
    in_language = SimpleNamespace(title=petition_title, target=petition.target, slug=petition.slug,
                                  signature_count=petition.signature_count, goal=petition.goal)
    with force_locale(locale):
        return milestone_text(in_language, UpdateKind(update.kind))


def _visible():
    return (Petition.milestone_emails.is_(True), Petition.hidden.is_(False),
            Petition.removed_at.is_(None))


def _without(kind: UpdateKind):
    return ~select(PetitionUpdate.id).where(
        PetitionUpdate.petition_id == Petition.id, PetitionUpdate.kind == kind).exists()


def due() -> list[tuple[int, UpdateKind]]:
    """(petition id, milestone) pairs that are due and not written yet. A goal reached
    after closing is not announced: the closing email gives the final count."""
    goal = select(Petition.id).where(
        *_visible(), Petition.state == PetitionState.OPEN,
        Petition.signature_count >= Petition.goal, _without(UpdateKind.GOAL_REACHED))
    closed = select(Petition.id).where(
        *_visible(), Petition.state == PetitionState.CLOSED, _without(UpdateKind.CLOSED))
    return ([(i, UpdateKind.GOAL_REACHED) for i in db.session.scalars(goal.order_by(Petition.id))]
            + [(i, UpdateKind.CLOSED) for i in db.session.scalars(closed.order_by(Petition.id))])


def create(petition_id: int, kind: UpdateKind) -> int | None:
    """Write and publish one milestone update; its id, or None when it already exists."""
    petition = db.session.get(Petition, petition_id)
    if petition is None:
        return None
    title, body = milestone_text(petition, kind)
    update = PetitionUpdate(petition_id=petition.id, kind=kind.value, title=title[:200],
                            body=body)
    sending.publish(update)
    db.session.add(update)
    try:
        db.session.flush()
        update_id, slug = update.id, petition.slug
        audit.record("update_sent", update, petition=slug, milestone=kind.value,
                     recipients=recipients.recipient_count(update))
        db.session.commit()
    except IntegrityError:  # another run wrote it first
        db.session.rollback()
        return None
    # Ids kept from before the commit: reloading would open a transaction, and on SQLite
    # hold the write lock that the send's own tasks need.
    log.info("milestone %s for petition %s: update %s", kind.value, slug, update_id)
    return update_id


def create_due() -> list[int]:
    return [i for i in (create(pid, kind) for pid, kind in due()) if i is not None]
