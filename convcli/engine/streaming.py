"""Convolution and correlation of a 1-D signal that arrives in pieces.

Numbers in, numbers out, like the engine: :class:`Stream` takes the signal a
block at a time and gives back each output as soon as every value in its
window has arrived, holding only a bounded window of the signal however long
it is. The outputs are the same bits the engine gives for the whole signal:
a signal short enough to buffer is handed to the engine whole, and a longer
one is cut on the engine's own block grid, with each output computed from the
same numbers in the same order.
"""

from __future__ import annotations

import numpy as np

from convcli.engine import core as engine
from convcli.engine import fft
from convcli.engine.cost import choose_method
from convcli.engine.direct import leave_out_padding, slide_direct
from convcli.engine.geometry import Geometry, pad_signal, per_axis, plan, span
from convcli.engine.memory import reuse_freed_memory
from convcli.engine.numbers import as_numeric, working_dtype
from convcli.errors import ConvcliError, OptionError
from convcli.options import OPERATIONS, Operation, Options, check_choice

__all__ = ["Stream"]

#: Padded values gathered before a batch of outputs is computed: 512 KB of float64, whose
#: CSV is formatted a block per processor (larger batches hold more memory, for no speed).
_BATCH = 1 << 16
_KIND_NAMES = {"i": "integers", "O": "integers", "f": "decimals", "c": "complex numbers"}


