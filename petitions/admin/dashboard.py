"""The admin home: every petition's numbers, per-petition charts, and subscribers.

Moderators and admins alike see these pages: they show counts, no personal data. The
outbox (outbox_views) and digest previews (digest_preview) hang off the same blueprint
and are for admins only.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template
from flask_babel import format_date, format_datetime, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from petitions.admin import stats
from petitions.admin.charts import Bar, bar_chart
from petitions.admin.clock import site_zone
from petitions.errors import render_error
from petitions.extensions import db
from petitions.signing.models import Petition

bp = Blueprint("dashboard", __name__)

FREQUENCIES = ("daily", "weekly")
SUBSCRIBER_STATES = ("active", "paused", "pending", "unsubscribed")


@bp.context_processor
def helpers():
    zone = site_zone()

    def site_time(moment) -> str:
        """A stored UTC time on the site's clock, with the zone's abbreviation."""
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else ""

    return {"site_time": site_time}


@bp.get("/")
def index():
    return render_template(
        "admin/dashboard.html",
        petitions=stats.petition_overview(),
        settle_hours=int(stats.RATE_SETTLE.total_seconds() // 3600),
        per_frequency=stats.subscribers_per_frequency(),
        frequencies=FREQUENCIES,
        subscriber_states=SUBSCRIBER_STATES,
        per_category=stats.subscribers_per_category(),
        everything=stats.everything_subscribers(),
    )


def _confirmed(count: int, when: str) -> str:
    return ngettext("%(when)s: %(num)d signature confirmed",
                    "%(when)s: %(num)d signatures confirmed", count, when=when)


def hourly_chart(series) -> tuple:
    bars = []
    for moment, count in series:
        when = format_datetime(moment, "EEE d MMM HH:mm", rebase=False)
        tick = format_datetime(moment, "HH:mm", rebase=False) if moment.hour % 6 == 0 else ""
        bars.append(Bar(count, _confirmed(count, when), tick))
    total = sum(count for _, count in series)
    description = ngettext("%(num)d signature confirmed in the last %(hours)d hours.",
                           "%(num)d signatures confirmed in the last %(hours)d hours.",
                           total, hours=len(series))
    chart = bar_chart(bars, chart_id="per-hour", description=description,
                      title=_("Signatures confirmed per hour"))
    return chart, description


def daily_chart(series) -> tuple:
    bars = []
    for index, (day, count) in enumerate(series):
        tick = format_date(day, "d MMM") if index % 5 == 0 else ""
        bars.append(Bar(count, _confirmed(count, format_date(day, "EEE d MMM y")), tick))
    total = sum(count for _, count in series)
    description = ngettext("%(num)d signature confirmed in the last %(days)d days.",
                           "%(num)d signatures confirmed in the last %(days)d days.",
                           total, days=len(series))
    chart = bar_chart(bars, chart_id="per-day", description=description,
                      title=_("Signatures confirmed per day"))
    return chart, description


@bp.get("/petition-stats/<slug>")
def petition_stats(slug: str):
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug[:80]))
    if petition is None:
        abort(make_response(render_error(
            404, _("Petition not found"), _("There is no petition with that address."))))
    overview = stats.petition_numbers([petition])[0]
    hourly, daily = stats.hourly_series(petition), stats.daily_series(petition)
    hourly_svg, hourly_summary = hourly_chart(hourly)
    daily_svg, daily_summary = daily_chart(daily)
    return render_template(
        "admin/dashboard/petition.html",
        petition=petition,
        overview=overview,
        settle_hours=int(stats.RATE_SETTLE.total_seconds() // 3600),
        site_timezone=site_zone().key,
        hourly=hourly, hourly_svg=hourly_svg, hourly_summary=hourly_summary,
        daily=daily, daily_svg=daily_svg, daily_summary=daily_summary,
    )


# The outbox and digest views attach their routes to `bp`.
from petitions.admin import digest_preview, outbox_views  # noqa: E402,F401
