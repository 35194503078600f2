"""Progress and a closing one-line summary for long `flask` commands, on standard error.

Standard output carries what a command produces (a CSV someone redirects to a file, a
report a script reads), so progress and summaries never go there.

On a terminal, progress is click's own progress bar. Anywhere else (a pipe, a cron log,
a test's CliRunner) a bar's redraws are noise, so progress becomes a plain line at most
every REPORT_EVERY seconds: a long run still shows in its log that it is alive and how far
it got, and a short one prints nothing but its summary.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import IO, TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

REPORT_EVERY = 30.0

Item = TypeVar("Item")


class Progress:
    """How far one phase of a job is, against a total counted before it starts.

    Use it as a context manager; `advance()` by the units done (rows, subscribers,
    entries). Going past the total (rows that arrived after the count) shows as done.
    The total may be a function, called only when a bar is drawn: a count that only a
    bar needs is then not paid for in a pipe.
    """

    def __init__(self, label: str, total: int | Callable[[], int], *, show: bool = True,
                 stream: IO[str] | None = None, report_every: float = REPORT_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.total: int | None = max(total, 0) if isinstance(total, int) else None
        self.done = 0
        self._count_total = None if isinstance(total, int) else total
        # Looked up now, not at import: CliRunner swaps sys.stderr for each invocation.
        self._stream = stream if stream is not None else sys.stderr
        self._show = show
        self._report_every = report_every
        self._clock = clock
        self._last_report = clock()
        self._bar: ProgressBar[int] | None = None

    def __enter__(self) -> Progress:
        if not (self._show and is_terminal(self._stream)):
            return self
        if self._count_total is not None:
            self.total = max(self._count_total(), 0)
        if self.total:
            self._bar = click.progressbar(length=self.total, label=self.label,
                                          file=self._stream, show_pos=True)
            self._bar.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, traceback)
            self._bar = None

    def advance(self, steps: int) -> None:
        if steps <= 0:
            return
        before = self.done
        self.done += steps
        if self._bar is not None:
            # Never past its total: a bar at 100% is done, however many arrive late.
            shown = min(self.done, self.total or 0) - min(before, self.total or 0)
            if shown > 0:
                self._bar.update(shown)
        elif self._show and self.total != 0:
            self._report_now_and_then()

    def _report_now_and_then(self) -> None:
        now = self._clock()
        if now - self._last_report < self._report_every:
            return
        self._last_report = now
        if self.total is None:
            line = f"{self.label}: {number(self.done)} so far"
        else:
            line = (f"{self.label}: {self.percent()}% ({number(min(self.done, self.total))}"
                    f" of {number(self.total)})")
        click.echo(line, file=self._stream)

    def percent(self) -> int:
        if not self.total:
            return 100
        return min(100, self.done * 100 // self.total)

    def track(self, items: Iterable[Item]) -> Iterator[Item]:
        """The items, one step each, counted once each has been handled."""
        for item in items:
            yield item
            self.advance(1)


def is_terminal(stream: IO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def summarise(line: str) -> None:
    """The job's one-line summary, on standard error."""
    click.echo(line, err=True)


def number(value: int) -> str:
    """1234567 -> "1,234,567"."""
    return f"{value:,}"


def counted(value: int, noun: str, plural: str | None = None) -> str:
    """counted(1, "petition") -> "1 petition"; counted(1204, "IP address", "IP addresses")."""
    return f"{number(value)} {noun if value == 1 else plural or noun + 's'}"


def elapsed(started: float, clock: Callable[[], float] = time.monotonic) -> str:
    """Time since `started` (a time.monotonic() reading): "3.2 s", "2 min 05 s", "1 h 02 min"."""
    seconds = max(clock() - started, 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
