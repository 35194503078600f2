"""A petition's life: draft → open → closed → archived, plus hiding and removal.

Allowed moves:
- draft → open, if its closing time (if any) is still ahead;
- open → closed, by hand or by `close_due_petitions` once its closing time has passed;
- closed → open (reopening), only if it has no closing time or one still ahead, so a
  reopened petition is not closed again within the minute; set a later time first;
- closed → archived. Archived is final: an archived petition's page stays up, read-only.

Hidden and removed are flags beside the state: hidden answers 404 and leaves listings,
removed answers 410 Gone with the reason. Both can be undone. Every change is written to
the audit log in the same transaction; the callers commit.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from petitions.admin import audit
from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing.models import Petition, PetitionState

DRAFT, OPEN, CLOSED, ARCHIVED = (PetitionState.DRAFT, PetitionState.OPEN, PetitionState.CLOSED,
                                 PetitionState.ARCHIVED)
TRANSITIONS: dict[PetitionState, tuple[PetitionState, ...]] = {
    DRAFT: (OPEN,),
    OPEN: (CLOSED,),
    CLOSED: (OPEN, ARCHIVED),
    ARCHIVED: (),
}


class ChangeRefused(Exception):
    """The change is not allowed now; the message says why, for the person who asked."""


def state_label(state: str) -> str:
    return {DRAFT: _("draft"), OPEN: _("open"), CLOSED: _("closed"),
            ARCHIVED: _("archived")}.get(state, state)


def allowed_moves(petition: Petition) -> tuple[PetitionState, ...]:
    return TRANSITIONS.get(PetitionState(petition.state), ())


def check_move(petition: Petition, to: PetitionState, now: datetime | None = None) -> None:
    """Raise ChangeRefused unless `petition` may move to `to` now."""
    now = now or utcnow()
    if petition.state == to:
        raise ChangeRefused(_("This petition is already %(state)s.", state=state_label(to)))
    if to not in allowed_moves(petition):
        raise ChangeRefused(_("A petition that is %(from)s can't be made %(to)s.",
                              **{"from": state_label(petition.state), "to": state_label(to)}))
    if to == OPEN and petition.closes_at is not None and petition.closes_at <= now:
        raise ChangeRefused(_("Its closing time has passed. Edit the petition to set a later "
                              "closing time (or none), then open it."))


def move(petition: Petition, to: PetitionState, now: datetime | None = None) -> None:
    check_move(petition, to, now)
    before = petition.state
    petition.state = to.value
    audit.record("petition_state_changed", petition, **{"from": before, "to": to.value})


def close_due_petitions(now: datetime | None = None) -> list[str]:
    """Close every open petition whose closing time has passed; returns their slugs.

    Run by beat every minute. The audit entries have no actor: the system did it.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Petition)
        .where(Petition.state == OPEN, Petition.closes_at.is_not(None), Petition.closes_at <= now)
        .order_by(Petition.id)
        .with_for_update(skip_locked=True)
    ).all()
    for petition in due:
        petition.state = CLOSED.value
        audit.record("petition_state_changed", petition, actor=None,
                     **{"from": OPEN.value, "to": CLOSED.value, "because": "closing time"})
    db.session.commit()
    return [petition.slug for petition in due]


# --- visibility -----------------------------------------------------------------------------

def hide(petition: Petition) -> None:
    if petition.hidden:
        raise ChangeRefused(_("This petition is already hidden."))
    petition.hidden = True
    audit.record("petition_hidden", petition)


def unhide(petition: Petition) -> None:
    if not petition.hidden:
        raise ChangeRefused(_("This petition is not hidden."))
    petition.hidden = False
    audit.record("petition_unhidden", petition)


def remove(petition: Petition, reason: str) -> None:
    if petition.is_removed:
        raise ChangeRefused(_("This petition has already been removed."))
    petition.removed_at = utcnow()
    petition.removal_reason = reason
    audit.record("petition_removed", petition, reason=reason)


def restore(petition: Petition) -> None:
    if not petition.is_removed:
        raise ChangeRefused(_("This petition has not been removed."))
    reason = petition.removal_reason
    petition.removed_at = None
    petition.removal_reason = None
    audit.record("petition_restored", petition, removal_reason=reason)
