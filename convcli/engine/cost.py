"""The cost model ``method="auto"`` chooses by, and the memory a sum will hold.

Nanoseconds per unit of work come from :mod:`convcli.engine.calibration`, measured by
``benchmarks/calibrate.py``; the model prices each method's work and picks the cheaper.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from convcli.engine.calibration import (
    COMPILED_TAPS,
    NS_COMPILED_OUTPUT,
    NS_FFT_CALL,
    NS_PER_FFT_UNIT_1D,
    NS_PER_FFT_UNIT_ND,
    NS_PER_VECTOR_MAC,
    NS_PHASE_EXTRA,
    PHASE_SPLITS,
)
from convcli.engine.geometry import Geometry, compiled_1d, spans
from convcli.engine.numbers import working_dtype
from convcli.options import ChosenMethod


def compiled_cost(taps: int, kind: str) -> float:
    """Nanoseconds per output of numpy.convolve with ``taps`` taps, interpolated from the
    measured table and extended along its last slope."""
    costs = NS_COMPILED_OUTPUT[kind]
    if taps <= COMPILED_TAPS[-1]:
        return float(np.interp(taps, COMPILED_TAPS, costs))
    slope = (costs[-1] - costs[-2]) / (COMPILED_TAPS[-1] - COMPILED_TAPS[-2])
    return costs[-1] + slope * (taps - COMPILED_TAPS[-1])


def _direct_cost(geometry: Geometry, kernel_shape: tuple[int, ...], kind: str) -> float:
    """Nanoseconds per kept output of the direct sum for this geometry."""
    taps = math.prod(kernel_shape)
    if kind != "O" and len(kernel_shape) == 1 and compiled_1d(geometry):
        stride, dilation = geometry.stride[0], geometry.dilation[0]
        if stride == dilation == 1:
            return compiled_cost(taps, kind)
        # A stride splits the kernel and the signal into ``stride`` phases, each summed for
        # every kept output; a dilation splits the outputs into ``dilation`` phases.
        phases = max(stride, dilation)
        split = float(np.interp(phases, PHASE_SPLITS, NS_PHASE_EXTRA[kind]))
        return stride * (compiled_cost(-(-taps // stride), kind) + split)
    return taps * NS_PER_VECTOR_MAC[kind]


#: Sums this small take microseconds directly; an FFT costs more just to plan.
_ALWAYS_DIRECT_MACS = 4096


def choose_method(
    geometry: Geometry, kernel_shape: tuple[int, ...], kind: str = "f"
) -> ChosenMethod:
    """The method ``auto`` picks: the cheaper of ``direct`` and ``fft`` by a measured cost model.

    ``kind`` is the working dtype's kind (``i``, ``f``, ``c``; ``O`` for
    Python ints, which only the direct sum keeps exact). For a 1-D signal
    longer than ``fft.WHOLE_BLOCKS`` FFT blocks the choice depends on the kernel and options
    only, so a streamed signal gets the same method as a whole one.

    >>> from convcli.engine.geometry import plan
    >>> choose_method(plan((5,), (2,)), (2,))
    'direct'
    >>> choose_method(plan((10**6,), (10**4,)), (10**4,))
    'fft'
    """
    return _cheaper_method(geometry, tuple(kernel_shape), kind)


@lru_cache(maxsize=256)
def _cheaper_method(geometry: Geometry, kernel_shape: tuple[int, ...], kind: str) -> ChosenMethod:
    """choose_method's answer, remembered: a script calling convolve in a loop on inputs of
    one shape pays for the cost model once (it costs a good part of a short sum)."""
    taps = math.prod(kernel_shape)
    if kind == "O" or taps * math.prod(geometry.output_shape) < _ALWAYS_DIRECT_MACS:
        return "direct"
    from convcli.engine import fft

    direct_per_output = _direct_cost(geometry, kernel_shape, kind)
    extents = spans(kernel_shape, geometry.dilation)
    if len(extents) == 1 and fft.is_long(extents[0], geometry.padded_shape[0]):
        # per kept output, the same at every length (a stream agrees)
        blocks = fft.overlap_save_plan(extents[0])
        units = fft.transform_work(blocks.length) / blocks.step * geometry.stride[0]
        return "fft" if units * NS_PER_FFT_UNIT_1D[kind] < direct_per_output else "direct"
    fft_cost = _fft_cost(geometry, extents, kind)
    return "fft" if fft_cost < math.prod(geometry.output_shape) * direct_per_output else "direct"


#: The FFT's cost against the direct sum's for each axis past the second, over the 2-D
#: calibration: a 3-D transform's passes stride further through memory (measured 1.2 times
#: the 2-D cost per unit) while the direct sum shares its passes among more kernel cells
#: (0.8 times the 2-D cost per cell), on 128**3 with a 3**3 kernel (docs/performance.md).
_THIRD_AXIS = 1.5


def _fft_cost(geometry: Geometry, extents: tuple[int, ...], kind: str) -> float:
    """Nanoseconds of an FFT sum: its transforms' work and an FFT call's fixed cost."""
    from convcli.engine import fft

    if len(extents) == 1:
        padded, span = geometry.padded_shape[0], extents[0]
        blocks = fft.block_plan(span, padded)
        work = fft.plan_work(blocks, padded - span + 1) * NS_PER_FFT_UNIT_1D[kind]
    else:
        pads = fft.zero_pads(geometry)
        axes = fft.transform_lengths(geometry.padded_shape, extents, pads, kind != "c")
        size = math.prod(axis.length for axis in axes)
        strided = _THIRD_AXIS ** max(len(extents) - 2, 0)
        work = size * (math.log2(size) + 4) * NS_PER_FFT_UNIT_ND[kind] * strided
    return work + NS_FFT_CALL[kind]


def estimated_seconds(
    geometry: Geometry, kernel_shape: tuple[int, ...], kind: str, method: str
) -> float:
    """Seconds the cost model expects one sum by ``method`` to take (``auto``: by the
    method it picks), for a warning before a long run.

    >>> from convcli.engine.geometry import plan
    >>> long = estimated_seconds(plan((10**7,), (10**6,)), (10**6,), "f", "direct")
    >>> long > 60 > estimated_seconds(plan((10**7,), (10**6,)), (10**6,), "f", "auto")
    True
    """
    chosen = choose_method(geometry, kernel_shape, kind) if method == "auto" else method
    if chosen == "direct" or kind == "O":
        direct = _direct_cost(geometry, kernel_shape, kind)
        return math.prod(geometry.output_shape) * direct * 1e-9
    extents = spans(kernel_shape, geometry.dilation)
    return _fft_cost(geometry, extents, kind) * 1e-9


def memory_estimate(
    signal: np.ndarray,
    kernel: np.ndarray,
    geometry: Geometry,
    method: str = "auto",
    comparing: bool = False,
) -> int:
    """Bytes that :func:`compute` (or :func:`compare`, when ``comparing``) may hold at its
    peak besides the inputs: the padded signal, the results and the method's work arrays.

    An estimate made without allocating, so that a caller can refuse work larger
    than the machine before starting it. ``signal`` and ``kernel`` are as
    :func:`as_numeric` returns them.

    >>> from convcli.engine.geometry import plan
    >>> memory_estimate(np.ones(1000), np.ones(3), plan((1000,), (3,)), "direct")
    1083723
    """
    dtype = np.dtype(working_dtype(signal, kernel))
    kind = dtype.kind
    item = dtype.itemsize
    if kind == "O":  # a pointer and a Python int object of the result's size
        kernel_sum = sum(abs(int(v)) for v in kernel.flat)
        bits = _largest_bits(signal) + kernel_sum.bit_length()
        item = 8 + 28 + 4 * -(-bits // 30)
    padded = math.prod(geometry.padded_shape)
    outputs = math.prod(geometry.output_shape)
    chosen = choose_method(geometry, kernel.shape, kind) if method == "auto" else method
    total = padded * item + outputs * item  # the padded signal and the result
    if chosen == "direct" or kind == "O":
        total += 2 * outputs * item  # a product added into the result, or a phase's copy and sums
    else:
        from convcli.engine import fft

        extents = spans(kernel.shape, geometry.dilation)
        sums = math.prod(p - span + 1 for p, span in zip(geometry.padded_shape, extents))
        value = 16 if kind == "c" else 8
        total += (padded + sums) * (value + 1)  # float copy and finite mask; sums and suspects
        if kind == "i":
            total += sums * 8  # the sums rounded, before they become integers
        if len(extents) == 1:  # transforms of a few blocks at a time
            total += 6 * 16 * max(fft.overlap_save_plan(extents[0]).length, 1 << 18)
        else:  # spectra of the signal, the kernel and their product, and the inverse
            total += 4 * value * math.prod(fft.fast_length(p) for p in geometry.padded_shape)
    if comparing:  # the other result, two magnitudes for floats, and the equality masks
        total += outputs * (item + 2) + (3 * outputs * 8 + signal.size * 8 if kind in "fc" else 0)
    return total + total // 10 + (1 << 20)  # and numpy's and Python's own bookkeeping


def _largest_bits(values: np.ndarray) -> int:
    """Bits of the largest magnitude among integers (Python ints in object arrays too)."""
    return max(abs(int(values.max())).bit_length(), abs(int(values.min())).bit_length())
