"""Tests for convcli.render.progress: the progress bar of a long read."""

from __future__ import annotations

import pytest

from convcli.render.progress import byte_progress, count_progress


@pytest.mark.parametrize(("seconds", "shown"), [(0.1, False), (2.0, True)])
def test_progress_bar_appears_only_for_long_runs(
    seconds: float, shown: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich treats stderr as a terminal
    ticks = iter([0.0, seconds, seconds])
    with byte_progress("signal.csv", 1000, clock=lambda: next(ticks)) as advance_to:
        advance_to(500)
    drawn = capsys.readouterr().err
    assert ("signal.csv" in drawn) is shown
    assert ("0.5/1.0 kB" in drawn) is shown  # bytes read of the total


@pytest.mark.parametrize(("seconds", "shown"), [(0.1, False), (2.0, True)])
def test_count_bar_shows_the_frames_drawn_of_all(
    seconds: float, shown: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    ticks = iter([0.0, seconds, seconds])
    with count_progress("drawing frames", 120, clock=lambda: next(ticks)) as advance_to:
        advance_to(30)
    drawn = capsys.readouterr().err
    assert ("drawing frames" in drawn) is shown
    assert ("30/120" in drawn) is shown
