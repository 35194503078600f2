"""Words for the codes a data-rights page shows (states, frequencies, consent records),
in the reader's language. The codes stay in the database and the JSON export; people
read the words. An unknown code is shown as it is, never hidden."""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

# The same code can mean different things ("pending" signature, "pending" email), so
# each group has its own words.
LABELS = {
    "signature": {
        "pending": _l("waiting for confirmation"),
        "confirmed": _l("confirmed"),
        "invalidated": _l("removed by a moderator"),
    },
    "subscription": {
        "pending": _l("waiting for confirmation"),
        "active": _l("subscribed"),
        "unsubscribed": _l("unsubscribed"),
        "daily": _l("daily"),
        "weekly": _l("weekly"),
    },
    "consent": {
        "subscribe": _l("asked to subscribe"),
        "confirm": _l("confirmed the subscription"),
        "change": _l("changed the topics or how often"),
        "pause": _l("paused the emails"),
        "resume": _l("resumed the emails"),
        "unsubscribe": _l("left the newsletter"),
        "subscribe-form": _l("the newsletter form"),
        "preference-centre": _l("the newsletter settings page"),
        "one-click": _l("the unsubscribe link in an email"),
        "unsubscribe-page": _l("the unsubscribe page"),
        "complaint": _l("a spam complaint from the mail provider"),
        "command": _l("an administrator's command"),
        "mailto": _l("an email to our unsubscribe address"),
    },
    "email": {
        "pending": _l("waiting to be sent"),
        "sending": _l("being sent"),
        "sent": _l("sent"),
        "failed": _l("could not be delivered"),
    },
    "suppression": {
        "hard_bounce": _l("the address does not exist"),
        "soft_bounce": _l("repeated delivery failures"),
        "complaint": _l("a spam complaint"),
        "manual": _l("added by an administrator"),
    },
}


def label(code: object, group: str) -> str:
    """`{{ s.state|label("signature") }}`"""
    text = str(code or "")
    if group == "consent" and text.startswith("petition:"):
        return str(_l("signing the petition %(slug)s", slug=text.removeprefix("petition:")))
    return str(LABELS[group].get(text, text))


def when(value: datetime | str | None) -> str:
    """A moment from the collected data (ISO text, as in the JSON export) for the reader:
    their language's format, in the site's time zone."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(moment, "medium")
