"""Runs at the edges of the engine, as a shell runs them: values near float64's limits
(no library warning on stderr) and sums long enough to need Ctrl-C and a time estimate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON_M = [sys.executable, "-m", "convcli"]
TIMEOUT = 60


def environment(**changes: str) -> dict[str, str]:
    """The current environment without colour forcing or debugging, with some changes."""
    drop = ("FORCE_COLOR", "NO_COLOR", "CONVCLI_DEBUG", "PYTHONWARNINGS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(changes)
    return env


@pytest.mark.parametrize("method", ["auto", "fft", "direct"])
def test_huge_values_print_no_library_warning(tmp_path, method):
    """A signal with one value of 1e308 (its FFT overflowed, and numpy's RuntimeWarnings
    reached stderr under auto too): exit 0, and stderr holds at most convcli's own note."""
    rng = np.random.default_rng(4)
    signal = rng.normal(size=20_000)
    signal[40] = 1e308
    path = tmp_path / "signal.csv"
    path.write_text("\n".join(map(repr, signal.tolist())) + "\n")
    kernel = ",".join(repr(v) for v in rng.normal(size=300).tolist())
    result = subprocess.run(
        [*PYTHON_M, "conv", str(path), kernel, "--method", method, "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=environment(PYTHONWARNINGS="default"),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert len(result.stderr.splitlines()) <= 1, result.stderr
    values = np.array([float(line) for line in result.stdout.split()])
    with np.errstate(over="ignore", invalid="ignore"):
        expected = np.convolve(signal, np.array([float(v) for v in kernel.split(",")]), "valid")
    assert np.array_equal(np.isfinite(values), np.isfinite(expected))
