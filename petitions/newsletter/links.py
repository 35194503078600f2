"""Links that let a subscriber manage or leave the newsletter, and the list headers.

A manage token never expires (it sits in every digest), and names the subscriber and
a short digest of their canonical address, so it stops working once they are erased
and can never open a later subscriber that reuses the id. Everything here works
without a request (the worker builds digests inside the app context only), so URLs
are built from BASE_URL and plain paths, never url_for.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadData

from petitions.extensions import db
from petitions.newsletter.subscribers import Subscriber
from petitions.tokens import email_digest, signer

SALT = "subscription-manage"
MAX_TOKEN_LENGTH = 200


def manage_token(subscriber: Subscriber) -> str:
    """"<id>-<email digest>.<signature>": a plain signed string rather than a serialized
    payload, because a digest run signs one for every message it sends."""
    value = f"{subscriber.id}-{email_digest(subscriber.canonical_email)}"
    return signer(SALT).sign(value).decode()


def read_manage_token(token: str) -> Subscriber | None:
    """The subscriber a token names, or None when it is overlong, tampered or stale."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        value = signer(SALT).unsign(token).decode()
    except (BadData, UnicodeDecodeError):
        return None
    ident, _, digest = value.partition("-")
    if not (ident.isascii() and ident.isdigit()) or not digest:
        return None
    subscriber = db.session.get(Subscriber, int(ident))
    if subscriber is None or email_digest(subscriber.canonical_email) != digest:
        return None
    return subscriber


def manage_path(token: str) -> str:
    return f"/subscription/{token}"


def manage_url(subscriber: Subscriber) -> str:
    return current_app.config["BASE_URL"] + manage_path(manage_token(subscriber))


def one_click_unsubscribe_url(subscriber: Subscriber) -> str:
    """GET shows an "Unsubscribe" button; POST (RFC 8058 one-click) unsubscribes at once."""
    return manage_url(subscriber) + "/unsubscribe"


def _list_display_name(list_name: str) -> str:
    names = {
        "digest": _("Truth and Resistance digest"),
        "newsletter": _("Truth and Resistance newsletter"),
    }
    return names.get(list_name, _("Truth and Resistance %(list)s", list=list_name))


def list_headers(subscriber: Subscriber, list_name: str = "digest") -> dict[str, str]:
    """RFC 2369 / 2919 / 8058 headers for mail sent to the list.

    list_name must be a plain DNS label ("digest", "newsletter"): it becomes the
    List-Id "<list_name.LIST_ID_DOMAIN>".
    """
    return subscriber_links(subscriber, list_name)[2]


def subscriber_links(
    subscriber: Subscriber, list_name: str = "digest"
) -> tuple[str, str, dict[str, str]]:
    """(preference centre URL, one-click unsubscribe URL, list headers), signing the token
    once: a digest run builds these for every message it sends."""
    token = manage_token(subscriber)
    manage = current_app.config["BASE_URL"] + manage_path(token)
    one_click = manage + "/unsubscribe"
    mailto = current_app.config["UNSUBSCRIBE_MAILTO"]
    subject = quote(f"unsubscribe {token}")
    return manage, one_click, {
        "List-Unsubscribe": f"<{one_click}>, <mailto:{mailto}?subject={subject}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": (
            f"{_list_display_name(list_name)} "
            f"<{list_name}.{current_app.config['LIST_ID_DOMAIN']}>"
        ),
        "Precedence": "bulk",
    }
