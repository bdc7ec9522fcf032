"""Progress of a long command on stderr: a rich progress bar with rate and time left on a
terminal; elsewhere (a log, CI) a quiet line at every tenth of the work."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class RowProgress:
    """A ``(done, total)`` callback that shows how far a sweep is; ``close()`` when done."""

    def __init__(self, label: str, stream: TextIO | None = None,
                 terminal: bool | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.started = time.monotonic()
        self.first: int | None = None  # rows done before this run: not part of the rate
        self.last_tenth = -1
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        """Show that ``done`` of ``total`` rows are finished."""
        if self.first is None:
            self.first = done
            self.started = time.monotonic()
            if self.terminal:
                self._start_bar(done, total)
        if self.bar is not None:
            rate = self.rate_per_minute(done)
            self.bar.update(self.task, completed=done, total=total,
                            rate="" if rate is None else f"{rate:.1f}/min")
            return
        tenth = 10 * done // total if total else 10
        if tenth != self.last_tenth:
            self.last_tenth = tenth
            print(f"{self.label}: {self._line(done, total)}", file=self.stream, flush=True)

    def _start_bar(self, done: int, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                            TimeElapsedColumn(), TimeRemainingColumn(),
                            console=Console(file=self.stream), transient=False)
        self.task = self.bar.add_task(self.label, total=total, completed=done, rate="")
        self.bar.start()

    def rate_per_minute(self, done: int) -> float | None:
        """Rows a minute computed by this run so far (None before the first); rows found
        done in the store do not count, unlike rich's own speed column."""
        elapsed = time.monotonic() - self.started
        ran = done - (self.first or 0)
        return 60.0 * ran / elapsed if ran > 0 and elapsed > 0 else None

    def _line(self, done: int, total: int) -> str:
        percent = 100.0 * done / total if total else 100.0
        text = f"{done}/{total} rows ({percent:.0f}%)"
        rate = self.rate_per_minute(done)
        if rate is not None:
            text += f", {rate:.1f} a minute"
            if done < total:
                text += f", about {_duration((total - done) / rate * 60.0)} left"
        return text

    def close(self) -> None:
        """Stop the bar (the last state stays on screen)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
