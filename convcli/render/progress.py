"""Progress bars on standard error: bytes read by long ``--stream`` runs, frames drawn for
an animation file.

Kept apart from :mod:`convcli.render.tables` so a streamed run that never shows a bar
(stderr not a terminal) never imports rich's live display.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["byte_progress", "count_progress"]

#: Seconds before the bar appears, so that quick runs never flash one.
_QUIET_SECONDS = 0.5


@contextmanager
def byte_progress(
    label: str, total: int | None, clock: Callable[[], float] = time.monotonic
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance_to(bytes_read)``; a bar on stderr appears once a run passes half a second.

    ``total`` is the input's size when known (a file), else ``None`` (a pipe),
    which shows a pulsing bar with the byte count and rate.

    >>> with byte_progress("signal.csv", 100, clock=lambda: 0.0) as advance_to:
    ...     advance_to(50)
    """
    columns = (DownloadColumn(), TransferSpeedColumn(), TimeElapsedColumn())
    with _delayed_bar(label, total, columns, clock) as advance_to:
        yield advance_to


@contextmanager
def count_progress(
    label: str, total: int, clock: Callable[[], float] = time.monotonic
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance_to(done)`` for ``total`` pieces of work (frames): a bar with the count
    and the time left appears on stderr once the work passes half a second.

    >>> with count_progress("frames", 10, clock=lambda: 0.0) as advance_to:
    ...     advance_to(5)
    """
    columns = (MofNCompleteColumn(), TimeRemainingColumn())
    with _delayed_bar(label, total, columns, clock) as advance_to:
        yield advance_to


@contextmanager
def _delayed_bar(
    label: str,
    total: int | None,
    columns: tuple[ProgressColumn, ...],
    clock: Callable[[], float],
) -> Iterator[Callable[[int], None]]:
    """``advance_to(done)``, drawing a bar with ``columns`` after :data:`_QUIET_SECONDS`."""
    started = clock()
    bar: tuple[Progress, TaskID] | None = None

    def advance_to(done: int) -> None:
        nonlocal bar
        if bar is None:
            if clock() - started < _QUIET_SECONDS:
                return
            progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                *columns,
                console=Console(stderr=True),
                transient=True,
            )
            progress.start()
            bar = progress, progress.add_task(label, total=total)
        progress, task = bar
        progress.update(task, completed=done)

    try:
        yield advance_to
    finally:
        if bar is not None:
            bar[0].stop()
