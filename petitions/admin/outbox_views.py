"""The email outbox for admins: counts, failures with the SMTP server's reply, and retry.

Retrying puts a failed row back to "pending", due now, with its attempts reset to 0, so
it gets the full retry schedule again (a row kept at the maximum would fail for good on
its first temporary error). The worker is nudged after the commit, as queue_email does.

Rows whose last_error starts with "not sent:" were held back on purpose (a suppressed
address, an unsubscribed or paused reader, an invalidated signature). They are never
retried from here: delivery does not re-check every one of those reasons, and the
person asked us, or a moderator decided, not to mail them.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, case, func, or_, select, update

from petitions.admin import audit
from petitions.admin.dashboard import bp
from petitions.admin.permissions import admin_only
from petitions.database import utcnow
from petitions.errors import render_error
from petitions.extensions import db
from petitions.mail.models import OutboxMessage, OutboxState
from petitions.mail.outbox import NUDGE_FLAG

NOT_SENT_PREFIX = "not sent:"
PER_PAGE = 50
MAX_PAGE = 100_000
KIND_MAX = 60
STATES = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.SENT, OutboxState.FAILED)


def held_back():
    """Failed rows that were cancelled on purpose rather than refused by a server."""
    return and_(OutboxMessage.state == OutboxState.FAILED,
                OutboxMessage.last_error.startswith(NOT_SENT_PREFIX, autoescape=True))


def retryable():
    return and_(OutboxMessage.state == OutboxState.FAILED,
                or_(OutboxMessage.last_error.is_(None),
                    ~OutboxMessage.last_error.startswith(NOT_SENT_PREFIX, autoescape=True)))


def counts_by_kind() -> dict[str, dict[str, int]]:
    """{kind: {state: rows, ..., "held_back": failed rows not sent on purpose}}."""
    result: dict[str, dict[str, int]] = {}
    rows = db.session.execute(
        select(OutboxMessage.kind, OutboxMessage.state, func.count(OutboxMessage.id),
               func.coalesce(func.sum(case((held_back(), 1), else_=0)), 0))
        .group_by(OutboxMessage.kind, OutboxMessage.state)
        .order_by(OutboxMessage.kind)
    )
    for kind, state, count, held in rows:
        entry = result.setdefault(kind, {s.value: 0 for s in STATES} | {"held_back": 0})
        entry[state] = int(count)
        entry["held_back"] += int(held)
    return result


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(make_response(render_error(
            400, _("That page number is not valid"),
            _("Page numbers are whole numbers from 1 to %(max)d.", max=MAX_PAGE))))
    return int(raw)


def _kind_filter() -> str:
    kind = request.args.get("kind", "").strip()
    if len(kind) > KIND_MAX:
        abort(make_response(render_error(
            400, _("That kind of email is not valid"),
            _("A kind is at most %(max)d characters.", max=KIND_MAX))))
    return kind


@bp.get("/outbox")
@admin_only
def outbox():
    page, kind = _page_number(), _kind_filter()
    by_kind = counts_by_kind()
    totals = {s.value: sum(c[s.value] for c in by_kind.values()) for s in STATES}
    totals["held_back"] = sum(c["held_back"] for c in by_kind.values())
    failed = select(OutboxMessage).where(OutboxMessage.state == OutboxState.FAILED)
    if kind:
        failed = failed.where(OutboxMessage.kind == kind)
    failed_total = db.session.scalar(
        select(func.count()).select_from(failed.subquery())) or 0
    failures = db.session.scalars(
        failed.order_by(OutboxMessage.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    pages = max(1, -(-failed_total // PER_PAGE))
    return render_template(
        "admin/dashboard/outbox.html", by_kind=by_kind, totals=totals, failures=failures,
        failed_total=failed_total, page=page, pages=pages, kind=kind,
        not_sent_prefix=NOT_SENT_PREFIX,
    )


def _back_to_outbox():
    return redirect(url_for("admin.dashboard.outbox", kind=request.form.get("back_kind") or None),
                    code=303)


@bp.post("/outbox/<int:message_id>/retry")
@admin_only
def outbox_retry(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(make_response(render_error(
            404, _("Email not found"), _("There is no outbox email with that number."))))
    if message.state != OutboxState.FAILED:
        return render_error(409, _("Only failed emails can be retried"),
                            _("This email is still being sent.") if message.state == OutboxState.SENDING
                            else _("This email was sent.") if message.state == OutboxState.SENT
                            else _("This email is waiting to be sent."))
    if (message.last_error or "").startswith(NOT_SENT_PREFIX):
        return render_error(409, _("This email was held back on purpose"),
                            _("It was not sent because: %(reason)s. It can't be retried.",
                              reason=message.last_error[len(NOT_SENT_PREFIX):].strip()))
    previous = {"attempts": message.attempts, "last_error": (message.last_error or "")[:500]}
    # The state test in the UPDATE makes a double-click retry the row only once.
    changed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, retryable())
        .values(state=OutboxState.PENDING, attempts=0, next_attempt_at=utcnow(),
                claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        audit.record("outbox_retried", message, kind=message.kind, count=1, **previous)
        db.session.info[NUDGE_FLAG] = True
    db.session.commit()
    flash(_("The email to %(address)s will be sent again shortly.", address=message.to_address)
          if changed else _("That email was already retried."))
    return _back_to_outbox()


@bp.post("/outbox/retry-all")
@admin_only
def outbox_retry_all():
    kind = request.form.get("kind", "").strip()
    if not kind or len(kind) > KIND_MAX:
        return render_error(400, _("Choose which kind of email to retry"),
                            _("Use a “Retry all” button in the table of kinds."))
    changed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.kind == kind, retryable())
        .values(state=OutboxState.PENDING, attempts=0, next_attempt_at=utcnow(),
                claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    if changed:
        audit.record("outbox_retried", kind=kind, count=changed)
        db.session.info[NUDGE_FLAG] = True
    db.session.commit()
    if changed:
        flash(ngettext("%(num)d “%(kind)s” email will be sent again shortly.",
                       "%(num)d “%(kind)s” emails will be sent again shortly.",
                       changed, kind=kind))
    else:
        flash(_("There were no failed “%(kind)s” emails to retry.", kind=kind))
    return _back_to_outbox()
