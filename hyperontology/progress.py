"""Progress of long steps on a terminal (a ``rich`` display on standard error), nothing otherwise.

A command shows progress only when asked and when standard error is a terminal: piped or redirected, it stays
quiet (its output is then read by a program, or kept in a log). Each step is a line with a spinner, its name,
a bar (counted when the step knows its total, pulsing when it does not) and the time it has taken.

Examples
--------
>>> with Progress(enabled=False) as progress, progress.step("reading", total=2) as advance:
...     advance(2)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

Advance = Callable[[int], None]


def on_terminal(stream: IO[str] | None = None) -> bool:
    """Whether ``stream`` (standard error by default) is a terminal, where progress may be shown."""
    target = sys.stderr if stream is None else stream
    try:
        return target.isatty()
    except (AttributeError, ValueError):  # closed, or not a real stream
        return False


def _ignore(_: int = 1) -> None:
    return None


class Progress:
    """The steps of one command. Use it as a context manager; :meth:`step` for each long step.

    ``enabled=False`` (or a stream that is not a terminal) makes every call a no-op, and ``rich`` is then not
    even imported.
    """

    def __init__(self, *, enabled: bool, stream: IO[str] | None = None) -> None:
        self.enabled = enabled and on_terminal(stream)
        self._stream = stream
        self._display: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            console = Console(file=self._stream or sys.stderr)
            self._display = RichProgress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                         MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
            self._display.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None

    @contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Advance]:
        """A step shown while the block runs; the block calls the yielded function to count what it has done."""
        if self._display is None:
            yield _ignore
            return
        display = self._display
        task = display.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            display.advance(task, n)

        try:
            yield advance
        finally:
            display.remove_task(task)


    @contextmanager
    def stages(self, title: str, total: int) -> Iterator[Callable[[str], None]]:
        """A step made of ``total`` named parts: the block calls the yielded function with each part's name as the
        part starts (the bar counts the parts done)."""
        with self.step(title, total) as advance:
            started = [0]

            def announce(name: str) -> None:
                if self._display is None:
                    return
                if started[0]:
                    advance(1)
                started[0] += 1
                task = self._display.tasks[-1].id
                self._display.update(task, description=f"{title}: {name}")

            yield announce


@contextmanager
def step(description: str, *, enabled: bool, total: int | None = None) -> Iterator[Advance]:
    """One long step on its own (a command with a single slow part: loading, checking)."""
    with Progress(enabled=enabled) as progress, progress.step(description, total) as advance:
        yield advance


__all__ = ["Advance", "Progress", "on_terminal", "step"]
