"""A progress bar for long ``--stream`` runs: bytes read and the rate, on standard error.

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
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

__all__ = ["byte_progress"]

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
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeElapsedColumn(),
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
