"""Measure the constants of convcli's method cost model on this machine.

Run ``python benchmarks/calibrate.py`` and copy the dictionaries it
prints into ``convcli/engine.py``. Each constant is the least of several runs
of one representative case per dtype kind, with malloc keeping freed memory as
``engine.compute`` has it do for large work:

* compiled output: numpy.convolve, 1-D, per output at several kernel lengths;
* phase extra: what a stride or dilation adds per output by splitting the 1-D sum
  into phases, at dilations 2 and 8;
* vector MAC: one vectorised multiply-add pass, 2-D, per output and kernel cell;
* FFT units: the FFT method (with auto's accuracy guard), per unit of transform
  work (``fft.transform_work`` for 1-D overlap-save blocks, ``n (log2 n + 4)`` for
  2-D whole transforms);
* FFT call: the FFT method on a tiny signal, the fixed cost of a call, which decides
  short signals.

It then prints, for a few kernel sizes, the signal length where ``auto``
switches from direct to FFT, which the README quotes.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from convcli.engine import fft
from convcli.engine.calibration import COMPILED_TAPS, PHASE_SPLITS
from convcli.engine.cost import choose_method
from convcli.engine.direct import slide_direct
from convcli.engine.geometry import plan
from convcli.engine.memory import reuse_freed_memory
from convcli.options import Options

KINDS = {"i": np.int64, "f": np.float64, "c": np.complex128}


def least_seconds(run: Callable[[], object], repeats: int = 7) -> float:
    """Least wall time of ``run`` after one warm-up call: other work on the machine
    only ever adds time, so the least is the steadiest estimate of the cost."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def sample(shape: tuple[int, ...], kind: str, rng: np.random.Generator) -> np.ndarray:
    """Random test values of one dtype kind (small integers for ``i``)."""
    if kind == "i":
        return rng.integers(-100, 100, shape)
    values = rng.standard_normal(shape)
    return values + 1j * rng.standard_normal(shape) if kind == "c" else values


def compiled_output(kind: str, rng: np.random.Generator) -> tuple[float, ...]:
    """Nanoseconds per output of the 1-D compiled direct sum, at each of COMPILED_TAPS."""
    signal = sample((200_000,), kind, rng)
    costs = []
    for taps in COMPILED_TAPS:
        kernel = sample((taps,), kind, rng)
        geometry = plan(signal.shape, kernel.shape)
        seconds = least_seconds(partial(slide_direct, signal, kernel, geometry))
        costs.append(round(seconds * 1e9 / geometry.output_shape[0], 3))
    return tuple(costs)


def phase_extra(kind: str, rng: np.random.Generator) -> tuple[float, ...]:
    """Nanoseconds per output that splitting a 1-D sum into phases adds (strided copies in,
    strided writes out), at each of PHASE_SPLITS dilations."""
    signal, kernel = sample((1_000_000,), kind, rng), sample((16,), kind, rng)
    extras = []
    for dilation in PHASE_SPLITS:
        per_output = []
        for step in (1, dilation):
            geometry = plan(signal.shape, kernel.shape, Options.parse(dilation=step))
            seconds = least_seconds(partial(slide_direct, signal, kernel, geometry))
            per_output.append(seconds * 1e9 / geometry.output_shape[0])
        extras.append(round(max(per_output[1] - per_output[0], 0.0), 3))
    return tuple(extras)


def vector_mac(kind: str, rng: np.random.Generator) -> float:
    """Nanoseconds per output and kernel cell of the vectorised direct sum (2-D)."""
    signal, kernel = sample((1000, 1000), kind, rng), sample((3, 3), kind, rng)
    geometry = plan(signal.shape, kernel.shape)
    seconds = least_seconds(lambda: slide_direct(signal, kernel, geometry))
    return round(seconds * 1e9 / (math.prod(geometry.output_shape) * kernel.size), 3)


def fft_unit_1d(kind: str, rng: np.random.Generator) -> float:
    """Nanoseconds per unit of ``fft.transform_work`` in 1-D overlap-save (with auto's guard),
    averaged over a short and a long kernel."""
    per_unit = []
    signal = sample((1_000_000,), kind, rng)
    for taps in (31, 1000):
        kernel = sample((taps,), kind, rng)
        blocks = fft.block_plan(taps, signal.size)
        outputs = signal.size - taps + 1
        units = outputs * fft.transform_work(blocks.length) / blocks.step
        seconds = least_seconds(partial(fft.slide_fft, signal, kernel, (1,), (1,), guard=True))
        per_unit.append(seconds * 1e9 / units)
    return round(statistics.mean(per_unit), 3)


def fft_call(kind: str, rng: np.random.Generator) -> float:
    """Nanoseconds of an FFT sum (with auto's guard) on a signal of 64 values: what a call
    costs besides its transforms' work (set-up, the calls into numpy, the guard's checks)."""
    signal, kernel = sample((64,), kind, rng), sample((3,), kind, rng)
    seconds = least_seconds(partial(fft.slide_fft, signal, kernel, (1,), (1,), guard=True))
    return round(seconds * 1e9, 1)


def fft_unit_nd(kind: str, rng: np.random.Generator) -> float:
    """Nanoseconds per ``n (log2 n + 4)`` of one 2-D transform pair (with auto's guard)."""
    signal, kernel = sample((1000, 1000), kind, rng), sample((15, 15), kind, rng)
    size = math.prod(fft.fast_length(n) for n in signal.shape)
    seconds = least_seconds(lambda: fft.slide_fft(signal, kernel, (1, 1), (1, 1), guard=True))
    return round(seconds * 1e9 / (size * (math.log2(size) + 4)), 3)


def crossover(kernel_size: int, ndim: int) -> str:
    """The smallest signal side (powers of two) where auto picks the FFT for this kernel side."""
    for exponent in range(4, 25 if ndim == 1 else 13):
        side = 1 << exponent
        if side < kernel_size:
            continue
        geometry = plan((side,) * ndim, (kernel_size,) * ndim)
        if choose_method(geometry, (kernel_size,) * ndim, "f") == "fft":
            return str(side)
    return "never"


def main() -> None:
    """Print the constants, then the crossovers they give."""
    reuse_freed_memory()  # as compute() does before large work
    rng = np.random.default_rng(0)
    for name, measure in (
        ("NS_COMPILED_OUTPUT", compiled_output),
        ("NS_PHASE_EXTRA", phase_extra),
        ("NS_PER_VECTOR_MAC", vector_mac),
        ("NS_PER_FFT_UNIT_1D", fft_unit_1d),
        ("NS_PER_FFT_UNIT_ND", fft_unit_nd),
        ("NS_FFT_CALL", fft_call),
    ):
        constants = {kind: measure(kind, rng) for kind in KINDS}
        print(f"{name} = {constants}")
    print("\nauto switches to the FFT (float64, valid, stride 1) at signal side >=")
    for kernel_size in (3, 8, 16, 32, 64, 128, 1000):
        print(
            f"  kernel {kernel_size:>5}: 1-D {crossover(kernel_size, 1):>8}   2-D {crossover(kernel_size, 2):>6}"
        )


if __name__ == "__main__":
    main()
