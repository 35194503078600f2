"""Milestone emails: off by default; when on, goal reached and closed, each sent once."""

from __future__ import annotations

from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.extensions import db
from petitions.updates import milestones
from petitions.updates.models import PetitionUpdate, UpdateKind
from tests.factories import PetitionFactory
from tests.updates.helpers import copies_per_recipient, signer, update_mail


def run_milestones(app):
    """What beat does every minute (tasks run here: see eager_tasks). The test's own
    transaction ends first: on SQLite it would hold the write lock the tasks need."""
    db.session.commit()
    app.extensions["celery"].tasks["updates.milestones"].apply()


def updates_of(petition_id: int) -> list[PetitionUpdate]:
    db.session.expire_all()
    return list(db.session.scalars(select(PetitionUpdate).where(
        PetitionUpdate.petition_id == petition_id).order_by(PetitionUpdate.id)))


def test_milestone_emails_are_off_by_default(app, mail, eager_tasks):
    at_goal = PetitionFactory(goal=2, signature_count=2)
    closed = PetitionFactory(state="closed", signature_count=5)
    for petition in (at_goal, closed):
        signer(petition, f"{petition.slug}@example.org")
    ids = (at_goal.id, closed.id)
    assert at_goal.milestone_emails is False

    run_milestones(app)

    assert updates_of(ids[0]) == [] and updates_of(ids[1]) == []
    assert update_mail(mail) == []


def test_reaching_the_goal_sends_one_email_however_often_the_task_runs(app, mail, eager_tasks):
    petition = PetitionFactory(title="Save the library", goal=2000, signature_count=2345,
                               milestone_emails=True)
    signer(petition, "ana@example.org")
    signer(petition, "ben@example.org")
    signer(petition, "quiet@example.org", email_updates=False)
    petition_id = petition.id

    run_milestones(app)
    run_milestones(app)

    [update] = updates_of(petition_id)
    assert (update.kind, update.state, update.title) == (
        "goal_reached", "sent", "We reached our goal of 2,000 signatures")
    assert "has reached its goal: 2,345 people have signed it" in update.body
    messages = update_mail(mail)
    assert copies_per_recipient(messages) == {"ana@example.org": 1, "ben@example.org": 1}
    assert messages[0].message["Auto-Submitted"] == "auto-generated"
    assert messages[0].subject == "We reached our goal of 2,000 signatures · Save the library"
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "update_sent"))
    assert entry.actor_id is None and entry.detail == {
        "petition": petition.slug, "milestone": "goal_reached", "recipients": 2}


def test_closing_sends_the_final_count_once(app, mail, eager_tasks):
    petition = PetitionFactory(title="Save the *library*", target="The Mayor", goal=5000,
                               state="closed", signature_count=1234, milestone_emails=True)
    signer(petition, "ana@example.org")
    petition_id = petition.id

    run_milestones(app)
    run_milestones(app)

    [update] = updates_of(petition_id)
    assert (update.kind, update.title) == ("closed", "The petition has closed with 1,234 signatures")
    assert update.body.startswith(
        "The petition “Save the \\*library\\*” to The Mayor has closed. 1,234 people signed it.")
    [message] = update_mail(mail)
    assert "Save the *library*" in message.part("plain")  # the escapes are for Markdown only
    assert "1,234 people signed it" in message.part("html")


def test_a_goal_reached_then_closed_gets_both_emails_in_order(app, mail, eager_tasks):
    petition = PetitionFactory(goal=10, signature_count=10, milestone_emails=True)
    signer(petition, "ana@example.org")
    petition_id = petition.id
    run_milestones(app)
    petition.state = "closed"
    db.session.commit()

    run_milestones(app)

    assert [u.kind for u in updates_of(petition_id)] == ["goal_reached", "closed"]
    assert len(update_mail(mail)) == 2


def test_hidden_removed_and_unfinished_petitions_get_no_milestone(app):
    from petitions.database import utcnow

    PetitionFactory(goal=10, signature_count=10, milestone_emails=True, hidden=True)
    PetitionFactory(goal=10, signature_count=10, milestone_emails=True, removed_at=utcnow(),
                    removal_reason="Spam")
    PetitionFactory(goal=10, signature_count=9, milestone_emails=True)
    PetitionFactory(state="archived", goal=10, signature_count=3, milestone_emails=True)

    assert milestones.due() == []


def test_the_database_refuses_a_second_copy_of_a_milestone(app):
    petition = PetitionFactory(goal=10, signature_count=10, milestone_emails=True)

    first = milestones.create(petition.id, UpdateKind.GOAL_REACHED)
    second = milestones.create(petition.id, UpdateKind.GOAL_REACHED)

    assert first is not None and second is None
    assert [u.id for u in updates_of(petition.id)] == [first]
