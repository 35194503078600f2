"""Public data-rights pages: ask for a link, see what we hold, download it, erase it.

/privacy/request answers every address the same way. The pages behind the link are
never cached and never send a Referer, since their URL carries the token.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import gettext as _

from petitions.errors import render_error
from petitions.privacy import rights
from petitions.privacy.commands import retention_command
from petitions.privacy.forms import EraseForm, LinkRequestForm
from petitions.privacy.labels import label, when

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
bp.add_app_template_filter(label, "label")
bp.add_app_template_filter(when, "when")
# `flask privacy retention`: the blueprint's name is its command group.
bp.cli.add_command(retention_command)


@bp.after_request
def _keep_private(response):
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/request", methods=["GET", "POST"])
def request_link():
    form = LinkRequestForm()
    if not form.is_submitted():
        return render_template("privacy/request.html", form=form)
    if not form.validate():
        return render_template("privacy/request.html", form=form), 422
    rights.request_link(form.email.data)
    return redirect(url_for("privacy.check_email"), code=303)


@bp.get("/check-email")
def check_email():
    # The same page whether we hold anything about the address, and when capped.
    return render_template("privacy/check_email.html")


def _email_or_error(token: str):
    """(canonical address, None), or (None, an error response) for a bad or old link."""
    link = rights.read_token(token)
    if link.valid:
        return link.email, None
    if link.expired:
        page = render_template("privacy/link_problem.html", expired=True), 410
    else:
        page = render_template("privacy/link_problem.html", expired=False), 404
    return None, page


@bp.get("/data/<token>")
def data(token: str):
    email, problem = _email_or_error(token)
    if problem:
        return problem
    return render_template("privacy/data.html", data=rights.collect(email), token=token)


@bp.get("/data/<token>.json")
def data_json(token: str):
    link = rights.read_token(token)
    if not link.valid:
        status = 410 if link.expired else 404
        detail = (_("This link has expired. Ask for a new one at /privacy/request.")
                  if link.expired else _("This link doesn't work."))
        return render_error(status, detail=detail)
    body = json.dumps(rights.collect(link.email), ensure_ascii=False, indent=2)
    response = current_app.response_class(body + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@bp.get("/data/<token>/erase")
def erase_page(token: str):
    email, problem = _email_or_error(token)
    if problem:
        return problem
    return render_template("privacy/erase.html", data=rights.collect(email), token=token,
                           form=EraseForm())


@bp.post("/data/<token>/erase")
def erase(token: str):
    email, problem = _email_or_error(token)
    if problem:
        return problem
    if not EraseForm().validate_on_submit():
        return render_error(400, _("Your form expired"),
                            _("For your security, forms expire. Please go back, reload the "
                              "page and try again."))
    rights.erase(email)
    return render_template("privacy/erased.html")
