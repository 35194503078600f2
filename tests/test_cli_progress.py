"""The shared progress and summary helpers of long `flask` commands."""

from __future__ import annotations

import io

import pytest

from petitions.cli_progress import Progress, counted, elapsed


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_it_is_clicks_progress_bar_ending_on_a_new_line():
    terminal = Terminal()

    with Progress("Exporting clean-air", 4, stream=terminal) as progress:
        for _ in range(4):
            progress.advance(1)

    drawn = terminal.getvalue()
    assert "Exporting clean-air" in drawn and "4/4" in drawn
    assert "\r" in drawn and drawn.endswith("\n")


def test_elsewhere_a_short_job_prints_nothing():
    log = io.StringIO()

    with Progress("Hashing IP addresses", 3, stream=log) as progress:
        progress.advance(3)

    assert log.getvalue() == ""


def test_elsewhere_a_long_job_prints_a_line_now_and_then():
    log, clock = io.StringIO(), Clock()

    with Progress("daily digest", 3000, stream=log, report_every=30, clock=clock) as progress:
        for seconds in (10, 25, 40, 60, 75):  # since the start: lines at 40 s and 75 s
            clock.now = 1000 + seconds
            progress.advance(500)

    assert log.getvalue() == ("daily digest: 50% (1,500 of 3,000)\n"
                              "daily digest: 83% (2,500 of 3,000)\n")


def test_more_than_the_total_shows_as_done():
    log, terminal, clock = io.StringIO(), Terminal(), Clock()

    with Progress("Exporting", 2, stream=log, report_every=0, clock=clock) as progress:
        progress.advance(5)
    with Progress("Exporting", 2, stream=terminal) as progress:
        progress.advance(5)

    assert log.getvalue() == "Exporting: 100% (2 of 2)\n"
    assert "2/2" in terminal.getvalue() and "5/2" not in terminal.getvalue()
    assert progress.done == 5


@pytest.mark.parametrize("stream", [io.StringIO(), Terminal()])
def test_nothing_is_drawn_when_hidden_or_when_there_is_nothing_to_do(stream):
    with Progress("Exporting", 10, show=False, stream=stream, report_every=0) as progress:
        progress.advance(4)
    with Progress("Exporting", 0, stream=stream, report_every=0) as progress:
        progress.advance(4)

    assert stream.getvalue() == ""


def test_track_counts_each_item_once_handled():
    log = io.StringIO()
    with Progress("Importing", 3, stream=log) as progress:
        seen = [(item, progress.done) for item in progress.track("abc")]

    assert seen == [("a", 0), ("b", 1), ("c", 2)] and progress.done == 3


@pytest.mark.parametrize(("seconds", "text"), [
    (0.04, "0.0 s"), (3.25, "3.2 s"), (59.9, "59.9 s"), (125, "2 min 05 s"),
    (3725, "1 h 02 min"),
])
def test_elapsed_reads_naturally(seconds, text):
    clock = Clock()
    started = clock.now
    clock.now += seconds
    assert elapsed(started, clock) == text


def test_counted_uses_thousands_separators_and_plurals():
    assert counted(1, "petition") == "1 petition"
    assert counted(0, "petition") == "0 petitions"
    assert counted(1204, "IP address", "IP addresses") == "1,204 IP addresses"


def test_a_total_given_as_a_function_is_counted_only_for_a_bar():
    counts: list[int] = []

    def count() -> int:
        counts.append(1)
        return 3

    log, terminal, clock = io.StringIO(), Terminal(), Clock()
    with Progress("Exporting", count, stream=log, report_every=0, clock=clock) as progress:
        progress.advance(2500)
    assert counts == [] and log.getvalue() == "Exporting: 2,500 so far\n"

    with Progress("Exporting", count, stream=terminal) as progress:
        progress.advance(3)
    assert counts == [1] and "3/3" in terminal.getvalue()
