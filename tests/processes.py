"""Shared by the tests that run convcli as a real process: the command, the environment it
runs in (none of the caller's display or debugging settings) and a time bound."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_M = [sys.executable, "-m", "convcli"]
TIMEOUT = 60
#: Settings of the caller's shell that would change what convcli prints.
_NOT_INHERITED = (
    "FORCE_COLOR",
    "NO_COLOR",
    "CONVCLI_DEBUG",
    "PYTHONIOENCODING",
    "PYTHONWARNINGS",
    "COLUMNS",
    "LINES",
)


def environment(**changes: str) -> dict[str, str]:
    """The current environment without the caller's display and debugging settings, with
    ``changes``."""
    env = {name: value for name, value in os.environ.items() if name not in _NOT_INHERITED}
    env.update(changes)
    return env


def assert_clean_stderr(stderr: str) -> None:
    """No traceback and no broken-pipe report on standard error."""
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
    assert "Exception ignored" not in stderr
