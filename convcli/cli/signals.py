"""The process's stopping signals and its exit.

SIGINT, SIGTERM and SIGHUP become exceptions where the run is (:func:`stopping_signals`),
so that it unwinds as from Ctrl-C and a half-written -o file is removed; writers call
:func:`stop_if_signalled` before each piece of output, since a handler's exception can be
lost in library code that swallows errors.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import NoReturn

__all__ = ["Stopped", "exit_now", "first_signal", "stop_if_signalled", "stopping_signals"]


class Stopped(BaseException):
    """SIGTERM or SIGHUP: raised where the run is, so that it unwinds as from Ctrl-C (a
    temporary -o file is removed); not an Exception, so no ``except Exception`` takes it."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number
        self.name = signal.Signals(number).name


#: The signals stopping_signals has caught, in order.
_caught: list[int] = []
#: The signals stopping_signals handles.
_STOPPING = ("SIGINT", "SIGTERM", "SIGHUP")


@contextmanager
def stopping_signals() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise Stopped and SIGINT KeyboardInterrupt,
    where the main thread is and again before any more output is written: a handler's
    exception can be lost in library code that swallows errors (compiling a module, say),
    and the output must not then be completed. A signal ignored (nohup) stays ignored."""
    numbers = [getattr(signal, name) for name in _STOPPING if hasattr(signal, name)]
    replaced = {
        number: signal.signal(number, _catch)
        for number in numbers
        if signal.getsignal(number) in (signal.SIG_DFL, signal.default_int_handler)
    }
    try:
        yield
    finally:
        for number, handler in replaced.items():
            signal.signal(number, handler)


def _catch(number: int, frame: object) -> None:
    """The handler of stopping_signals: note the signal and raise for the first one."""
    _caught.append(number)
    stop_if_signalled()


def first_signal() -> int | None:
    """The first signal stopping_signals caught, or None."""
    return _caught[0] if _caught else None


def stop_if_signalled() -> None:
    """Raise for the first signal stopping_signals caught, if any."""
    if _caught:
        raise KeyboardInterrupt if _caught[0] == signal.SIGINT else Stopped(_caught[0])


def exit_now(code: int) -> NoReturn:
    """End the process with ``code`` at once, after flushing standard output and error,
    without the interpreter's shutdown: for when a thread may still be blocked reading
    (convcli.cli.inputs.background_reader_alive), which would make shutdown hang or fail."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError, AttributeError):  # a closed pipe or stream (None)
            stream.flush()
    os._exit(code)
