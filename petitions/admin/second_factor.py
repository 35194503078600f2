"""Turning on the TOTP second factor for your own account, and turning it off."""

from __future__ import annotations

import io

import pyotp
import segno
from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from markupsafe import Markup

from petitions.admin import audit
from petitions.admin.accounts import bp
from petitions.admin.forms import SecondFactorForm
from petitions.extensions import db

ENROLMENT_KEY = "admin_totp_enrolment"


def _qr_svg(uri: str) -> Markup:
    """The provisioning URI as an inline SVG QR code: made here, nothing sent elsewhere."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", xmldecl=False, svgns=True, scale=4,
                                    title="QR code for your authenticator app")
    return Markup(buffer.getvalue().decode())  # noqa: S704  (segno's own output)


@bp.route("/me/two-factor", methods=["GET", "POST"])
def two_factor():
    form = SecondFactorForm()
    if current_user.totp_secret:
        return render_template("admin/accounts/two_factor.html", enabled=True, form=form)
    secret = session.get(ENROLMENT_KEY) or pyotp.random_base32()
    session[ENROLMENT_KEY] = secret
    status = 200
    if form.validate_on_submit():
        if pyotp.TOTP(secret).verify(form.code.data, valid_window=1):
            current_user.totp_secret = secret
            current_user.session_version += 1  # other sessions must log in with the code
            audit.record("totp_enabled", current_user)
            db.session.commit()
            session.pop(ENROLMENT_KEY, None)
            login_user(current_user)
            flash(_("Two-factor login is on. You will need a code from your app to log in."))
            return redirect(url_for(".two_factor"), code=303)
        form.code.errors.append(_("That code is not right. Check your app's clock and try again."))
        status = 422
    elif form.is_submitted():
        status = 422
    issuer = current_app.config.get("LIST_ID_DOMAIN") or "petitions"
    uri = pyotp.TOTP(secret).provisioning_uri(name=current_user.email, issuer_name=issuer)
    return render_template("admin/accounts/two_factor.html", enabled=False, form=form,
                           secret=secret, qr=_qr_svg(uri)), status


@bp.post("/me/two-factor/off")
def two_factor_off():
    form = SecondFactorForm()
    if not current_user.totp_secret:
        return redirect(url_for(".two_factor"), code=303)
    if not form.validate_on_submit() or not pyotp.TOTP(current_user.totp_secret).verify(
        form.code.data, valid_window=1
    ):
        flash(_("That code is not right, so two-factor login is still on."))
        return redirect(url_for(".two_factor"), code=303)
    current_user.totp_secret = None
    audit.record("totp_disabled", current_user)
    db.session.commit()
    flash(_("Two-factor login is off."))
    return redirect(url_for(".two_factor"), code=303)
