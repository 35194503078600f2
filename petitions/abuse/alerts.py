"""Alerts when one IP or one email domain floods a petition.

At ABUSE_ALERT_IP_PER_HOUR (50) signatures from one IP, or ABUSE_ALERT_DOMAIN_PER_HOUR
(200) from one email domain, on one petition within an hour, we log a warning on
"petitions.abuse" and email every active admin. The abuse_alerts unique key (petition,
kind, value, hour) makes that happen once per clock hour, even with many web processes
at once.

Checked after each signature, at a cost that does not grow with the flood: a signature
adds one to a counter per clock hour in the rate limiter's storage (Redis in production,
shared by every web process). This hour's and the last hour's counters together bound
the signatures of the last sixty minutes from above, so only when they reach the
threshold does the exact count run in the database (reading at most `threshold` rows).
Once an alert is raised, or found already raised, this process skips that key for the
rest of the clock hour; a change to the alerts table committed here forgets that.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from petitions.abuse.limiter import setting
from petitions.abuse.models import AbuseAlert
from petitions.abuse.rules import TableVersion
from petitions.admin.models import AdminUser, Role
from petitions.database import utcnow
from petitions.extensions import db, limiter
from petitions.mail import queue_email
from petitions.mail.outbox import absolute_url
from petitions.signing.models import Petition, Signature

log = logging.getLogger("petitions.abuse")
WINDOW = timedelta(hours=1)
HOUR_SECONDS = 3600
_alerts_version = TableVersion(AbuseAlert.__table__)


class _RaisedThisHour:
    """The keys whose alert this process knows is raised in the current clock hour."""

    def __init__(self) -> None:
        self.hour = -1
        self.version = -1
        self.keys: set[tuple] = set()

    def current(self, hour: int) -> set[tuple]:
        if (hour, _alerts_version.value) != (self.hour, self.version):
            self.hour, self.version, self.keys = hour, _alerts_version.value, set()
        return self.keys


def _raised_this_hour(hour: int) -> set[tuple]:
    return current_app.extensions.setdefault("abuse_alerts_raised", _RaisedThisHour()).current(
        hour)


def _may_have_reached(key: tuple, hour: int, threshold: int) -> bool:
    """Count this signature in the clock hour; True when this hour's and the last hour's
    counts reach the threshold (so the last sixty minutes may hold as many)."""
    storage = limiter.limiter.storage
    # CELERY_QUEUE names this deployment in a Redis that several may share.
    name = "/".join(["abuse-alert", current_app.config["CELERY_QUEUE"], *map(str, key)])
    try:
        this_hour = storage.incr(f"{name}/{hour}", 2 * HOUR_SECONDS)
        if this_hour >= threshold:
            return True
        return this_hour + storage.get(f"{name}/{hour - 1}") >= threshold
    except Exception:  # noqa: BLE001  (storage down: count in the database, as if reached)
        return True


def _recent(petition_id: int, threshold: int, *where) -> int:
    """Signatures on the petition in the last hour matching `where`, counted up to
    `threshold` (no further: that is all the decision needs)."""
    since = utcnow() - WINDOW
    matching = (select(Signature.id)
                .where(Signature.petition_id == petition_id, Signature.created_at >= since,
                       *where)
                .limit(threshold).subquery())
    return db.session.scalar(select(func.count()).select_from(matching)) or 0


def check_after_signing(petition: Petition, canonical: str, ip: str | None) -> list[AbuseAlert]:
    """Raise the alerts this signature tips over; never fails the signing (errors are
    logged and rolled back)."""
    # The id without loading the petition again (the signing commit expired it).
    petition_id = inspect(petition).identity[0]
    raised = []
    domain = canonical.rpartition("@")[2]
    candidates = []
    if ip:
        candidates.append(("ip", ip, int(setting("ABUSE_ALERT_IP_PER_HOUR")),
                           (Signature.ip_address == ip,)))
    if domain:
        candidates.append(("email_domain", domain, int(setting("ABUSE_ALERT_DOMAIN_PER_HOUR")),
                           (Signature.canonical_email.endswith("@" + domain, autoescape=True),)))
    hour = int(time.time()) // HOUR_SECONDS
    try:
        for kind, value, threshold, where in candidates:
            key = (petition_id, kind, value)
            if threshold <= 0 or key in _raised_this_hour(hour):
                continue
            if not _may_have_reached(key, hour, threshold):
                continue
            count = _recent(petition_id, threshold, *where)
            if count >= threshold:
                alert = _raise_once(petition, kind, value, count, threshold, hour)
                # Fetched again: committing the alert made this process forget what it knew.
                _raised_this_hour(hour).add(key)
                if alert is not None:
                    raised.append(alert)
    except Exception:  # noqa: BLE001  (the signature is already safe; alerting is extra)
        db.session.rollback()
        log.exception("abuse alert check failed for petition %s", petition_id)
    return raised


def _raise_once(petition: Petition, kind: str, value: str, count: int,
                threshold: int, hour: int) -> AbuseAlert | None:
    hour_start = datetime.fromtimestamp(hour * HOUR_SECONDS, UTC)
    alert = AbuseAlert(petition_id=petition.id, kind=kind, value=value[:254], hour=hour_start,
                       count=count)
    db.session.add(alert)
    try:
        db.session.flush()
    except IntegrityError:  # already raised this hour, here or in another process
        db.session.rollback()
        return None
    log.warning("abuse alert: %s signatures in an hour from %s %s on petition %s (threshold %s)",
                count, kind, value, petition.slug, threshold)
    context = {
        "petition": petition,
        "kind": kind,
        "value": value,
        "count": count,
        "threshold": threshold,
        "hour": hour_start,
        "petition_url": absolute_url(url_for("signing.petition", slug=petition.slug)),
        "rules_url": absolute_url("/admin/access-rules/"),
    }
    admins = db.session.scalars(
        select(AdminUser).where(AdminUser.role == Role.ADMIN, AdminUser.active.is_(True))
    ).all()
    for admin in admins:
        queue_email("abuse_alert", admin.email, context)
    db.session.commit()
    return alert
