"""Tests for convcli.engine.streaming.Stream: a 1-D signal fed in blocks of any size
gives exactly the engine's result for the whole signal (the same dtype kind and,
for floats, the same bits), for short signals (handled whole) and long ones
(streamed past the internal buffer), every padding form, pad mode, stride,
dilation and method; and the options and inputs a stream refuses."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from convcli import ConvcliError
from convcli.engine import core as engine
from convcli.engine.streaming import Stream
from convcli.options import METHODS, Options

#: The stream handles at least this many values whole before it starts streaming.
BUFFER_AT_LEAST = 2**18
STREAMABLE_PAD_MODES = ("zeros", "reflect", "symmetric", "replicate", "circular")


# --------------------------------------------------------------------------- helpers


@dataclass
class Streamed:
    """What a stream gave: the outputs of each feed() and of finish(), joined."""

    fed: list[np.ndarray]
    finished: np.ndarray

    @property
    def values(self) -> np.ndarray:
        """Every output in order, as one array."""
        return np.concatenate([*self.fed, self.finished])

    @property
    def before_finish(self) -> int:
        """How many outputs were given before the signal ended."""
        return sum(len(block) for block in self.fed)


def run_stream(signal: np.ndarray, kernel: object, sizes: list[int], options: dict) -> Streamed:
    """Feed ``signal`` in blocks of ``sizes`` (cycled; 0 is an empty block), then finish."""
    if not any(sizes):
        sizes = [*sizes, 1]  # only empty blocks would never end
    stream = stream_of(kernel, options)
    fed = []
    start, turn = 0, 0
    while start < len(signal):
        size = sizes[turn % len(sizes)]
        fed.append(stream.feed(signal[start : start + size]))
        start += size
        turn += 1
    return Streamed(fed, stream.finish())


def stream_of(kernel: object, options: dict) -> Stream:
    """A Stream for ``options``: an operation and the Options keywords."""
    options = dict(options)
    operation = options.pop("operation")
    return Stream(kernel, operation, Options.parse(**options))


def whole(signal: np.ndarray, kernel: object, options: dict) -> np.ndarray:
    """engine.compute on the whole signal with the stream's options."""
    options = dict(options)
    operation = options.pop("operation")
    return engine.compute(signal, kernel, operation, Options.parse(**options)).values


def assert_identical(actual: np.ndarray, expected: np.ndarray) -> None:
    """Same shape and dtype kind; integers equal as Python ints; floats the same bits."""
    assert actual.shape == expected.shape
    assert actual.dtype.kind == expected.dtype.kind, (actual.dtype, expected.dtype)
    if expected.dtype.kind in "iO":
        if actual.dtype.kind == "O":
            assert all(type(v) is int for v in actual.flat)
        assert [int(v) for v in actual.flat] == [int(v) for v in expected.flat]
        return
    assert actual.dtype == expected.dtype
    bits = np.uint64
    a, b = np.ascontiguousarray(actual).view(bits), np.ascontiguousarray(expected).view(bits)
    differ = np.flatnonzero(a != b)
    assert differ.size == 0, (
        f"{differ.size} outputs differ in their bits, first at {differ[:5].tolist()}: "
        f"stream {actual.reshape(-1)[differ[:5]]}, engine {expected.reshape(-1)[differ[:5]]}"
    )


# --------------------------------------------------------------------------- short signals


@st.composite
def stream_options(draw) -> dict:
    """Options a stream accepts: no circular padding before the signal, no same + stride."""
    pad_mode = draw(st.sampled_from(STREAMABLE_PAD_MODES))
    stride = draw(st.integers(1, 3))
    forms = ["valid", "explicit"]
    if pad_mode != "circular":
        forms += ["full"] + (["same"] if stride == 1 else [])
    form = draw(st.sampled_from(forms))
    if form == "explicit":
        before = 0 if pad_mode == "circular" else draw(st.integers(0, 5))
        padding = f"{before}:{draw(st.integers(0, 5))}"
    else:
        padding = form
    return {
        "operation": draw(st.sampled_from(["convolution", "correlation"])),
        "padding": padding,
        "stride": stride,
        "dilation": draw(st.integers(1, 3)),
        "pad_mode": pad_mode,
        "method": draw(st.sampled_from(METHODS)),
    }


