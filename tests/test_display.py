"""What a person sees, in real processes: terminals that cannot show Unicode, the
animation and the demo on a pseudo-terminal, and tables at a fixed width."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON_M = [sys.executable, "-m", "convcli"]
TIMEOUT = 60


def environment(**changes: str) -> dict[str, str]:
    """The current environment without colour forcing or debugging, with some changes."""
    drop = ("FORCE_COLOR", "NO_COLOR", "CONVCLI_DEBUG", "PYTHONIOENCODING", "COLUMNS", "LINES")
    env = {key: value for key, value in os.environ.items() if key not in drop}
    env.update(changes)
    return env


ENCODINGS = [
    pytest.param({"PYTHONIOENCODING": "ascii"}, "ascii", id="ascii"),
    pytest.param({"PYTHONIOENCODING": "cp1252"}, "cp1252", id="cp1252"),
    pytest.param({"PYTHONIOENCODING": "cp437"}, "cp437", id="cp437"),
    pytest.param({"LANG": "C", "LC_ALL": "C"}, "utf-8", id="LANG=C"),
]
SHOWING = [
    ["compare", "2,1,3,5,4", "1,-1", "--format", "table"],
    ["compare", "samples/image.csv", "sobel-x", "--format", "table"],
    ["compare", "samples/recording.csv", "samples/pattern.csv", "--format", "table"],
    ["compare", "2,1,3,5,4", "1,-1", "--convention", "torch", "--format", "table"],
    ["conv", "0.5,1.25,3", "1,2", "--format", "table"],
    ["explain", "2,1,3,5,4", "1,-1"],
    ["explain", "samples/image.csv", "1,0;0,-1", "--op", "corr"],
    ["explain", "2,1,3,5,4", "1,-1", "--animate", "--delay", "0"],
    ["conventions", "2,1,3,5,4", "1,-1", "--format", "table"],
    ["kernels", "--format", "table"],
    ["backward", "2,1,3,5,4", "1,-1"],
    ["delay", "0,0,0,1,2,1,0", "1,2,1,0,0,0,0", "--format", "table"],
    ["demo"],
]


@pytest.mark.parametrize(("changes", "encoding"), ENCODINGS)
@pytest.mark.parametrize("args", SHOWING, ids=lambda args: " ".join(args[:3]))
def test_output_fits_the_streams_encoding(args, changes, encoding):
    """Every view prints in the encoding it is given (ASCII glyphs where it lacks Unicode)."""
    result = subprocess.run(
        [*PYTHON_M, *args],
        capture_output=True,
        cwd=ROOT,
        env=environment(COLUMNS="80", **changes),
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stderr == b""
    text = result.stdout.decode(encoding)  # strict: every byte is the encoding's
    assert "\\u" not in text and "\\x" not in text  # glyphs replaced, not escaped
    assert len(text.splitlines()) > 3


@pytest.mark.parametrize(("changes", "encoding"), ENCODINGS[:2])
def test_error_messages_fit_the_streams_encoding(changes, encoding):
    """An error message holding a Unicode glyph (±) reaches an ASCII stderr readably."""
    result = subprocess.run(
        [*PYTHON_M, "corr", "1,2,3", "1,2,3", "--padding", "5", "--normalize", "unbiased"],
        capture_output=True,
        cwd=ROOT,
        env=environment(**changes),
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    message = result.stderr.decode(encoding)
    assert message.startswith("Error: unbiased normalization")
    assert "lag +-2" in message or "lag ±2" in message
    assert len(message.splitlines()) == 1
