"""Alerts when one IP or one email domain floods a petition.

Checked right after each signature is stored: two indexed counts over the last hour.
At ABUSE_ALERT_IP_PER_HOUR (50) signatures from one IP, or ABUSE_ALERT_DOMAIN_PER_HOUR
(200) from one email domain, on one petition, we log a warning on "petitions.abuse" and
email every active admin. The abuse_alerts unique key (petition, kind, value, hour)
makes that happen once per clock hour, even with many web processes at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from petitions.abuse.limiter import setting
from petitions.abuse.models import AbuseAlert
from petitions.admin.models import AdminUser, Role
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import queue_email
from petitions.mail.outbox import absolute_url
from petitions.signing.models import Petition, Signature

log = logging.getLogger("petitions.abuse")
WINDOW = timedelta(hours=1)


def _recent(petition_id: int, *where) -> int:
    since = utcnow() - WINDOW
    return db.session.scalar(
        select(func.count(Signature.id)).where(
            Signature.petition_id == petition_id, Signature.created_at >= since, *where)
    ) or 0


def check_after_signing(petition: Petition, canonical: str, ip: str | None) -> list[AbuseAlert]:
    """Raise the alerts this signature tips over; never fails the signing (errors are
    logged and rolled back)."""
    raised = []
    domain = canonical.rpartition("@")[2]
    candidates = []
    if ip:
        candidates.append(("ip", ip, int(setting("ABUSE_ALERT_IP_PER_HOUR")),
                           (Signature.ip_address == ip,)))
    if domain:
        candidates.append(("email_domain", domain, int(setting("ABUSE_ALERT_DOMAIN_PER_HOUR")),
                           (Signature.canonical_email.endswith("@" + domain, autoescape=True),)))
    try:
        for kind, value, threshold, where in candidates:
            if threshold <= 0:
                continue
            count = _recent(petition.id, *where)
            if count >= threshold:
                alert = _raise_once(petition, kind, value, count, threshold)
                if alert is not None:
                    raised.append(alert)
    except Exception:  # noqa: BLE001  (the signature is already safe; alerting is extra)
        db.session.rollback()
        log.exception("abuse alert check failed for petition %s", petition.id)
    return raised


def _raise_once(petition: Petition, kind: str, value: str, count: int,
                threshold: int) -> AbuseAlert | None:
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    alert = AbuseAlert(petition_id=petition.id, kind=kind, value=value[:254], hour=hour,
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
        "hour": hour,
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