FLOATS = st.floats(-100, 100, allow_nan=False, allow_infinity=False) | st.sampled_from(
    [np.nan, np.inf, -np.inf, 0.0]
)


@pytest.mark.slow
@given(st.data())
def test_short_signals_in_any_blocks_match_the_engine(data: st.DataObject):
    n = data.draw(st.integers(1, 40), label="n")
    kind = data.draw(st.sampled_from(["int", "float"]), label="kind")
    values = st.integers(-50, 50) if kind == "int" else FLOATS
    signal = np.array(data.draw(st.lists(values, min_size=n, max_size=n)))
    signal = signal.astype(np.int64 if kind == "int" else np.float64)
    k = data.draw(st.integers(1, 5), label="k")
    kernel_values = st.integers(-5, 5) if kind == "int" else st.floats(-3, 3)
    kernel = np.array(data.draw(st.lists(kernel_values, min_size=k, max_size=k)))
    options = data.draw(stream_options(), label="options")
    sizes = data.draw(
        st.lists(st.sampled_from([0, 1, 1, 2, 3, 5, 17, 1000]), min_size=1, max_size=6),
        label="sizes",
    )
    try:
        expected = whole(signal, kernel, options)
    except Exception as error:  # the same refusal (e.g. a kernel longer than the signal)
        note(f"engine: {error!r}")
        with pytest.raises(type(error)):
            run_stream(signal, kernel, sizes, options)
        return
    streamed = run_stream(signal, kernel, sizes, options)
    assert_identical(streamed.values, expected)


@pytest.mark.parametrize("method", METHODS)
def test_one_value_blocks(method: str):
    rng = np.random.default_rng(11)
    signal = rng.normal(size=200)
    signal[[3, 50, 51]] = [np.nan, np.inf, -np.inf]
    kernel = rng.normal(size=9)
    options = {"operation": "correlation", "padding": "full", "pad_mode": "symmetric"}
    options["method"] = method
    streamed = run_stream(signal, kernel, [1], options)
    assert_identical(streamed.values, whole(signal, kernel, options))


def test_empty_blocks_between_values():
    signal = np.arange(1, 30, dtype=np.int64)
    options = {"operation": "convolution", "padding": "same", "pad_mode": "reflect"}
    streamed = run_stream(signal, [1, -2, 1], [0, 4, 0, 0, 1], options)
    assert_identical(streamed.values, whole(signal, [1, -2, 1], options))
    assert streamed.values.dtype == np.int64


def test_docstring_example_by_hand():
    stream = Stream([1, -1], "convolution", Options.parse(padding="full"))
    outputs = [stream.feed(np.array([2, 1, 3])), stream.feed(np.array([5, 4])), stream.finish()]
    assert np.concatenate(outputs).tolist() == [2, -1, 2, 2, -1, -4]


@pytest.mark.parametrize("empty", [np.empty(0), np.array([])], ids=["np.empty", "array([])"])
def test_empty_float_blocks_do_not_change_an_integer_stream(empty: np.ndarray):
    """An empty block holds no numbers, so it cannot make an integer signal decimal
    (engine.compute on the whole gives int64)."""
    stream = Stream([1, -1], "convolution", Options.parse(padding="full"))
    outputs = [stream.feed(np.array([1, 2, 3])), stream.feed(empty), stream.finish()]
    values = np.concatenate(outputs)
    assert values.tolist() == [1, 1, 1, -3]
    assert values.dtype == np.int64


def test_nothing_fed_is_refused():
    with pytest.raises(ConvcliError, match="empty"):
        Stream([1, 2], "convolution").finish()


# --------------------------------------------------------------------------- long signals


