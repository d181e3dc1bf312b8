"""Shared by the tests that run convcli as a real process: the command, the environment it
runs in (none of the caller's display or debugging settings) and a time bound."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def finished(command: Sequence[str], **options: Any) -> subprocess.CompletedProcess:
    """``command`` run to completion from the project folder in :func:`environment`, as
    text, within TIMEOUT, its output captured unless ``stdout`` or ``stderr`` is given;
    ``options`` override any of these."""
    settings: dict[str, Any] = {
        "timeout": TIMEOUT,
        "cwd": ROOT,
        "env": environment(),
        "check": False,
        "text": True,
    }
    if "stdout" not in options and "stderr" not in options:
        settings["capture_output"] = True
    return subprocess.run(list(command), **{**settings, **options})


def assert_clean_stderr(stderr: str) -> None:
    """No traceback and no broken-pipe report on standard error."""
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
    assert "Exception ignored" not in stderr
