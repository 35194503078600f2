"""/dev/mail: read what the development mail catcher received. Never in production."""

import re

from flask import Blueprint, abort, current_app, render_template

from petitions.mail.catcher import MailStore

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")
HEAD_TAG = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


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
    response = current_app.response_class(_links_open_in_the_window(html), mimetype="text/html")
    # Framed by the message page, /dev/mail/<id>, on this site only: every other page is DENY.
    response.headers["Content-Security-Policy"] = "script-src 'none'; frame-ancestors 'self'"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _links_open_in_the_window(html: str) -> str:
    """Links in the shown email open in the whole window, not inside the preview frame.
    The <base> goes inside <head>: before the doctype it would put the page in quirks mode."""
    head = HEAD_TAG.search(html)
    at = head.end() if head else 0
    return html[:at] + '<base target="_top">' + html[at:]
