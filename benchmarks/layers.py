"""CNN layers in benchmarks/run.py: ``convcli.layer`` against PyTorch's float64 layer.

Each case runs in a fresh process whose every thread is pinned to one core, with torch
on one thread and BLAS on one thread, so both sides have the same machine: interleaved
rounds of one sample of convcli (float64), torch float64 and torch float32 (for context),
medians. Peak memory is measured in another fresh process per implementation: the rise
of the peak resident set size during one call (VmHWM, reset after the data is made), so
it counts the output and every work buffer (torch's im2col columns, convcli's pieces).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261207
IMPLEMENTATIONS = ("convcli", "torch64", "torch32")


@dataclass(frozen=True)
class LayerCase:
    """One layer: input and weight shapes, stride, padding, groups, transposed."""

    name: str
    input_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]
    stride: int = 1
    padding: int = 0
    groups: int = 1
    transposed: bool = False


#: The issue's rows: a ResNet block (stride 1 and 2), a first layer, a depthwise layer
#: and a decoder's upsampling.
LAYER_CASES = (
    LayerCase("N=8 64->64 56x56 3x3 s1", (8, 64, 56, 56), (64, 64, 3, 3), 1, 1),
    LayerCase("N=8 64->64 56x56 3x3 s2", (8, 64, 56, 56), (64, 64, 3, 3), 2, 1),
    LayerCase("N=1 3->64 224x224 7x7 s2", (1, 3, 224, 224), (64, 3, 7, 7), 2, 3),
    LayerCase("depthwise 32x112x112 3x3", (1, 32, 112, 112), (32, 1, 3, 3), 1, 1, 32),
    LayerCase("transposed 64x28x28 4x4 s2", (1, 64, 28, 28), (64, 64, 4, 4), 2, 1, 1, True),
)
QUICK_CASES = (
    LayerCase("N=2 16->16 28x28 3x3 s1", (2, 16, 28, 28), (16, 16, 3, 3), 1, 1),
    LayerCase("depthwise 8x28x28 3x3", (1, 8, 28, 28), (8, 1, 3, 3), 1, 1, 8),
    LayerCase("transposed 16x14x14 4x4 s2", (1, 16, 14, 14), (16, 16, 4, 4), 2, 1, 1, True),
)


def pin_to_one_core() -> int | None:
    """Pin every thread of this process to the last core it may use; the core, or None."""
    try:
        core = max(os.sched_getaffinity(0))
        for thread in os.listdir("/proc/self/task"):
            os.sched_setaffinity(int(thread), {core})
    except (AttributeError, OSError):
        return None
    return core


def calls(case: LayerCase) -> dict[str, Callable[[], Any]]:
    """The three implementations of one case, on the same random data."""
    import torch
    import torch.nn.functional as F

    from convcli import layer

    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    x, w = rng.standard_normal(case.input_shape), rng.standard_normal(case.weight_shape)
    x64, w64 = torch.from_numpy(x), torch.from_numpy(w)
    x32, w32 = x64.float(), w64.float()
    keywords = {"stride": case.stride, "padding": case.padding, "groups": case.groups}
    function = F.conv_transpose2d if case.transposed else F.conv2d
    return {
        "convcli": lambda: layer(x, w, transposed=case.transposed, **keywords),
        "torch64": lambda: function(x64, w64, **keywords),
        "torch32": lambda: function(x32, w32, **keywords),
    }


def timing_worker(case: LayerCase, repeats: int, budget: float) -> dict[str, Any]:
    """Interleaved medians of the three implementations, pinned; and whether they agree."""
    implementations = calls(case)
    core = pin_to_one_core()
    ours = implementations["convcli"]()
    theirs = implementations["torch64"]().numpy()
    agree = bool(np.allclose(ours, theirs, rtol=1e-10, atol=1e-10))
    for call in implementations.values():
        call()
    times: dict[str, list[float]] = {name: [] for name in implementations}
    stop = time.perf_counter() + budget
    for _ in range(repeats):
        for name, call in implementations.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
        if time.perf_counter() > stop and len(times["convcli"]) >= 3:
            break
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {"pinned": core is not None, "seconds": medians, "agree": agree}


def memory_worker(case: LayerCase, implementation: str) -> dict[str, Any]:
    """The rise of this process's peak RSS during one call of one implementation."""
    from run import peak_rss, reset_peak_rss

    call = calls(case)[implementation]
    pin_to_one_core()
    reset_peak_rss()
    before = peak_rss()
    call()
    return {"peak": peak_rss() - before}


