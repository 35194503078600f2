"""Allow and block lists (admins only): email domains, IPs and networks, single emails.

A signature matching a block is stored flagged and never counted, with the same answer
as any other; an allow exempts the address from rate limits and blocks.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from petitions.abuse.forms import AccessRuleForm
from petitions.abuse.models import AbuseAlert, AccessRule
from petitions.admin import audit
from petitions.admin.permissions import admin_only
from petitions.extensions import db
from petitions.signing.models import Petition

bp = Blueprint("access_rules", __name__, url_prefix="/access-rules")
RECENT_ALERTS = 20


@bp.get("/")
@admin_only
def index(form: AccessRuleForm | None = None, status: int = 200):
    rules = db.session.scalars(
        select(AccessRule).order_by(AccessRule.action, AccessRule.kind, AccessRule.pattern)
    ).all()
    alerts = db.session.execute(
        select(AbuseAlert, Petition.slug).join(Petition, Petition.id == AbuseAlert.petition_id)
        .order_by(AbuseAlert.id.desc()).limit(RECENT_ALERTS)
    ).all()
    return render_template("admin/access_rules/index.html", rules=rules, alerts=alerts,
                           form=form or AccessRuleForm()), status


@bp.post("/")
@admin_only
def create():
    form = AccessRuleForm()
    if not form.validate_on_submit():
        return index(form, 422)
    rule = AccessRule(kind=form.kind.data, pattern=form.pattern.data, action=form.action.data,
                      note=form.note.data or None, created_by_id=current_user.id)
    db.session.add(rule)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        form.pattern.errors.append(_("There is already a rule for that pattern."))
        return index(form, 422)
    audit.record("access_rule_added", rule, kind=rule.kind, pattern=rule.pattern,
                 rule_action=rule.action)
    db.session.commit()
    flash(_("Rule added: block %(pattern)s.", pattern=rule.pattern) if rule.action == "block"
          else _("Rule added: allow %(pattern)s.", pattern=rule.pattern))
    return redirect(url_for(".index"), code=303)


@bp.post("/<int:rule_id>/delete")
@admin_only
def delete(rule_id: int):
    rule = db.session.get(AccessRule, rule_id)
    if rule is None:
        abort(404)
    audit.record("access_rule_removed", rule, kind=rule.kind, pattern=rule.pattern,
                 rule_action=rule.action)
    db.session.delete(rule)
    db.session.commit()
    flash(_("Rule removed: block %(pattern)s.", pattern=rule.pattern) if rule.action == "block"
          else _("Rule removed: allow %(pattern)s.", pattern=rule.pattern))
    return redirect(url_for(".index"), code=303)
