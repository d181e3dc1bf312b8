"""Time ``axes=``: a (1000, 10000) float64 signal correlated along axis 1 with a kernel per
row (and with one kernel for every row), against a loop over rows and scipy.signal.

Interleaved runs, medians in ms. Pin it to one core: ``taskset -c 1 python benchmarks/rows.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import scipy.signal

import convcli


def cases(rows: int, length: int, taps: int) -> dict[str, Callable[[], object]]:
    """The implementations timed, by name, on one set of inputs."""
    rng = np.random.default_rng(0)
    f, h = rng.standard_normal((rows, length)), rng.standard_normal((rows, taps))
    shared = h[:1]
    return {
        "convcli auto": lambda: convcli.correlate(f, h, axes=1),
        "convcli direct": lambda: convcli.correlate(f, h, axes=1, method="direct"),
        "convcli fft": lambda: convcli.correlate(f, h, axes=1, method="fft"),
        "loop of convcli": lambda: [convcli.correlate(r, k) for r, k in zip(f, h)],
        "loop of numpy.correlate": lambda: [np.correlate(r, k) for r, k in zip(f, h)],
        "scipy fftconvolve": lambda: scipy.signal.fftconvolve(f, h[:, ::-1], "valid", axes=1),
        "scipy oaconvolve": lambda: scipy.signal.oaconvolve(f, h[:, ::-1], "valid", axes=1),
        "shared: convcli auto": lambda: convcli.correlate(f, shared, axes=1),
        "shared: convcli direct": lambda: convcli.correlate(f, shared, axes=1, method="direct"),
        "shared: scipy fftconvolve": lambda: scipy.signal.fftconvolve(
            f, shared[:, ::-1], "valid", axes=1
        ),
        "shared: scipy oaconvolve": lambda: scipy.signal.oaconvolve(
            f, shared[:, ::-1], "valid", axes=1
        ),
    }


def main() -> None:
    """Print each implementation's median and least time over interleaved repeats."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--length", type=int, default=10000)
    parser.add_argument("--taps", type=int, default=31)
    parser.add_argument("--repeats", type=int, default=7)
    arguments = parser.parse_args()
    timed = cases(arguments.rows, arguments.length, arguments.taps)
    times: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(arguments.repeats):
        for name, run in timed.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    print(f"{arguments.rows} x {arguments.length}, {arguments.taps} taps: median (least) ms")
    for name, seconds in times.items():
        print(f"  {name:26s} {1e3 * statistics.median(seconds):8.1f} ({1e3 * min(seconds):.1f})")


if __name__ == "__main__":
    main()
