from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import delete

from petitions.database import utcnow
from petitions.extensions import db
from petitions.signing import counting
from petitions.signing.models import Signature, SignatureState


@shared_task(name="signing.fold_counts", ignore_result=True)
def fold_counts() -> int:
    return counting.fold_confirmed_signatures()


@shared_task(name="signing.recount", ignore_result=True)
def recount() -> int:
    return counting.recount_all()


@shared_task(name="signing.expire_pending", ignore_result=True)
def expire_pending_signatures() -> int:
    """Unconfirmed signatures are personal data with no purpose once their link expired."""
    max_age = timedelta(days=current_app.config["CONFIRMATION_MAX_AGE_DAYS"])
    result = db.session.execute(
        delete(Signature)
        .where(Signature.state == SignatureState.PENDING)
        .where(Signature.confirmation_sent_at < utcnow() - max_age)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0