@dataclass
class LayerRow:
    case: str
    seconds: dict[str, float]
    peaks: dict[str, int]
    agree: bool
    pinned: bool
    error: str | None = None

    def ratio(self, reference: str) -> float | None:
        """convcli's time over the reference's."""
        if self.error or reference not in self.seconds:
            return None
        return self.seconds["convcli"] / self.seconds[reference]


def ask(arguments: list[str], timeout: float) -> dict[str, Any]:
    """Run ``run.py --layer-worker ...`` and return its JSON answer."""
    command = [
        sys.executable,
        str(Path(__file__).with_name("run.py")),
        "--layer-worker",
        *arguments,
    ]
    environment = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=environment, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker_main(arguments: list[str]) -> None:
    """The entry point of a layer worker: ``time INDEX QUICK REPEATS BUDGET`` or
    ``memory INDEX QUICK IMPLEMENTATION``."""
    sys.path.insert(0, str(ROOT))
    kind, index, quick = arguments[0], int(arguments[1]), arguments[2] == "1"
    case = (QUICK_CASES if quick else LAYER_CASES)[index]
    if kind == "time":
        answer = timing_worker(case, int(arguments[3]), float(arguments[4]))
    else:
        answer = memory_worker(case, arguments[3])
    print(json.dumps(answer))


def run_layers(
    quick: bool,
    repeats: int,
    budget: float,
    selected: Callable[[str], bool],
    progress: Callable[[str], None],
) -> list[LayerRow]:
    """Every layer case: the timing worker, then one memory worker per implementation."""
    rows = []
    cases = QUICK_CASES if quick else LAYER_CASES
    for index, case in enumerate(cases):
        name = f"layer {case.name}"
        if not selected(name):
            continue
        progress(name)
        flag = "1" if quick else "0"
        try:
            timing = ask(["time", str(index), flag, str(repeats), str(budget)], timeout=600)
            peaks = {
                impl: ask(["memory", str(index), flag, impl], timeout=300)["peak"]
                for impl in IMPLEMENTATIONS
            }
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            rows.append(LayerRow(case.name, {}, {}, False, False, str(error)))
            continue
        rows.append(
            LayerRow(case.name, timing["seconds"], peaks, timing["agree"], timing["pinned"])
        )
    return rows


def layer_section(rows: list[LayerRow], seconds_text: Callable[[float], str]) -> str:
    """The layer table: times, convcli over torch float64 and float32, peak memory."""
    lines = [
        "Layers (one core, interleaved medians; torch on one thread; peak memory of one call, MB):",
        "",
        "| layer | convcli | torch f64 | torch f32 | vs f64 | vs f32 | peak MB convcli | peak MB torch f64 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if row.error:
            lines.append(f"| {row.case} | error: {row.error} | | | | | | |")
            continue
        mark = "" if row.agree else " !"
        lines.append(
            f"| {row.case} | {seconds_text(row.seconds['convcli'])}{mark} "
            f"| {seconds_text(row.seconds['torch64'])} | {seconds_text(row.seconds['torch32'])} "
            f"| {row.ratio('torch64'):.2f}x | {row.ratio('torch32'):.2f}x "
            f"| {row.peaks['convcli'] / 1e6:.1f} | {row.peaks['torch64'] / 1e6:.1f} |"
        )
    return "\n".join(lines)


def layer_measures(rows: list[LayerRow]) -> tuple[float | None, float | None, str]:
    """The worst time ratio against torch float64, the worst memory ratio, and a detail."""
    measured = [row for row in rows if not row.error and row.agree]
    if not measured:
        return None, None, "no layer case measured in this run"
    worst_time = max(measured, key=lambda row: row.ratio("torch64") or 0.0)
    worst_peak = max(measured, key=lambda row: row.peaks["convcli"] / max(row.peaks["torch64"], 1))
    detail = (
        f"worst time {worst_time.ratio('torch64'):.2f}x at {worst_time.case}; worst memory "
        f"{worst_peak.peaks['convcli'] / max(worst_peak.peaks['torch64'], 1):.2f}x at {worst_peak.case}"
    )
    return (
        worst_time.ratio("torch64"),
        worst_peak.peaks["convcli"] / max(worst_peak.peaks["torch64"], 1),
        detail,
    )