class Stream:
    """Feed a 1-D signal in blocks; get its convolution or correlation in blocks.

    The options mean what they mean for :func:`convcli.convolve`. Pad modes that
    need the far end of the signal before the first output (``circular`` padding
    before the signal, ``same`` padding with a stride, whose split depends on
    the length) are refused when the stream is made, as is ``axes=``: a stream has one
    axis. Constant padding (``pad_value``) is added at the two ends.

    >>> stream = Stream([1, -1], "convolution", Options(padding="full"))
    >>> stream.feed(np.array([2, 1, 3])), stream.feed(np.array([5, 4])), stream.finish()
    (array([], dtype=int64), array([], dtype=int64), array([ 2, -1,  2,  2, -1, -4]))
    """

    def __init__(
        self,
        kernel: object,
        operation: Operation,
        options: Options = Options(),
    ) -> None:
        self._kernel = as_numeric(kernel, "kernel")
        if self._kernel.ndim != 1:
            raise ConvcliError(f"Stream takes a 1-D kernel, got {self._kernel.ndim} dimensions")
        check_choice(operation, OPERATIONS, "operation")
        if options.axes is not None:
            raise OptionError(
                "Stream slides a 1-D kernel along its one axis; axes= does not apply "
                "(leave it out, or use convolve or correlate on the whole signal)"
            )
        self._operation = operation
        self._options = options
        self._geometry = self._long_geometry()
        self._span = span(len(self._kernel), self._geometry.dilation[0])
        self._before, self._after = self._geometry.pads[0]
        if options.pad_mode == "circular" and self._before > 0:
            raise OptionError(
                "Stream cannot pad circularly before the signal: that padding is the "
                "signal's end; pad after only (e.g. padding='0:2') or use convolve or "
                "correlate on the whole signal"
            )
        self._buffer_limit = max(
            fft.WHOLE_BLOCKS * fft.overlap_save_plan(self._span).length,
            4 * (self._before + self._after + self._span),
            _BATCH,
        )
        self._chunks: list[np.ndarray] = []  # fed, not yet in the pending window
        self._chunked = 0  # values in self._chunks once streaming
        self._fed = 0
        self._streaming = False
        self._head = np.empty(0)
        self._tail = np.empty(0)
        self._pending = np.empty(0)
        self._start = 0  # padded index of self._pending[0]
        self._signal_end: int | None = None  # padded index past the signal, once it ended
        self._next = 0  # next output (for fft: next stride-1 output) to give

    @property
    def held_values(self) -> int:
        """The most values the stream holds at once: the signal it gathers before streaming
        (at least four times the padding and the window), the padding, and one window."""
        return self._buffer_limit + self._before + self._after + self._span

    @property
    def least_outputs(self) -> int:
        """How many outputs a signal of one value already gives (the padding's outputs)."""
        stride = self._geometry.stride[0]
        return max((1 + self._before + self._after - self._span) // stride + 1, 0)

    def _long_geometry(self) -> Geometry:
        """The geometry for a signal too long to buffer (longer than one FFT block, so the
        method and blocks are a long signal's), checked to stream at all."""
        extent = span(len(self._kernel), per_axis(self._options.dilation, 1, "dilation")[0])
        length = (fft.WHOLE_BLOCKS + 1) * fft.overlap_save_plan(extent).length + 4 * extent
        geometry = plan((length,), self._kernel.shape, self._options)
        if geometry.padding == "same" and geometry.stride[0] > 1:
            raise OptionError(
                "Stream cannot use padding='same' with a stride: its split depends on the "
                "signal's length; give the padding as BEFORE:AFTER instead"
            )
        return geometry

    def feed(self, values: np.ndarray) -> np.ndarray:
        """Take the next block of the signal; return the outputs it completes."""
        if len(values) == 0:
            return self._empty()
        values = as_numeric(values, "signal")
        self._fed += len(values)
        if not self._streaming:
            self._chunks.append(values)
            if self._fed <= self._buffer_limit:
                return self._empty()
            self._begin(np.concatenate(self._chunks))
            self._chunks = []
            return self._advance(final=False)
        values = self._as_pending_kind(values)
        self._tail = np.concatenate([self._tail, values])[-(self._after + 1) :]
        self._chunks.append(values)
        self._chunked += len(values)
        if self._chunked < _BATCH:
            return self._empty()
        self._take_chunks()
        return self._advance(final=False)

    def finish(self) -> np.ndarray:
        """The signal has ended: return the remaining outputs."""
        if not self._streaming:
            signal = np.concatenate(self._chunks) if self._chunks else np.empty(0)
            return engine.compute(signal, self._kernel, self._operation, self._options).values
        self._signal_end = self._before + self._fed
        self._chunks.append(self._end_padding())
        self._take_chunks()
        return self._advance(final=True)

    def _as_pending_kind(self, values: np.ndarray) -> np.ndarray:
        """A block in the number type of the signal so far, as reading it whole would give.

        Integers after decimals become decimals (the whole column would be read
        as floats), real numbers after complex ones complex; decimals after integers cannot be, since outputs written as
        integers are already out, so they are refused.
        """
        had, has = self._pending.dtype.kind, values.dtype.kind
        if had == "f" and has in "iO":
            return values.astype(np.float64)
        if had == "c" and has in "fiO":  # complex so far (or a complex pad_value)
            return values.astype(np.complex128)
        if had != has and {had, has} != {"i", "O"}:
            raise ConvcliError(
                f"the signal changed from {_KIND_NAMES[had]} to {_KIND_NAMES[has]} after "
                f"{self._fed - len(values)} values; Stream needs one number type throughout "
                "(feed floats from the start, or use convolve or correlate on the whole signal)"
            )
        return values

    def _take_chunks(self) -> None:
        """Move the blocks fed since the last batch to the end of the pending window."""
        self._pending = np.concatenate([self._pending, *self._chunks])
        self._chunks, self._chunked = [], 0

    def _empty(self) -> np.ndarray:
        """No outputs yet, in the dtype outputs will have."""
        kinds = {self._kernel.dtype.kind, self._padding(0).dtype.kind}
        dtype = np.complex128 if "c" in kinds else np.float64 if "f" in kinds else np.int64
        return np.empty(0, dtype=dtype)

    def _padding(self, cells: int) -> np.ndarray:
        """``cells`` cells of zero or constant padding (int64 zeros for integers)."""
        if self._options.pad_mode == "constant":
            return np.full(cells, self._options.pad_value)
        return np.zeros(cells, dtype=np.int64)

    def _begin(self, head: np.ndarray) -> None:
        """Switch to streaming: pad the start, choose the method, keep what the end needs."""
        self._streaming = True
        reuse_freed_memory()  # the stream holds long blocks: keep their memory between them
        self._head = head[: self._after + 1]
        self._tail = head[-(self._after + 1) :]
        pad_mode = self._options.pad_mode
        if pad_mode in ("zeros", "constant"):
            before = self._padding(self._before)
            head = head.astype(np.result_type(head, before), copy=False)
        else:
            before = pad_signal(head[: self._before + 1], ((self._before, 0),), pad_mode)
            before = before[: self._before]
        self._pending = np.concatenate([before, head])
        kind = np.dtype(working_dtype(self._pending, self._kernel)).kind
        if self._options.method == "auto":
            self._chosen = choose_method(self._geometry, self._kernel.shape, kind)
        else:
            self._chosen = self._options.method
        self._weights = engine.oriented_kernel(self._kernel, self._operation)

    def _end_padding(self) -> np.ndarray:
        """The padding after the signal, as numpy.pad makes it from the signal's ends."""
        pad_mode = self._options.pad_mode
        if self._after == 0:
            return np.empty(0, dtype=self._tail.dtype)
        if pad_mode in ("zeros", "constant"):
            return self._padding(self._after).astype(self._pending.dtype)
        if pad_mode == "circular":
            return self._head[: self._after]
        return pad_signal(self._tail, ((0, self._after),), pad_mode)[-self._after :]

    def _advance(self, final: bool) -> np.ndarray:
        """Compute every output whose window has fully arrived (all of them when ``final``)."""
        if self._chosen == "fft":
            return self._advance_fft(final)
        return self._advance_direct()

    def _advance_direct(self) -> np.ndarray:
        """Direct sums for every output whose window is pending; drop what no output needs."""
        stride, dilation = self._geometry.stride[0], self._geometry.dilation[0]
        end = self._start + len(self._pending)
        last = (end - self._span) // stride  # last output whose window has arrived
        if last < self._next:
            return self._empty()
        first_cell = self._next * stride - self._start
        segment = self._pending[first_cell : (last * stride - self._start) + self._span]
        outputs = self._slide_direct(segment, stride, dilation)
        self._leave_out_padding(outputs, segment, self._next * stride, stride, dilation)
        self._next = last + 1
        self._drop_before(self._next * stride)
        return outputs

    def _slide_direct(self, segment: np.ndarray, stride: int, dilation: int) -> np.ndarray:
        """The engine's direct sum over one segment, in the dtype the engine would use."""
        dtype = working_dtype(segment, self._kernel)
        sliding = Options(stride=(stride,), dilation=(dilation,))
        geometry = plan(segment.shape, self._kernel.shape, sliding)
        return slide_direct(segment.astype(dtype), self._weights.astype(dtype), geometry)

    def _advance_fft(self, final: bool) -> np.ndarray:
        """Whole FFT blocks on the engine's grid (the last, partial one when ``final``)."""
        blocks = fft.overlap_save_plan(self._span)
        stride, dilation = self._geometry.stride[0], self._geometry.dilation[0]
        end = self._start + len(self._pending)
        first_block = self._next // blocks.step
        if final:
            stop = end
            if stop - first_block * blocks.step < self._span:
                return self._empty()
        else:
            whole_blocks = (end - blocks.length) // blocks.step + 1 - first_block
            if whole_blocks <= 0:
                return self._empty()
            stop = (first_block + whole_blocks - 1) * blocks.step + blocks.length
        first = first_block * blocks.step
        segment = self._pending[first - self._start : stop - self._start]
        skip = (-first) % stride  # the first stride-1 output in the segment that is kept
        dtype = working_dtype(segment, self._kernel)
        self._next = first + len(segment) - self._span + 1
        self._drop_before(self._next)
        if dtype is object:  # integers too large for int64: the exact direct sum
            kept = segment[skip:]
            return (
                self._slide_direct(kept, stride, dilation)
                if len(kept) >= self._span
                else self._empty()
            )
        sums = fft.sliding_sums(
            segment.astype(dtype),
            self._weights.astype(dtype),
            (dilation,),
            guard=self._options.method == "auto",
            blocks=blocks,
        )
        self._leave_out_padding(sums, segment, first, 1, dilation)
        return sums[skip::stride]

    def _leave_out_padding(
        self, values: np.ndarray, segment: np.ndarray, first: int, stride: int, dilation: int
    ) -> None:
        """leave_out_padding on the outputs of ``segment``, which starts at padded
        index ``first``: the engine's sums where a nan or inf tap meets zero padding."""
        stop = len(segment) if self._signal_end is None else self._signal_end - first
        start = self._before - first
        if self._options.pad_mode != "zeros" or values.dtype.kind not in "fc":
            return
        if start <= 0 and stop >= len(segment):
            return
        sliding = Options(stride=(stride,), dilation=(dilation,))
        geometry = plan(segment.shape, self._kernel.shape, sliding)
        padded, weights = segment.astype(values.dtype), self._weights.astype(values.dtype)
        leave_out_padding(values, padded, weights, geometry, ((start, stop),))

    def _drop_before(self, position: int) -> None:
        """Forget pending values before padded index ``position``."""
        drop = max(0, min(position - self._start, len(self._pending)))
        self._pending = self._pending[drop:].copy()
        self._start += drop
