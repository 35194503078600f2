"""The site's clock for admin pages: stored UTC times shown in SITE_TIMEZONE."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SITE_TIMEZONE"])


def site_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the site's wall-clock time ("" for none)."""
    return moment.astimezone(site_zone()).strftime(fmt) if moment else ""
