"""Closing petitions at their closing time: the beat task and its schedule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.admin.petition_states import close_due_petitions
from petitions.admin.tasks import close_due
from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing.models import Petition
from tests.factories import PetitionFactory
from tests.support.environment import PROJECT_ROOT


def states() -> dict[str, str]:
    db.session.expire_all()
    return dict(db.session.execute(select(Petition.slug, Petition.state)).all())


def test_the_task_closes_open_petitions_whose_closing_time_has_passed(app):
    now = utcnow()
    due = PetitionFactory(slug="due", closes_at=now - timedelta(seconds=1))
    PetitionFactory(slug="long-due", closes_at=now - timedelta(days=40), hidden=True)
    PetitionFactory(slug="later", closes_at=now + timedelta(minutes=5))
    PetitionFactory(slug="no-end", closes_at=None)
    PetitionFactory(slug="draft-past", state="draft", closes_at=now - timedelta(days=1))
    PetitionFactory(slug="already-closed", state="closed", closes_at=now - timedelta(days=1))

    closed = close_due()  # through the Celery task class, in its own app context

    assert closed == 2
    assert states() == {"due": "closed", "long-due": "closed", "later": "open", "no-end": "open",
                        "draft-past": "draft", "already-closed": "closed"}
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id, e.actor_email, e.target_type, e.detail) for e in entries] == [
        ("petition_state_changed", None, None, "petitions",
         {"from": "open", "to": "closed", "because": "closing time"}),
    ] * 2
    assert entries[0].target_id == str(due.id)
    assert entries[0].ip_address is None


def test_a_second_run_finds_nothing_to_do(app):
    PetitionFactory(slug="due", closes_at=utcnow() - timedelta(minutes=1))

    assert close_due_petitions() == ["due"]
    assert close_due_petitions() == []
    assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) == 1


def test_the_closing_time_itself_counts_as_passed(app):
    moment = utcnow() + timedelta(hours=1)
    PetitionFactory(slug="exact", closes_at=moment)

    assert close_due_petitions(now=moment - timedelta(microseconds=1)) == []
    assert close_due_petitions(now=moment) == ["exact"]


def test_a_closed_petition_stops_taking_signatures_publicly(app, client):
    PetitionFactory(slug="ended", closes_at=utcnow() - timedelta(seconds=1))
    close_due()

    page = client.get("/petitions/ended").get_data(as_text=True)

    assert "This petition is closed" in page


def test_the_task_is_registered_under_its_beat_name(app):
    assert close_due.name == "petitions.close_due"
    assert "petitions.close_due" in app.extensions["celery"].tasks


def test_beat_runs_the_task_every_minute(tmp_path):
    """The schedule as `celery -A worker beat` reads it (in a fresh process: importing
    worker builds an app from the environment)."""
    env = {**os.environ, "APP_ENV": "test", "INSTANCE_PATH": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'beat.sqlite3'}", "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("REDIS_URL", None)
    script = ("import json, worker; entry = worker.celery_app.conf.beat_schedule"
              "['close-due-petitions']; print(json.dumps(entry))")

    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60, check=True)

    entry = json.loads(result.stdout.strip().splitlines()[-1])
    assert entry == {"task": "petitions.close_due", "schedule": 60.0, "options": {"expires": 50}}