@dataclass(frozen=True)
class LongCase:
    """A seeded long signal and the stream options to run it with."""

    n: int
    k: int
    kind: str  # "float", or "int:B" for integers below 2**B
    operation: str
    padding: str
    pad_mode: str
    stride: int
    dilation: int
    method: str
    nonfinite: int = 0
    seed: int = 0

    def inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """The signal (with ``nonfinite`` nan/inf, and a stretch of huge values for floats)
        and the kernel."""
        rng = np.random.default_rng(self.seed)
        if self.kind.startswith("int"):
            bits = int(self.kind.split(":")[1])
            signal = rng.integers(-(2**bits), 2**bits, self.n)
            kernel = rng.integers(-1000, 1000, self.k)
            return signal, kernel
        signal = rng.normal(size=self.n)
        signal[self.n // 3 : self.n // 3 + 5_000] *= 1e12  # auto's guard recomputes near it
        signal[self.n // 2 : self.n // 2 + 3_000] = 0.0  # exact zeros stay exact
        cells = rng.integers(0, self.n, self.nonfinite)
        signal[cells] = [(np.nan, np.inf, -np.inf)[i % 3] for i in range(self.nonfinite)]
        return signal, rng.normal(size=self.k)

    def options(self) -> dict:
        """Stream keyword arguments."""
        return {
            "operation": self.operation,
            "padding": self.padding,
            "stride": self.stride,
            "dilation": self.dilation,
            "pad_mode": self.pad_mode,
            "method": self.method,
        }


LONG_CASES = {
    "float-same-reflect-auto": LongCase(300_000, 5, "float", "correlation", "same", "reflect", 1, 1, "auto", 5, 1),
    "int-full-stride-auto": LongCase(400_000, 300, "int:10", "convolution", "full", "zeros", 2, 1, "auto", 0, 2),
    "float-explicit-symmetric-fft": LongCase(350_000, 200, "float", "correlation", "3:150", "symmetric", 3, 2, "fft", 6, 3),
    "int-circular-after-direct": LongCase(300_000, 7, "int:20", "convolution", "0:9", "circular", 2, 3, "direct", 0, 4),
    "float-full-replicate-auto-fft": LongCase(600_000, 257, "float", "convolution", "full", "replicate", 1, 1, "auto", 6, 5),
    "int-exact-path-fft": LongCase(300_000, 64, "int:34", "correlation", "40:3", "replicate", 1, 2, "fft", 0, 6),
    "float-valid-direct-dilated": LongCase(320_000, 31, "float", "convolution", "valid", "zeros", 1, 4, "direct", 4, 7),
    "just-past-the-buffer": LongCase(BUFFER_AT_LEAST + 1, 3, "float", "convolution", "1:4", "reflect", 1, 1, "auto", 2, 8),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LONG_CASES))
def test_long_signals_stream_the_same_bits(name: str):
    case = LONG_CASES[name]
    signal, kernel = case.inputs()
    options = case.options()
    expected = whole(signal, kernel, options)
    rng = np.random.default_rng(case.seed)
    sizes = [0, 1, 7, *rng.integers(1_000, 60_000, 8).tolist(), 0, 200_000, 3]
    streamed = run_stream(signal, kernel, sizes, options)
    assert_identical(streamed.values, expected)
    assert streamed.before_finish > 0  # outputs come out before the signal ends
    if case.n >= 2 * BUFFER_AT_LEAST:
        assert streamed.before_finish >= len(expected) // 4


@pytest.mark.slow
@settings(max_examples=8, deadline=None)
@given(
    stream_options(),
    st.sampled_from(["int", "float"]),
    st.integers(1, 320),
    st.integers(1, 40_000),
    st.integers(0, 2**32 - 1),
)
def test_long_signals_with_random_options(options: dict, kind: str, k: int, extra: int, seed: int):
    """Random options and block sizes on signals just past the buffer (a few: they are slow)."""
    rng = np.random.default_rng(seed)
    n = BUFFER_AT_LEAST + extra
    if kind == "int":
        signal, kernel = rng.integers(-(2**20), 2**20, n), rng.integers(-99, 99, k)
    else:
        signal, kernel = rng.normal(size=n), rng.normal(size=k)
        signal[rng.integers(0, n, 3)] = [np.nan, np.inf, -np.inf]
    sizes = [int(size) for size in rng.choice([0, 1, 5, 999, 30_000, 150_000], 12)]
    expected = whole(signal, kernel, options)
    streamed = run_stream(signal, kernel, sizes, options)
    assert_identical(streamed.values, expected)
    assert streamed.before_finish > 0


def test_long_stream_uses_the_method_auto_picks_for_the_whole():
    """auto picks by kernel and options alone for long signals, so the stream and the
    engine use the same method (and so the same bits)."""
    signal, kernel = LONG_CASES["float-full-replicate-auto-fft"].inputs()
    assert (
        engine.compute(signal, kernel, "convolution", Options.parse(padding="full")).method == "fft"
    )
    signal, kernel = LONG_CASES["float-same-reflect-auto"].inputs()
    assert (
        engine.compute(signal, kernel, "correlation", Options.parse(padding="same")).method
        == "direct"
    )


def test_exactly_the_buffer_is_handled_whole():
    rng = np.random.default_rng(9)
    signal, kernel = rng.normal(size=BUFFER_AT_LEAST), rng.normal(size=4)
    options = {"operation": "convolution", "padding": "full", "pad_mode": "zeros"}
    streamed = run_stream(signal, kernel, [100_000], options)
    assert_identical(streamed.values, whole(signal, kernel, options))


def test_empty_float_block_in_a_long_integer_stream():
    """Past the buffer, an empty block must not turn the last outputs into decimals."""
    signal = np.random.default_rng(10).integers(-100, 100, 300_000)
    options = {"operation": "convolution", "padding": "full"}
    stream = stream_of([1, -1], options)
    outputs = [stream.feed(signal[:-10]), stream.feed(np.empty(0)), stream.feed(signal[-10:])]
    values = np.concatenate([*outputs, stream.finish()])
    assert_identical(values, whole(signal, [1, -1], options))


@pytest.mark.slow
def test_integers_past_int64_later_in_a_long_stream():
    """A value too big for int64 after the buffer is still an integer: the engine gives
    exact Python ints for the whole signal, and so must the stream (not a refusal that
    says the signal "changed from integers to integers")."""
    signal = np.random.default_rng(12).integers(-100, 100, 300_000).astype(object)
    signal[-2] = 2**64
    options = {"operation": "convolution", "padding": "full"}
    stream = stream_of([1, 2, 3], options)
    outputs = [stream.feed(signal[:-2].astype(np.int64)), stream.feed(signal[-2:])]
    values = np.concatenate([*outputs, stream.finish()])
    assert_identical(values, whole(signal, [1, 2, 3], options))


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("padding", ["full", "same", "2:0", "1:1", 3])
def test_circular_padding_before_the_signal_refused(padding: object):
    with pytest.raises(ConvcliError, match="circular"):
        Stream([1, 2, 3], "convolution", Options.parse(padding=padding, pad_mode="circular"))


def test_circular_padding_after_only_allowed():
    signal = np.arange(40.0)
    options = {"operation": "correlation", "padding": "0:3", "pad_mode": "circular"}
    streamed = run_stream(signal, [1.0, 2.0, 0.5], [3, 0, 5], options)
    assert_identical(streamed.values, whole(signal, [1.0, 2.0, 0.5], options))


@pytest.mark.parametrize("stride", [2, "3"])
def test_same_with_a_stride_refused(stride: object):
    with pytest.raises(ConvcliError, match="same"):
        Stream([1, 2, 3], "correlation", Options.parse(padding="same", stride=stride))


def test_two_dimensional_kernel_refused():
    with pytest.raises(ConvcliError, match="1-D"):
        Stream([[1, 2], [3, 4]], "convolution")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"method": "fast"}, "method"),
        ({"pad_mode": "mirror"}, "pad_mode="),
        ({"stride": 0}, "stride"),
        ({"padding": "-1"}, "padding"),
    ],
)
def test_bad_options_refused_when_made(options: dict, match: str):
    with pytest.raises(ConvcliError, match=match):
        Stream([1, 2, 3], "convolution", Options.parse(**options))


