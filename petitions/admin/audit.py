"""Writing the audit log: who did what, to what, when, and from where."""

from __future__ import annotations

import logging

from flask import has_request_context, request
from flask_login import current_user

from petitions.admin.models import AuditEntry
from petitions.extensions import db

log = logging.getLogger("petitions.audit")


def record(action: str, target=None, *, actor=None, **detail) -> AuditEntry:
    """Add an entry to the current transaction; the caller commits it with the change
    it describes, so the log never claims something that was rolled back.

    `target` is a model instance (its table name and id are kept) or None. `detail`
    must be JSON-serialisable.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", None),
        action=action,
        target_type=getattr(target, "__tablename__", None),
        target_id=str(target.id) if target is not None else None,
        detail=detail,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    log.info("%s %s %s:%s %s", entry.actor_email or "-", action, entry.target_type or "-",
             entry.target_id or "-", detail or "")
    return entry
