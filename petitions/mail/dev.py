"""/dev/mail: read what the development mail catcher received. Never in production."""

from flask import Blueprint, abort, current_app, render_template

from petitions.mail.catcher import MailStore

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")


def _store() -> MailStore:
    return MailStore(current_app.config["MAIL_CATCHER_DIR"])


@bp.get("")
def index():
    return render_template("dev/mail_index.html", messages=_store().all()[:200])


@bp.get("/<message_id>")
def show(message_id: str):
    message = _store().get(message_id) or abort(404)
    return render_template("dev/mail_message.html", message=message)


@bp.get("/<message_id>/html")
def html_part(message_id: str):
    message = _store().get(message_id) or abort(404)
    html = message.part("html") or abort(404)
    # Links in the shown email open in the whole window, not inside the preview frame.
    response = current_app.response_class('<base target="_top">' + html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "script-src 'none'"
    return response
