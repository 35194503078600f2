"""Server-side SVG charts: well-formed, one bar per hour or day, escaped text, and the
hour and day buckets right in the site's time zone (daylight saving, half-hour zones)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from petitions.admin import stats
from petitions.admin.charts import Bar, bar_chart
from petitions.database import utcnow
from tests.factories import PetitionFactory, SignatureFactory

SVG = "{http://www.w3.org/2000/svg}"
SVG_BLOCK = re.compile(r"<svg\b.*?</svg>", re.S)


def bars_of(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def titles_of(svg: str) -> list[str]:
    return [rect.find(f"{SVG}title").text for rect in bars_of(svg)]


def confirmed(petition, at: datetime, country: str = "US", **fields):
    return SignatureFactory(petition=petition, state="confirmed", confirmed_at=at,
                            created_at=at - timedelta(minutes=5), country=country, **fields)


# --- the SVG itself -------------------------------------------------------------------------

def test_bar_chart_is_well_formed_svg_with_one_titled_bar_per_value(app):
    svg = bar_chart([Bar(3, "Mon: 3", "Mon"), Bar(0, "Tue: 0"), Bar(7, "Wed: 7", "Wed")],
                    chart_id="c1", title="Per day", description="10 in all")

    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Per day"
    assert root.find(f"{SVG}desc").text == "10 in all"
    assert titles_of(svg) == ["Mon: 3", "Tue: 0", "Wed: 7"]
    heights = [float(rect.get("height")) for rect in bars_of(svg)]
    # Scaled to a round top of 10: 3/10 and 7/10 of the plot height, and nothing for 0.
    assert heights[1] == 0
    assert round(heights[2] / heights[0], 4) == round(7 / 3, 4)
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"] == ["Mon", "Wed"]
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "axis"] == ["0", "5", "10"]


def test_bar_chart_escapes_every_piece_of_text(app):
    nasty = '</title><script>alert("x")</script> & <b>'
    svg = bar_chart([Bar(1, nasty, nasty)], chart_id='x" onload="alert(1)', title=nasty,
                    description=nasty)

    assert "<script>" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)  # still well-formed
    assert root.find(f"{SVG}title").text == nasty
    assert titles_of(svg) == [nasty]
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"] == [nasty]
    assert root.get("aria-labelledby") == 'x" onload="alert(1)-title x" onload="alert(1)-desc'
    assert root.get("onload") is None


def test_the_value_axis_ends_on_a_round_number_with_a_whole_middle(app):
    for value, axis in [(1, ["0", "1", "2"]), (3, ["0", "2", "4"]), (41, ["0", "50", "100"]),
                        (101, ["0", "100", "200"]), (12345, ["0", "10000", "20000"])]:
        root = ET.fromstring(bar_chart([Bar(value, "v")], chart_id="a", title="t"))
        assert [t.text for t in root.iter(f"{SVG}text")] == axis, value
        [bar] = bars_of(ET.tostring(root, encoding="unicode"))
        plot_height = 220 - 12 - 28
        assert abs(float(bar.get("height")) - plot_height * value / int(axis[-1])) < 0.01


def test_an_empty_chart_still_has_an_axis(app):
    root = ET.fromstring(bar_chart([], chart_id="e", title="Nothing"))
    assert bars_of(ET.tostring(root, encoding="unicode")) == []
    assert [t.text for t in root.iter(f"{SVG}text")] == ["0", "1", "2"]


# --- the buckets ----------------------------------------------------------------------------

def test_hours_count_confirmations_only_in_the_right_hour(app):
    app.config["SITE_TIMEZONE"] = "America/New_York"
    now = utcnow()
    petition = PetitionFactory(created_at=now - timedelta(days=60))
    other = PetitionFactory()
    confirmed(petition, now - timedelta(hours=1))
    confirmed(petition, now - timedelta(hours=1, minutes=1))
    confirmed(petition, now)
    confirmed(petition, now - timedelta(hours=47))
    confirmed(petition, now - timedelta(hours=49))      # before the window
    confirmed(other, now - timedelta(hours=1))          # another petition
    SignatureFactory(petition=petition, state="pending", created_at=now - timedelta(hours=1))

    series = stats.hourly_series(petition, now)

    assert len(series) == 48
    counts = [count for _, count in series]
    assert counts[47] == 1 and counts[46] == 2 and counts[0] == 1
    assert sum(counts) == 4
    zone = ZoneInfo("America/New_York")
    assert series[47][0] == now.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    assert all(later[0] - earlier[0] == timedelta(hours=1)
               for earlier, later in zip(series, series[1:], strict=False))


def test_invalidated_signatures_are_left_out_of_the_charts(app):
    now = utcnow()
    petition = PetitionFactory(created_at=now - timedelta(days=60))
    confirmed(petition, now - timedelta(hours=1))
    SignatureFactory(petition=petition, state="invalidated", confirmed_at=now - timedelta(hours=1),
                     invalidated_at=now, invalidation_reason="bot")

    assert sum(n for _, n in stats.hourly_series(petition, now)) == 1
    assert sum(n for _, n in stats.daily_series(petition, now)) == 1


def test_hours_and_days_follow_the_site_clock_across_the_autumn_change(app):
    # New York left daylight saving at 06:00 UTC on 2 Nov 2025: 01:00 came twice.
    app.config["SITE_TIMEZONE"] = "America/New_York"
    petition = PetitionFactory(created_at=datetime(2025, 9, 1, tzinfo=UTC))
    confirmed(petition, datetime(2025, 11, 2, 5, 10, tzinfo=UTC))   # 01:10 EDT
    confirmed(petition, datetime(2025, 11, 2, 6, 10, tzinfo=UTC))   # 01:10 EST
    confirmed(petition, datetime(2025, 11, 2, 6, 20, tzinfo=UTC))   # 01:20 EST
    confirmed(petition, datetime(2025, 11, 2, 3, 59, tzinfo=UTC))   # 23:59 EDT on 1 Nov
    confirmed(petition, datetime(2025, 11, 3, 4, 59, tzinfo=UTC))   # 23:59 EST on 2 Nov
    confirmed(petition, datetime(2025, 11, 3, 5, 0, tzinfo=UTC))    # 00:00 EST on 3 Nov
    now = datetime(2025, 11, 3, 12, 0, tzinfo=UTC)

    hourly = {moment.strftime("%d %H:%M %Z"): n for moment, n in stats.hourly_series(petition, now)}
    daily = dict(stats.daily_series(petition, now))

    assert hourly["02 01:00 EDT"] == 1 and hourly["02 01:00 EST"] == 2
    assert hourly["01 23:00 EDT"] == 1 and hourly["02 23:00 EST"] == 1
    assert hourly["03 00:00 EST"] == 1
    assert len(daily) == 30
    first, last = min(daily), max(daily)
    assert (first.isoformat(), last.isoformat()) == ("2025-10-05", "2025-11-03")
    assert daily[datetime(2025, 11, 1).date()] == 1
    assert daily[datetime(2025, 11, 2).date()] == 4
    assert daily[datetime(2025, 11, 3).date()] == 1
    assert sum(daily.values()) == 6


def test_the_last_hour_is_right_inside_the_repeated_hour(app):
    app.config["SITE_TIMEZONE"] = "America/New_York"
    petition = PetitionFactory(created_at=datetime(2025, 9, 1, tzinfo=UTC))
    confirmed(petition, datetime(2025, 11, 2, 6, 5, tzinfo=UTC))    # 01:05 EST
    now = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)                  # 01:30 EST, the second one

    series = stats.hourly_series(petition, now)

    assert [(m.astimezone(UTC).hour, m.strftime("%H:%M %Z"), n) for m, n in series[-2:]] == [
        (5, "01:00 EDT", 0), (6, "01:00 EST", 1)]


def test_hours_start_on_the_half_hour_in_a_half_hour_zone(app):
    app.config["SITE_TIMEZONE"] = "Asia/Kolkata"  # UTC+05:30
    petition = PetitionFactory(created_at=datetime(2025, 1, 1, tzinfo=UTC))
    confirmed(petition, datetime(2025, 3, 10, 10, 29, tzinfo=UTC))  # 15:59 IST
    confirmed(petition, datetime(2025, 3, 10, 10, 31, tzinfo=UTC))  # 16:01 IST
    confirmed(petition, datetime(2025, 3, 10, 18, 29, tzinfo=UTC))  # 23:59 IST, 10 March
    confirmed(petition, datetime(2025, 3, 10, 18, 30, tzinfo=UTC))  # 00:00 IST, 11 March
    now = datetime(2025, 3, 11, 3, 0, tzinfo=UTC)

    hourly = {moment.strftime("%d %H:%M"): n for moment, n in stats.hourly_series(petition, now)}
    daily = {day.isoformat(): n for day, n in stats.daily_series(petition, now)}

    assert hourly["10 15:00"] == 1 and hourly["10 16:00"] == 1
    assert hourly["10 23:00"] == 1 and hourly["11 00:00"] == 1
    assert daily["2025-03-10"] == 3 and daily["2025-03-11"] == 1


def test_a_young_petition_has_a_bar_per_day_since_it_was_created(app):
    app.config["SITE_TIMEZONE"] = "UTC"
    now = datetime(2025, 6, 20, 15, 0, tzinfo=UTC)
    petition = PetitionFactory(created_at=datetime(2025, 6, 18, 9, 0, tzinfo=UTC))
    confirmed(petition, datetime(2025, 6, 18, 10, 0, tzinfo=UTC))
    confirmed(petition, datetime(2025, 6, 20, 14, 59, tzinfo=UTC))

    daily = stats.daily_series(petition, now)

    assert [(day.isoformat(), n) for day, n in daily] == [
        ("2025-06-18", 1), ("2025-06-19", 0), ("2025-06-20", 1)]


# --- the page -------------------------------------------------------------------------------

def test_petition_page_draws_48_hourly_and_30_daily_bars_with_their_numbers(app, moderator_client):
    app.config["SITE_TIMEZONE"] = "UTC"
    now = utcnow()
    petition = PetitionFactory(title='Stop <the> "raids" & more',
                               created_at=now - timedelta(days=90))
    confirmed(petition, now - timedelta(hours=2))
    confirmed(petition, now - timedelta(hours=2))
    noon_three_days_ago = (now - timedelta(days=3)).replace(hour=12, minute=0, second=0,
                                                          microsecond=0)
    confirmed(petition, noon_three_days_ago)

    response = moderator_client.get(f"/admin/petition-stats/{petition.slug}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Stop &lt;the&gt; &#34;raids&#34; &amp; more" in html
    hourly_svg, daily_svg = SVG_BLOCK.findall(html)
    hour_titles, day_titles = titles_of(hourly_svg), titles_of(daily_svg)
    assert len(hour_titles) == 48 and len(day_titles) == 30
    assert hour_titles[45].endswith(": 2 signatures confirmed")
    assert [t for t in hour_titles if not t.endswith(": 0 signatures confirmed")] == [hour_titles[45]]
    recent_day = 29 - (now.date() - (now - timedelta(hours=2)).date()).days
    assert {i: t.rsplit(": ", 1)[1] for i, t in enumerate(day_titles)
            if not t.endswith(": 0 signatures confirmed")} == {
        26: "1 signature confirmed", recent_day: "2 signatures confirmed"}
    assert "3 signatures confirmed in the last 30 days." in html
    assert "2 signatures confirmed in the last 48 hours." in html
    # The table fallback holds the same numbers.
    assert f"<td>{noon_three_days_ago.date().isoformat()}</td><td class=\"num\">1</td>" in html


def test_petition_page_is_404_for_an_unknown_slug(app, moderator_client):
    response = moderator_client.get("/admin/petition-stats/no-such-petition")
    assert response.status_code == 404
    assert "Petition not found" in response.get_data(as_text=True)