def test_switching_from_integers_to_decimals_refused():
    signal = np.arange(300_000)
    stream = Stream([1, 2, 3], "convolution")
    assert len(stream.feed(signal)) > 0  # past the buffer: outputs are already out
    with pytest.raises(ConvcliError, match="integers to decimals"):
        stream.feed(np.array([1.5, 2.0]))


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 50), st.integers(0, 3))
def test_kernel_longer_than_a_short_signal_refused_at_finish(n: int, extra: int):
    """The engine's own refusal, since a short signal is computed whole."""
    stream = Stream(np.ones(n + 1 + extra), "convolution")
    stream.feed(np.ones(n))
    with pytest.raises(ConvcliError, match="kernel"):
        stream.finish()


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("padding", ["full", "3:5"])
def test_nonfinite_kernel_over_zero_padding_in_a_long_stream(method: str, padding: str):
    """A kernel's inf over zero padding is no term of the sum in a stream either: the
    same bits as the whole signal, whose ends numpy.convolve confirms."""
    rng = np.random.default_rng(12)
    signal, kernel = rng.normal(size=BUFFER_AT_LEAST + 5_000), rng.normal(size=40)
    kernel[[1, 38]] = [np.inf, -np.inf]
    options = {"operation": "convolution", "padding": padding, "method": method}
    expected = whole(signal, kernel, options)
    assert_identical(run_stream(signal, kernel, [70_000, 3, 100_000], options).values, expected)
    if padding == "full":
        with np.errstate(invalid="ignore"):
            numpy = np.convolve(signal, kernel, "full")
        assert np.isfinite(expected[[0, -1]]).all()
        np.testing.assert_allclose(expected[[0, -1]], numpy[[0, -1]], rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["auto", "fft"])
