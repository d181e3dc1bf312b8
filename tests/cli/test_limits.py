"""Tests for convcli.cli.limits, refusing work larger than the machine: the memory the
machine reports, the estimate of what writing a result holds (checked against what is
really allocated, as tracemalloc counts it), and the one-line refusal. Nothing large is
ever allocated: the available memory is injected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convcli.cli import limits, outputs
from convcli.engine import core as engine
from convcli.errors import ConvcliError
from convcli.formats import serialise
from convcli.options import Options
from tests.examples import allocated_peak

MEMINFO = "MemTotal:       32000000 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n"


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_available_memory_reads_memavailable(tmp_path):
    meminfo = write(tmp_path / "meminfo", MEMINFO)
    assert limits.available_memory(meminfo, str(tmp_path / "none")) == 20_000_000 * 1024


@pytest.mark.parametrize(
    ("cgroup", "files", "expected"),
    [
        (
            "0::/box\n",
            {"box/memory.max": "3000000000\n", "box/memory.current": "1000000000\n"},
            2e9,
        ),
        ("0::/box\n", {"box/memory.max": "max\n", "box/memory.current": "5\n"}, None),
        (
            "4:memory:/job\n1:cpu:/\n",
            {
                "memory/job/memory.limit_in_bytes": "1000000000\n",
                "memory/job/memory.usage_in_bytes": "400000000\n",
            },
            6e8,
        ),
        (
            "4:memory:/\n",
            {
                "memory/memory.limit_in_bytes": "9223372036854771712\n",
                "memory/memory.usage_in_bytes": "1\n",
            },
            None,
        ),
        ("0::/gone\n", {}, None),
    ],
    ids=["v2 limit", "v2 unlimited", "v1 limit", "v1 unlimited", "no files"],
)
def test_a_cgroup_limit_lowers_what_is_available(tmp_path, cgroup, files, expected):
    meminfo = write(tmp_path / "meminfo", MEMINFO)
    cgroups = write(tmp_path / "cgroup", cgroup)
    for name, text in files.items():
        write(tmp_path / "fs" / name, text)
    available = limits.available_memory(meminfo, cgroups, str(tmp_path / "fs"))
    assert available == (20_000_000 * 1024 if expected is None else int(expected))


def test_unreadable_meminfo_falls_back_to_sysconf(tmp_path):
    available = limits.available_memory(str(tmp_path / "none"), str(tmp_path / "none"))
    assert available is None or available > 0


def test_the_real_machine_reports_something():
    available = limits.available_memory()
    assert available is None or 10**6 < available < 10**15


def test_output_bytes():
    assert limits.output_bytes("csv", 10**9, "f") == limits.output_bytes("csv", 10**7, "f")
    assert limits.output_bytes("csv", 10, "c") > limits.output_bytes("csv", 10, "f")
    assert limits.output_bytes("json", 10**6, "f") > 10**6 * 8
    assert limits.output_bytes("table", 10**9, "f") == 0
    assert limits.output_bytes("table", 10, "f", show_all=True) > 0


WRITERS = {
    False: {
        "csv": lambda result: serialise.result_csv_pieces(result.values),
        "json": serialise.result_json,
        "npy": lambda result: serialise.result_npy(result.values),
    },
    True: {
        "csv": serialise.comparison_csv,
        "json": serialise.comparison_json,
        "npy": serialise.comparison_npy,
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("output_format", ["csv", "json", "npy"])
@pytest.mark.parametrize("comparing", [False, True], ids=["conv", "compare"])
@pytest.mark.parametrize("dtype", [np.int64, np.float64, np.complex128])
def test_output_estimate_covers_what_writing_allocates(tmp_path, output_format, comparing, dtype):
    # past io's CSV pieces where they matter; small where Python numbers make it slow
    size = 300_000 if output_format != "json" and not comparing else 20_000
    signal = (np.random.default_rng(0).standard_normal(size) * 1000).astype(dtype)
    kernel = np.array([1, -1], dtype=dtype)
    if comparing:
        result = engine.compare(signal, kernel)
        values = 2 * result.convolution.size + signal.size + kernel.size
    else:
        result = engine.compute(signal, kernel, "convolution")
        values = result.values.size
    target = str(tmp_path / f"out.{output_format}")
    write = WRITERS[comparing][output_format]
    peak = allocated_peak(lambda: outputs.write_text(write(result), target))
    kind = np.dtype(dtype).kind
    estimate = limits.output_bytes(output_format, values, kind)
    assert peak <= estimate, (peak, estimate)


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 bytes"), (999, "999 bytes"), (1000, "1 kB"), (1_500_000, "1.5 MB"), (2e13, "20 TB")],
)
def test_human_bytes(size, text):
    assert limits.human_bytes(int(size)) == text


def test_check_memory_refuses_a_2d_full_of_two_large_matrices():
    matrix = np.broadcast_to(1.0, (20_000, 20_000))  # no memory behind it
    with pytest.raises(ConvcliError) as caught:
        limits.check_memory(matrix, matrix, Options(padding="full"), "csv", available=16 * 10**9)
    message = str(caught.value)
    assert message.startswith("the 39999x39999 result needs about ")
    assert "16 GB is available" in message
    assert "--stream" in message and "--padding" in message
    # the same inputs fit with valid padding, a 1x1 result
    limits.check_memory(matrix, matrix, Options(), "csv", available=16 * 10**9)


def test_check_memory_asks_the_machine_only_for_large_work(monkeypatch):
    asked = []
    monkeypatch.setattr(limits, "available_memory", lambda: asked.append(1) or 10**6)
    limits.check_memory(np.ones(1000), np.ones(3), Options(), "csv")
    assert asked == []
    with pytest.raises(ConvcliError, match="1 MB is available"):
        limits.check_memory(np.ones(3 * 10**6), np.ones(3), Options(), "csv")
    assert asked == [1]


def test_check_memory_passes_when_the_machine_does_not_say(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: None)
    limits.check_memory(np.ones(10**6), np.ones(3), Options(method="direct"), "json")


def test_check_memory_keeps_the_engine_errors():
    with pytest.raises(ConvcliError, match="kernel spans"):
        limits.check_memory(np.ones(3), np.ones(5), Options(), "csv")


def test_check_memory_bounds_another_convention_by_the_full_overlap():
    """Another library's rules may swap a longer kernel in and pad it fully: checked as the
    full overlap, which is refused here, where convcli's own rules refuse the kernel."""
    short, long = np.ones(2), np.broadcast_to(1.0, (10**8,))
    with pytest.raises(ConvcliError, match=r"the 100000001 result needs about"):
        limits.check_memory(short, long, Options(convention="numpy"), "csv", available=10**9)
    with pytest.raises(ConvcliError, match="kernel spans"):
        limits.check_memory(short, long, Options(), "csv", available=10**9)


@pytest.mark.parametrize("kernel_rows", [1, 200])
def test_memory_estimate_with_axes_covers_the_peak(kernel_rows):
    """axes=: a kernel row per signal row is priced as one row slides (its taps are not
    the whole kernel's), and the estimate still covers what the run allocates."""
    from convcli.engine.cost import memory_estimate
    from convcli.engine.geometry import plan

    rng = np.random.default_rng(4)
    f, h = rng.standard_normal((200, 3000)), rng.standard_normal((kernel_rows, 31))
    options = Options.parse(axes=1, padding="same")
    geometry = plan(f.shape, h.shape, options)
    estimate = memory_estimate(f, h, geometry, "direct")
    peak = allocated_peak(lambda: engine.compute(f, h, "correlation", options))
    assert peak <= estimate < 4 * peak + (2 << 20)
    limits.check_memory(f, h, options, "npy", available=estimate + (64 << 20))