def test_huge_values_in_a_long_stream(method: str):
    """Values whose FFT would overflow are scaled in a stream as in a whole run: the same
    bits, finite where numpy.convolve's direct sum is, and no warning."""
    rng = np.random.default_rng(13)
    signal = rng.uniform(1, 2, BUFFER_AT_LEAST + 5_000) * 1e306
    kernel = rng.normal(size=31) * 1e-300
    options = {"operation": "convolution", "padding": "full", "method": method}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expected = whole(signal, kernel, options)
        streamed = run_stream(signal, kernel, [70_000, 3, 100_000], options)
    assert_identical(streamed.values, expected)
    reference = np.convolve(signal, kernel, "full")
    assert np.isfinite(expected).all()
    scale = np.convolve(np.abs(signal), np.abs(kernel), "full")
    assert (np.abs(expected - reference) <= 1e-6 * scale).all()


# --------------------------------------------------------------------------- constant padding and axes


@pytest.mark.parametrize(
    ("kind", "value"), [("int", 7), ("int", 2.5), ("float", -1.5), ("float", 2 + 1j)]
)
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_constant_padding_streams_the_engine_bits(kind: str, value: object, method: str):
    rng = np.random.default_rng(11)
    n = BUFFER_AT_LEAST + 5_000
    signal = rng.integers(-99, 99, n) if kind == "int" else rng.normal(size=n)
    kernel = rng.integers(-9, 9, 31) if kind == "int" else rng.normal(size=31)
    options = {
        "operation": "correlation",
        "padding": "40:35",
        "pad_value": value,
        "method": method,
    }
    expected = whole(signal, kernel, options)
    streamed = run_stream(signal, kernel, [1, 7, 30_000, 150_000], options)
    assert_identical(streamed.values, expected)
    assert streamed.before_finish > 0
    short = run_stream(signal[:50], kernel, [3], options)
    assert_identical(short.values, whole(signal[:50], kernel, options))


def test_axes_refused_by_a_stream():
    with pytest.raises(ConvcliError) as error:
        Stream([1, 1], "convolution", Options.parse(axes=0))
    assert str(error.value) == (
        "Stream slides a 1-D kernel along its one axis; axes= does not apply "
        "(leave it out, or use convolve or correlate on the whole signal)"
    )
