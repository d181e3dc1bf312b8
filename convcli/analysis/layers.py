"""CNN layers: channels, a batch, groups and a bias, computed as PyTorch and TensorFlow do.

A convolution layer is a sum of single-channel cross-correlations::

    y[n, o] = bias[o] + sum_j correlate(x[n, g*C + j], w[o, j])

for output channel ``o`` of group ``g`` (``C = C_in / groups`` input channels per group).
PyTorch and TensorFlow call it convolution; the same layer as a convolution takes the
flipped weights. Its transpose (``transposed=True``, PyTorch's ``conv_transpose``) spreads
each input cell over the output through the kernel: the backward pass of the layer, and
the upsampling of every decoder.

The sums run as matrix products over the channels (im2col in cache-sized pieces) or, for
one input channel per group (depthwise), one vectorised multiply-add per kernel tap.
Integers stay exact: they are summed as float64 where no partial sum can reach 2**53,
else as int64 or Python ints.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from convcli.display import Displayed
from convcli.engine.geometry import Geometry, pad_signal, plan, spans, spread_by
from convcli.engine.memory import LARGE_WORK, reuse_freed_memory
from convcli.engine.numbers import as_numeric
from convcli.errors import ConvcliError, LayerError
from convcli.options import (
    Convention,
    Options,
    PaddingSpec,
    PadMode,
    Pads,
    PadValue,
    PerAxis,
    check_choice,
    parse_per_axis,
)

__all__ = [
    "LAYER_CONVENTIONS",
    "LAYOUTS",
    "Layer",
    "LayerPlan",
    "LayerTerms",
    "Layout",
    "Prepared",
    "layer",
    "layer_terms",
    "plan_layer",
    "prepare",
    "run_layer",
]

Layout = Literal["nchw", "nhwc"]
#: PyTorch's channels-first tensors, and TensorFlow's channels-last ones.
LAYOUTS: tuple[Layout, ...] = ("nchw", "nhwc")
#: Whose rules a layer may follow: convcli's, PyTorch's or TensorFlow's.
LAYER_CONVENTIONS: tuple[Convention, ...] = ("convcli", "torch", "tensorflow")
_SPATIAL_NAMES = {1: "L", 2: "H, W", 3: "D, H, W"}
_KERNEL_NAMES = {1: "kL", 2: "kH, kW", 3: "kD, kH, kW"}
#: Integer sums stay in float64 (and BLAS) while every partial sum is below this.
_EXACT_FLOAT = 2.0**53
_INT64_MAX = int(np.iinfo(np.int64).max)
#: Zero padding, the options of sums that pad with zeros whatever the layer's own say.
ZEROS = Options()
#: The columns gathered for one matrix product: about this many bytes, which stay in cache.
_COLUMN_BYTES = 1 << 21


@dataclass(frozen=True, kw_only=True)
class Layer:
    """A layer's options: the sliding geometry as one :class:`Options`, and the layer's own.

    >>> Layer.parse(stride=2, padding=1, groups=2).options.padding
    ((1, 1),)
    """

    options: Options = Options()
    groups: int = 1
    layout: Layout = "nchw"
    transposed: bool = False
    output_padding: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        """Refuse fields of the wrong kind, naming the field."""
        if not (isinstance(self.groups, int) and not isinstance(self.groups, bool)):
            raise TypeError(f"groups takes an int, not {self.groups!r} (Layer.of takes numpy ints)")
        if self.groups < 1:
            raise LayerError(f"groups={self.groups} must be at least 1")
        check_choice(self.layout, LAYOUTS, "layout")
        check_choice(self.options.convention, LAYER_CONVENTIONS, "convention")
        if not isinstance(self.transposed, bool):
            raise TypeError(f"transposed takes a bool, not {self.transposed!r}")
        if any(n and not self.transposed for n in self.output_padding):
            raise LayerError(
                "output_padding applies to transposed layers only (transposed=True), "
                f"got output_padding={_ints(self.output_padding)}"
            )
        if self.transposed:
            _check_transposed(self)

    @classmethod
    def parse(
        cls,
        *,
        stride: PerAxis = 1,
        padding: PaddingSpec = 0,
        dilation: PerAxis = 1,
        groups: int = 1,
        pad_mode: PadMode = "zeros",
        pad_value: PadValue | None = None,
        layout: Layout = "nchw",
        transposed: bool = False,
        output_padding: PerAxis = 0,
        convention: Convention = "convcli",
    ) -> Layer:
        """A Layer from the forms a caller writes (as :meth:`Options.parse` takes them)."""
        check_choice(convention, LAYER_CONVENTIONS, "convention")
        options = Options.parse(
            padding=padding,
            stride=stride,
            dilation=dilation,
            pad_mode=pad_mode,
            pad_value=pad_value,
            convention=convention,
        )
        return cls.of(
            options,
            groups=groups,
            layout=layout,
            transposed=transposed,
            output_padding=output_padding,
        )

    @classmethod
    def of(
        cls,
        options: Options,
        *,
        groups: int = 1,
        layout: Layout = "nchw",
        transposed: bool = False,
        output_padding: PerAxis = 0,
    ) -> Layer:
        """A Layer of parsed sliding options and the layer's own in the forms a caller writes.

        >>> Layer.of(Options(), transposed=True, output_padding="1,0").output_padding
        (1, 0)
        """
        if options.axes is not None:
            raise LayerError(
                "a layer slides along every spatial axis: axes= does not apply (channels and "
                "the batch are its other axes)"
            )
        check_choice(options.convention, LAYER_CONVENTIONS, "convention")
        if options.convention != "convcli":
            options = options.replace(multiply_padding=True)  # 0 * inf is nan there
        if (
            options.convention == "tensorflow"
            and not isinstance(options.padding, str)
            and not any(map(any, options.padding))
        ):
            options = options.replace(padding="valid")  # padding=0 is TensorFlow's 'VALID'
        if isinstance(groups, numbers.Integral) and not isinstance(groups, bool):
            groups = int(groups)
        return cls(
            options=options,
            groups=groups,
            layout=layout,
            transposed=transposed,
            output_padding=parse_per_axis(output_padding, "output_padding", least=0),
        )


def _check_transposed(spec: Layer) -> None:
    """Refuse what a transposed layer cannot take whatever the data."""
    options = spec.options
    padding = options.padding
    if options.pad_mode != "zeros":
        raise LayerError(
            f"a transposed layer pads with zeros only (pad_mode={options.pad_mode!r}): its "
            "padding crops the output, as PyTorch's and TensorFlow's do"
        )
    if padding == "same" and any(spec.output_padding):
        raise LayerError(
            "padding='same' makes a transposed layer's output stride times its input; "
            f"output_padding={_ints(spec.output_padding)} does not apply (give the padding "
            "as numbers)"
        )
    if options.convention == "torch" and isinstance(padding, str):
        raise LayerError(f"PyTorch's conv_transpose takes padding as ints, not {padding!r}")
    if options.convention == "tensorflow":
        if padding not in ("same", "valid"):
            written = _pads_text(padding) if not isinstance(padding, str) else repr(padding)
            raise LayerError(
                f"TensorFlow's conv_transpose takes padding 'SAME' or 'VALID', not {written}"
            )
        if any(d > 1 for d in options.dilation):
            raise LayerError(
                "TensorFlow's conv_transpose takes no dilation on the CPU "
                f"(dilation={_ints(options.dilation)})"
            )


@dataclass(frozen=True)
class LayerPlan:
    """The shapes of one layer, checked: channels, groups, and the spatial geometry.

    ``geometry`` is the sliding geometry on one channel: of the forward layer itself, or,
    for a transposed layer, of the forward layer it is the transpose of (whose input is
    the transposed layer's output). Shapes here are channels-first, batched
    (``(N, C, *spatial)``); ``output_shape`` is the result's shape in the caller's layout.
    """

    batch: int
    batched: bool
    in_channels: int
    out_channels: int
    groups: int
    kernel_shape: tuple[int, ...]
    input_spatial: tuple[int, ...]
    output_spatial: tuple[int, ...]
    geometry: Geometry
    output_shape: tuple[int, ...]
    transposed: bool

    @property
    def dims(self) -> int:
        """How many spatial axes: 1, 2 or 3."""
        return len(self.kernel_shape)

    @property
    def group_in(self) -> int:
        """Input channels per group."""
        return self.in_channels // self.groups

    @property
    def group_out(self) -> int:
        """Output channels per group."""
        return self.out_channels // self.groups


def plan_layer(
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    bias_shape: tuple[int, ...] | None,
    spec: Layer,
) -> LayerPlan:
    """Check a layer's shapes against each other and work out its output.

    Every mismatch is a :class:`~convcli.errors.LayerError` naming both shapes and what
    they should be.

    >>> plan_layer((2, 3, 8, 8), (4, 3, 3, 3), (4,), Layer()).output_shape
    (2, 4, 6, 6)
    >>> plan_layer((2, 3, 8, 8), (4, 2, 3, 3), None, Layer())
    Traceback (most recent call last):
    convcli.errors.LayerError: the input (2, 3, 8, 8) has 3 channels but the weights (4, 2, 3, 3) take 2 (C_in/groups with groups=1); weights for this input have shape (C_out, 3, kH, kW)
    """
    dims = len(weight_shape) - 2
    channels_last = spec.layout == "nhwc"
    if dims not in (1, 2, 3):
        kernel = "(*k, C_in/groups, C_out)" if channels_last else "(C_out, C_in/groups, *k)"
        raise LayerError(
            f"the weights {_shape(weight_shape)} are {len(weight_shape)}-D; a 1-, 2- or 3-D layer "
            f"takes 3-, 4- or 5-D weights {kernel}"
        )
    if len(input_shape) not in (dims + 1, dims + 2):
        raise LayerError(
            f"the weights {_shape(weight_shape)} make a {dims}-D layer, which takes a "
            f"{dims + 2}-D input {_input_form(dims, channels_last, batched=True)} or a "
            f"{dims + 1}-D one {_input_form(dims, channels_last, batched=False)}; "
            f"the input has shape {_shape(input_shape)}"
        )
    batched = len(input_shape) == dims + 2
    shape = input_shape if batched else (1, *input_shape)
    if channels_last:
        shape = (shape[0], shape[-1], *shape[1:-1])
        # TensorFlow's filters are (*k, C_in/groups, C_out), transposed (*k, C_out, C_in)
        weights = (weight_shape[-1], weight_shape[-2], *weight_shape[:-2])
    else:
        weights = weight_shape
    batch, in_channels, spatial = shape[0], shape[1], shape[2:]
    groups = spec.groups
    per_group, kernel_shape = weights[1], weights[2:]
    out_channels = per_group * groups if spec.transposed else weights[0]
    if in_channels % groups or out_channels % groups:
        raise LayerError(
            f"groups={groups} must divide both the input channels ({in_channels}, input "
            f"{_shape(input_shape)}) and the output channels ({out_channels}, weights "
            f"{_shape(weight_shape)})"
        )
    if spec.transposed:
        if weights[0] != in_channels:
            raise LayerError(
                f"the input {_shape(input_shape)} has {_counted(in_channels, 'channel')} but the transposed "
                f"weights {_shape(weight_shape)} take {weights[0]} "
                f"({_transposed_form(dims, channels_last)})"
                + _unbatched_hint(input_shape, dims, batched)
            )
    else:
        if per_group * groups != in_channels:
            raise LayerError(
                f"the input {_shape(input_shape)} has {_counted(in_channels, 'channel')} but the weights "
                f"{_shape(weight_shape)} take {per_group} (C_in/groups with groups={groups}); "
                f"weights for this input have shape "
                f"{_weight_form(dims, channels_last, in_channels, groups)}"
                + _unbatched_hint(input_shape, dims, batched)
            )
    if bias_shape is not None and bias_shape != (out_channels,):
        raise LayerError(
            f"the bias has shape {_shape(bias_shape)} but the weights {_shape(weight_shape)} "
            f"make {_counted(out_channels, 'output channel')}; the bias must have shape "
            f"({out_channels},)"
        )
    if min(weights) < 1 or min(shape) < 1:
        raise LayerError(
            f"the input {_shape(input_shape)} and the weights {_shape(weight_shape)} "
            "must have at least one cell along every axis"
        )
    options = spec.options
    if spec.transposed:
        output_spatial, geometry = _transposed_geometry(spatial, kernel_shape, spec)
    else:
        try:
            geometry = _forward_geometry(spatial, kernel_shape, options)
        except LayerError:
            raise
        except ConvcliError as error:
            if "spans" not in str(error):
                raise
            spanned = _ints(spans(kernel_shape, _per_axis(options.dilation, dims, "dilation")))
            pads = (
                ((0, 0),) * dims
                if isinstance(options.padding, str)
                else _per_axis(options.padding, dims, "padding")
            )
            padded = tuple(n + b + a for n, (b, a) in zip(spatial, pads))
            raise LayerError(
                f"the weights {_shape(weight_shape)} span {spanned} cells but the input "
                f"{_shape(input_shape)} has only {_ints(padded)} with padding {_pads_text(pads)}; "
                "give more padding (padding='same' or 'full') or a smaller kernel"
            ) from None
        output_spatial = geometry.output_shape
    out = (batch, out_channels, *output_spatial)
    if channels_last:
        out = (batch, *output_spatial, out_channels)
    return LayerPlan(
        batch=batch,
        batched=batched,
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
        kernel_shape=kernel_shape,
        input_spatial=spatial,
        output_spatial=output_spatial,
        geometry=geometry,
        output_shape=out if batched else out[1:],
        transposed=spec.transposed,
    )


def _forward_geometry(
    spatial: tuple[int, ...], kernel_shape: tuple[int, ...], options: Options
) -> Geometry:
    """The sliding geometry on one channel, under the layer's convention's rules."""
    if options.convention != "convcli":
        from convcli.analysis import conventions

        pads = conventions.layer_pads(spatial, kernel_shape, options)
        options = options.replace(padding=pads)
    return plan(spatial, kernel_shape, options.replace(convention="convcli"))


def _transposed_geometry(
    spatial: tuple[int, ...], kernel_shape: tuple[int, ...], spec: Layer
) -> tuple[tuple[int, ...], Geometry]:
    """A transposed layer's output shape, and the geometry of the forward layer it transposes.

    The output along an axis is ``(n - 1) * stride + span - before - after +
    output_padding``: the forward layer from that many cells, padded ``(before, after)``,
    has ``n`` outputs. ``same`` gives ``n * stride + output_padding`` cells (TensorFlow's
    rule) and ``full`` pads ``span - 1`` on each side, as the forward layer would.
    """
    options = spec.options
    dims = len(spatial)
    stride = _per_axis(options.stride, dims, "stride")
    dilation = _per_axis(options.dilation, dims, "dilation")
    extra = _per_axis(spec.output_padding, dims, "output_padding")
    for a, (p, s, d) in enumerate(zip(extra, stride, dilation)):
        if p >= max(s, d):
            raise LayerError(
                f"output_padding={_ints(extra)} must be smaller than the stride {_ints(stride)} "
                f"or the dilation {_ints(dilation)} on each axis (axis {a}: {p})"
            )
    extents = spans(kernel_shape, dilation)
    padding = options.padding
    if padding == "same":
        output = tuple(n * s + p for n, s, p in zip(spatial, stride, extra))
        geometry = plan(output, kernel_shape, options.replace(convention="convcli"))
        return output, geometry
    if padding == "valid":
        pads: Pads = ((0, 0),) * dims
    elif padding == "full":
        pads = tuple((e - 1, e - 1) for e in extents)
    else:
        pads = _per_axis(padding, dims, "padding")
    output = tuple(
        (n - 1) * s + e - before - after + p
        for n, s, e, (before, after), p in zip(spatial, stride, extents, pads, extra)
    )
    if min(output) < 1:
        raise LayerError(
            f"padding {_pads_text(pads)} crops the transposed layer's output "
            f"({_ints(tuple((n - 1) * s + e for n, s, e in zip(spatial, stride, extents)))} "
            f"cells before cropping) to nothing; use less padding"
        )
    geometry = Geometry(
        "explicit" if not isinstance(padding, str) else padding,
        pads,
        stride,
        dilation,
        "zeros",
        tuple(n + b + a for n, (b, a) in zip(output, pads)),
        spatial,
    )
    return output, geometry


def layer(
    x: object,
    w: object,
    bias: object = None,
    *,
    stride: PerAxis = 1,
    padding: PaddingSpec = 0,
    dilation: PerAxis = 1,
    groups: int = 1,
    pad_mode: PadMode = "zeros",
    pad_value: PadValue | None = None,
    layout: Layout = "nchw",
    transposed: bool = False,
    output_padding: PerAxis = 0,
    convention: Convention = "convcli",
) -> np.ndarray:
    """A CNN convolution layer: ``torch.nn.functional.conv{1,2,3}d`` (or ``conv_transpose``).

    ``x`` is ``(N, C_in, *spatial)`` or, without a batch, ``(C_in, *spatial)``; ``w`` is
    ``(C_out, C_in/groups, *k)``, or ``(C_in, C_out/groups, *k)`` when ``transposed``;
    ``bias`` is ``(C_out,)``. ``layout="nhwc"`` takes TensorFlow's ``(N, *spatial, C_in)``
    input and ``(*k, C_in/groups, C_out)`` filters (``(*k, C_out, C_in)`` transposed) and
    returns TensorFlow's layout. Padding, stride and dilation are per spatial axis, as for
    :func:`convcli.correlate`; ``convention="torch"`` or ``"tensorflow"`` applies that
    library's rules (what it refuses, and zero padding multiplied: ``0 * inf`` is nan).

    Each output channel is a sum of cross-correlations: the kernel is not flipped, and a
    complex kernel is not conjugated (as PyTorch and TensorFlow multiply it).

    >>> x = [[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]]          # N=1, C_in=2, L=5
    >>> w = [[[1, -1], [1, 1]]]                            # C_out=1, C_in=2, k=2
    >>> layer(x, w, bias=[10])
    array([[[12,  9,  9, 12]]])
    >>> layer([[1, 2, 3]], [[[1, 1]]], transposed=True, stride=2)
    array([[1, 1, 2, 2, 3, 3]])
    """
    spec = Layer.parse(
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        pad_mode=pad_mode,
        pad_value=pad_value,
        layout=layout,
        transposed=transposed,
        output_padding=output_padding,
        convention=convention,
    )
    return run_layer(x, w, bias, spec)


def run_layer(x: object, w: object, bias: object, spec: Layer) -> np.ndarray:
    """:func:`layer` with its options as one object.

    >>> run_layer([[1, 2, 3]], [[[1, 1]]], None, Layer())
    array([[3, 5]])
    """
    prepared = prepare(x, w, bias, spec)
    values = _layer_values(prepared, spec)
    return _to_layout(prepared.exact(values), prepared.plan, spec.layout)


@dataclass(frozen=True, eq=False)
class Prepared:
    """A layer's inputs as numbers in channels-first order and the dtype of the sums."""

    inputs: np.ndarray
    weights: np.ndarray
    bias: np.ndarray | None
    plan: LayerPlan
    integers: bool

    def exact(self, values: np.ndarray) -> np.ndarray:
        """Integer results summed in float64 (exactly) back as int64."""
        if self.integers and values.dtype == np.float64:
            return values.astype(np.int64)
        return values


def prepare(x: object, w: object, bias: object, spec: Layer) -> Prepared:
    """Check the inputs against each other and bring them to channels-first order, batched,
    in the dtype the sums run in (what the layer, its terms, its backward pass and its
    written-out cells all start from).

    >>> prepare([[1, 2, 3]], [[[1, 1]]], None, Layer()).inputs
    array([[[1., 2., 3.]]])
    """
    inputs = as_numeric(x, "input")
    weights = as_numeric(w, "weights")
    offsets = None if bias is None else as_numeric(bias, "bias")
    layer_plan = plan_layer(
        inputs.shape, weights.shape, None if offsets is None else offsets.shape, spec
    )
    integers = isinstance(spec.options.pad_value, int) and all(
        a.dtype.kind in "iO" for a in (inputs, weights, offsets) if a is not None
    )
    dims = layer_plan.dims
    if not layer_plan.batched:
        inputs = inputs[None]
    if spec.layout == "nhwc":
        inputs = np.moveaxis(inputs, -1, 1)
        weights = weights.transpose(dims + 1, dims, *range(dims))
    if spec.options.convention == "tensorflow" and any(
        a.dtype.kind == "c" for a in (inputs, weights, offsets) if a is not None
    ):
        raise LayerError("TensorFlow's convolution layers take real tensors only, not complex ones")
    dtype = _sum_dtype(inputs, weights, offsets, layer_plan, spec.options)
    inputs = np.ascontiguousarray(inputs, dtype=dtype)
    weights = np.ascontiguousarray(weights, dtype=dtype)
    if offsets is not None:
        offsets = offsets.astype(dtype, copy=False)
    if inputs.size >= LARGE_WORK:
        reuse_freed_memory()
    return Prepared(inputs, weights, offsets, layer_plan, integers)


def _layer_values(prepared: Prepared, spec: Layer) -> np.ndarray:
    """The layer channels-first and batched, bias added, in the dtype of the sums."""
    if spec.transposed:
        values = _transposed(prepared.inputs, prepared.weights, prepared.plan)
    else:
        values = _forward(prepared.inputs, prepared.weights, prepared.plan, spec.options)
    if prepared.bias is not None:
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is nan
            values += _column(prepared.bias, prepared.plan.output_spatial)
    return values


def _sum_dtype(
    inputs: np.ndarray,
    weights: np.ndarray,
    bias: np.ndarray | None,
    layer_plan: LayerPlan,
    options: Options,
) -> np.dtype | type:
    """The dtype the sums run in: float64 or complex128, or for integers the narrowest exact
    one of float64 (every partial sum below 2**53), int64 and Python ints.

    Every output, forward or transposed, sums at most ``C_in/groups * taps`` products; a
    constant pad value is one of the input's cells.
    """
    fill = options.pad_value if options.pad_mode == "constant" else 0
    arrays = [a for a in (inputs, weights, bias) if a is not None]
    kinds = {a.dtype.kind for a in arrays} | {np.asarray(fill).dtype.kind}
    if "c" in kinds:
        return np.complex128
    if "f" in kinds:
        return np.float64
    if "O" in kinds:
        return object
    terms = layer_plan.group_in * math.prod(layer_plan.kernel_shape)
    largest_input = max(_largest(inputs), abs(int(fill.real)))
    bound = largest_input * _largest(weights) * terms + (0 if bias is None else _largest(bias))
    if bound < _EXACT_FLOAT:
        return np.float64
    return np.int64 if bound <= _INT64_MAX else object


def _largest(values: np.ndarray) -> int:
    """The largest magnitude among integers, exactly."""
    return max(abs(int(values.max())), abs(int(values.min())))


def _to_layout(values: np.ndarray, layer_plan: LayerPlan, layout: Layout) -> np.ndarray:
    """A channels-first batched result in the caller's layout, batch axis dropped if unbatched."""
    if layout == "nhwc":
        values = np.ascontiguousarray(np.moveaxis(values, 1, -1))
    return values if layer_plan.batched else values[0]


# --------------------------------------------------------------------------- forward sums


def _forward(
    inputs: np.ndarray, weights: np.ndarray, layer_plan: LayerPlan, options: Options
) -> np.ndarray:
    """The forward layer, channels first: ``(N, C_in, *spatial)`` to ``(N, C_out, *out)``."""
    geometry = layer_plan.geometry
    if (
        not options.multiply_padding
        and options.pad_mode == "zeros"
        and inputs.dtype.kind in "fc"
        and any(map(any, geometry.pads))
        and not np.isfinite(weights).all()
    ):
        # convcli's rule: zero padding is no term of the sum, so 0 * inf adds nothing.
        with np.errstate(invalid="ignore", over="ignore"):
            return _term_values(inputs, weights, layer_plan, options).sum(axis=2)
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf is nan, an overflow inf
        if layer_plan.group_in == 1:
            return _tap_sums(inputs, weights, layer_plan, options)
        return _column_sums(inputs, weights, layer_plan, options)


def _padded(inputs: np.ndarray, geometry: Geometry, options: Options) -> np.ndarray:
    """The inputs padded along the spatial axes as the options say."""
    return pad_signal(inputs, ((0, 0), (0, 0), *geometry.pads), options.pad_mode, options.pad_value)


def _window(
    cell: tuple[int, ...], geometry: Geometry, counts: tuple[int, ...], first: int = 0
) -> tuple[Any, ...]:
    """The index of the cells kernel tap ``cell`` meets in padded channels (any leading
    axes), ``counts`` outputs each way from output row ``first`` on."""
    starts = [k * d for k, d in zip(cell, geometry.dilation)]
    starts[0] += first * geometry.stride[0]
    slices = (
        slice(start, start + (n - 1) * s + 1, s)
        for start, s, n in zip(starts, geometry.stride, counts)
    )
    return (Ellipsis, *slices)


def _tap_sums(
    inputs: np.ndarray, weights: np.ndarray, layer_plan: LayerPlan, options: Options
) -> np.ndarray:
    """One input channel per group (depthwise): each channel slid on its own.

    With stride 1 a channel is padded and flattened, its rows kept at their padded width
    (the extra columns' sums dropped at the end), so that the kernel's last axis slides
    along one contiguous run: numpy's compiled 1-D correlation per kernel row, a few
    passes where a multiply-add per tap would take two per tap. A stride takes one
    multiply-add per tap over every channel at once.
    """
    geometry = layer_plan.geometry
    if layer_plan.group_out > 1:  # a channel multiplier: each input channel feeds several
        inputs = np.repeat(inputs, layer_plan.group_out, axis=1)
    out_shape = geometry.output_shape
    last = geometry.dilation[-1]
    spread_meets_inf = last > 1 and inputs.dtype.kind in "fc" and not np.isfinite(inputs).all()
    if any(s > 1 for s in geometry.stride) or spread_meets_inf:  # (0 * inf in the spread)
        taps = weights.reshape(layer_plan.out_channels, -1)
        source = _padded(inputs, geometry, options)
        total = None
        for t, cell in enumerate(np.ndindex(layer_plan.kernel_shape)):
            term = source[_window(cell, geometry, out_shape)] * _column(taps[:, t], out_shape)
            total = term if total is None else np.add(total, term, out=total)
        assert total is not None
        return total
    padded_shape, kernel_shape = geometry.padded_shape, layer_plan.kernel_shape
    pitch = [math.prod(padded_shape[a + 1 :]) for a in range(len(padded_shape))]
    run = out_shape[0] * pitch[0]
    # the kernel's rows along its last axis, each reversed for numpy.convolve and spread by
    # the dilation, with where each row starts in the flattened channel
    reach = last * (kernel_shape[-1] - 1) + 1
    leads = list(np.ndindex(kernel_shape[:-1]))
    starts = [sum(k * d * p for k, d, p in zip(lead, geometry.dilation, pitch)) for lead in leads]
    spread = np.zeros((layer_plan.out_channels, len(leads), reach), dtype=inputs.dtype)
    spread[..., ::last] = weights.reshape(layer_plan.out_channels, len(leads), -1)
    spread = spread[..., ::-1]
    batch, channels = inputs.shape[:2]
    total = np.empty((batch, channels, run), dtype=inputs.dtype)
    block = max(1, _COLUMN_BYTES // 4 // (run * inputs.itemsize))  # channels kept in cache
    length = max(math.prod(padded_shape), max(starts) + run + reach - 1)
    rows = np.zeros((min(block, channels), length), dtype=inputs.dtype)  # zeros past the end
    for n in range(batch):
        for first in range(0, channels, block):
            count = min(block, channels - first)
            _pad_into(rows[:count], inputs[n, first : first + count], geometry, options)
            for c in range(count):
                sums, row, kernel = total[n, first + c], rows[c], spread[first + c]
                for r, start in enumerate(starts):
                    part = np.convolve(row[start : start + run + reach - 1], kernel[r], "valid")
                    if r:
                        sums += part
                    else:
                        sums[...] = part
    wide = total.reshape(batch, channels, out_shape[0], *padded_shape[1:])
    kept: tuple[Any, ...] = (Ellipsis, *(slice(0, n) for n in out_shape))
    return wide[kept]  # a view: the padded columns' sums are not worth a copy to drop


def _pad_into(rows: np.ndarray, channels: np.ndarray, geometry: Geometry, options: Options) -> None:
    """Write each channel, padded, flattened, into the front of its row: a block at a time,
    into a buffer that stays in cache for the sums that follow."""
    padded_shape = geometry.padded_shape
    padded = rows[:, : math.prod(padded_shape)].reshape(len(rows), *padded_shape)
    if options.pad_mode not in ("zeros", "constant"):
        padded[...] = _padded(channels[None], geometry, options)[0]
        return
    inner: tuple[Any, ...] = (
        Ellipsis,
        *(slice(before, before + n) for n, (before, _) in zip(channels.shape[1:], geometry.pads)),
    )
    padded[inner] = channels
    for axis, (before, after) in enumerate(geometry.pads, start=1):
        lead = (slice(None),) * axis
        start: Any = (*lead, slice(0, before))
        end: Any = (*lead, slice(padded.shape[axis] - after, None))
        padded[start] = options.pad_value
        padded[end] = options.pad_value


def _column(values: np.ndarray, spatial: tuple[int, ...]) -> np.ndarray:
    """Per-channel values shaped to broadcast over ``(N, C, *spatial)``."""
    return values.reshape((-1,) + (1,) * len(spatial))


def _row_chunks(rows: int, row_values: int, itemsize: int) -> Iterator[tuple[int, int]]:
    """(first, count) of output rows whose gathered columns take about _COLUMN_BYTES."""
    step = max(1, _COLUMN_BYTES // max(1, row_values * itemsize))
    for first in range(0, rows, step):
        yield first, min(step, rows - first)


def _column_sums(
    inputs: np.ndarray, weights: np.ndarray, layer_plan: LayerPlan, options: Options
) -> np.ndarray:
    """im2col in pieces: gather the kernel's cells under a block of output rows (every input
    channel, every tap), then one matrix product per group writes those outputs."""
    geometry = layer_plan.geometry
    out_shape = geometry.output_shape
    matrix = weights.reshape(layer_plan.groups, layer_plan.group_out, -1)
    out = np.empty((layer_plan.batch, layer_plan.out_channels, *out_shape), dtype=inputs.dtype)
    for n, first, count, columns in _gathered(_padded(inputs, geometry, options), layer_plan):
        target = out[n, :, first : first + count].reshape(*matrix.shape[:2], -1)
        np.matmul(matrix, columns, out=target)
    return out


def _gathered(
    padded: np.ndarray, layer_plan: LayerPlan
) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """(sample, first row, rows, columns) for blocks of output rows: ``columns`` is
    ``(groups, C_in/groups * taps, positions)``, the cells every kernel tap meets under
    those outputs, gathered into one reused buffer of about _COLUMN_BYTES."""
    geometry = layer_plan.geometry
    out_shape = geometry.output_shape
    rest = math.prod(out_shape[1:])
    channels, taps = layer_plan.in_channels, math.prod(layer_plan.kernel_shape)
    cells = list(np.ndindex(layer_plan.kernel_shape))
    chunks = list(_row_chunks(out_shape[0], channels * taps * rest, padded.itemsize))
    buffer = np.empty(channels * taps * chunks[0][1] * rest, dtype=padded.dtype)
    for n in range(layer_plan.batch):
        sample = padded[n]
        for first, count in chunks:
            block = buffer[: channels * taps * count * rest]
            columns = block.reshape(channels, taps, count, *out_shape[1:])
            for t, cell in enumerate(cells):
                columns[:, t] = sample[_window(cell, geometry, (count, *out_shape[1:]), first)]
            yield n, first, count, block.reshape(layer_plan.groups, -1, count * rest)


# --------------------------------------------------------------------------- transposed sums


def _transposed(inputs: np.ndarray, weights: np.ndarray, layer_plan: LayerPlan) -> np.ndarray:
    """The transposed layer, as forward layers: one per output phase.

    Kernel tap ``k`` sends input cell ``i`` to uncropped output cell ``i * stride + k *
    dilation``, so along each axis the taps that land on the cells ``r, r + stride, ...``
    (phase ``r``) form a sub-kernel, and the phase is the forward correlation of the
    zero-padded input with that sub-kernel reversed: matrix products over the input
    channels and the sub-kernel's taps at once, with no scattered adds. Each phase
    computes only the cells the padding keeps, straight into its place in the output.
    """
    geometry = layer_plan.geometry
    dims, kernel_shape = layer_plan.dims, layer_plan.kernel_shape
    groups, group_in, group_out = layer_plan.groups, layer_plan.group_in, layer_plan.group_out
    if inputs.dtype.kind in "fc" and not np.isfinite(weights).all():
        # the phases' sums would meet the inf or nan with padding: sum real products only
        parts = [
            _spread_sum(
                inputs[:, g * group_in : (g + 1) * group_in],
                weights[g * group_in : (g + 1) * group_in],
                geometry,
                layer_plan.input_spatial,
            )
            for g in range(groups)
        ]
        return _cropped(np.concatenate(parts, axis=1), geometry.pads, layer_plan.output_spatial)
    grouped = weights.reshape(groups, group_in, group_out, *kernel_shape)
    phases: list[list[_PhaseAxis]] = []
    for phase in np.ndindex(*geometry.stride):
        found = [
            _phase_axis(r, size, d, s, before, n, length)
            for r, size, d, s, (before, _), n, length in zip(
                phase,
                kernel_shape,
                geometry.dilation,
                geometry.stride,
                geometry.pads,
                layer_plan.output_spatial,
                layer_plan.input_spatial,
            )
        ]
        present = [axis for axis in found if axis is not None]
        if len(present) == dims:
            phases.append(present)
    shape = (layer_plan.batch, layer_plan.out_channels, *layer_plan.output_spatial)
    filled = sum(math.prod(axis.count for axis in axes) for axes in phases) == math.prod(shape[2:])
    out = np.empty(shape, dtype=inputs.dtype) if filled else np.zeros(shape, dtype=inputs.dtype)
    if not phases:
        return out
    # the input, zero-padded once for every phase: the most any phase reads before and after
    before = [max(max(-axes[a].start, 0) for axes in phases) for a in range(dims)]
    after = [
        max(max(axes[a].start + axes[a].reads - n, 0) for axes in phases)
        for a, n in enumerate(layer_plan.input_spatial)
    ]
    padded = pad_signal(inputs, ((0, 0), (0, 0), *zip(before, after)), "zeros")
    for axes in phases:
        reads: Any = (
            Ellipsis,
            *(slice(b + axis.start, b + axis.start + axis.reads) for b, axis in zip(before, axes)),
        )
        chosen: Any = (
            slice(None),
            slice(None),
            slice(None),
            *np.ix_(*(np.array(axis.taps[::-1]) for axis in axes)),  # reversed: a correlation
        )
        sub = np.ascontiguousarray(grouped[chosen].transpose(0, 2, 1, *range(3, 3 + dims)))
        sub = sub.reshape(layer_plan.out_channels, group_in, *sub.shape[3:])
        window = padded[reads]
        sub_plan = dataclasses.replace(
            layer_plan,
            kernel_shape=sub.shape[2:],
            input_spatial=window.shape[2:],
            output_spatial=tuple(axis.count for axis in axes),
            geometry=plan(
                window.shape[2:], sub.shape[2:], Options(dilation=tuple(axis.step for axis in axes))
            ),
            transposed=False,
        )
        with np.errstate(invalid="ignore", over="ignore"):  # nan and inf in x, as in the sums
            if group_in == 1:
                values = _tap_sums(window, sub, sub_plan, ZEROS)
            else:
                values = _column_sums(window, sub, sub_plan, ZEROS)
        into: Any = (
            Ellipsis,
            *(
                slice(axis.first, axis.first + s * axis.count, s)
                for axis, s in zip(axes, geometry.stride)
            ),
        )
        out[into] = values
    return out


@dataclass(frozen=True)
class _PhaseAxis:
    """One axis of a transposed layer's output phase: the kernel indices that land on it,
    their step (as a dilation of the sub-kernel), the first output cell and how many it
    has, and where in the input the reads start and how many cells they span."""

    taps: list[int]
    step: int
    first: int
    count: int
    start: int
    reads: int


def _phase_axis(
    r: int, size: int, dilation: int, stride: int, before: int, outputs: int, length: int
) -> _PhaseAxis | None:
    """The phase ``r`` of one axis, or None if no tap lands on it or the padding crops
    all of its cells."""
    taps = [k for k in range(size) if k * dilation % stride == r]
    first = (r - before) % stride  # the first output cell of this phase
    count = len(range(first, outputs, stride))
    if not taps or not count:
        return None
    shifts = [k * dilation // stride for k in taps]
    step = shifts[1] - shifts[0] if len(shifts) > 1 else 1
    offset = (first + before - r) // stride  # the phase cell of output cell ``first``
    # phase cell m sums input cells m - shift: the reads run from offset - last shift
    start = offset - shifts[-1]
    return _PhaseAxis(taps, step, first, count, start, count + shifts[-1] - shifts[0])


# --------------------------------------------------------------------------- the terms


@dataclass(frozen=True, eq=False, repr=False)
class LayerTerms(Displayed):
    """A layer written out as its sum, for teaching: each output channel is the bias plus
    one single-channel cross-correlation per input channel of its group.

    ``terms[n, o, j]`` is ``correlate(x[n, channel(o, j)], w[o, j])`` by the engine's
    one-channel sum (``correlate(x, conj(w))`` for complex weights: a layer does not
    conjugate) (for a transposed layer, the one-channel transposed convolution of
    ``x[n, c]`` with ``w[c, o]``), ``output`` the layer computed the fast way, and
    ``agrees`` whether ``bias + terms.sum(axis=2)`` equals it (exactly for integers, to
    1e-12 of the sums' magnitude for floats). ``twin_agrees`` says the same of the twin:
    the forward layer as a sum of convolutions with the flipped weights, or the transposed
    layer as full correlations of the stride-spread input with the flipped weights (which
    an inf or nan weight makes nan where it meets the spread's zeros).
    Arrays are channels-first and batched, whatever the layout given.
    """

    plan: LayerPlan
    spec: Layer
    input: np.ndarray
    weights: np.ndarray
    bias: np.ndarray | None
    terms: np.ndarray
    output: np.ndarray
    agrees: bool
    twin_agrees: bool

    def channel(self, output_channel: int, term: int) -> int:
        """The input channel that term ``term`` of ``output_channel`` reads.

        >>> layer_terms([[1, 2], [3, 4]], [[[1]], [[2]]], groups=2).channel(1, 0)
        1
        """
        return output_channel // self.plan.group_out * self.plan.group_in + term

    def kernel(self, output_channel: int, term: int) -> np.ndarray:
        """The kernel term ``term`` of ``output_channel`` slides (channels-first weights)."""
        if self.spec.transposed:
            local = output_channel % self.plan.group_out
            return self.weights[self.channel(output_channel, term), local]
        return self.weights[output_channel, term]


def layer_terms(
    x: object,
    w: object,
    bias: object = None,
    *,
    stride: PerAxis = 1,
    padding: PaddingSpec = 0,
    dilation: PerAxis = 1,
    groups: int = 1,
    pad_mode: PadMode = "zeros",
    pad_value: PadValue | None = None,
    layout: Layout = "nchw",
    transposed: bool = False,
    output_padding: PerAxis = 0,
    convention: Convention = "convcli",
) -> LayerTerms:
    """The layer :func:`layer` computes, written out as a sum of one-channel operations.

    It shows what a CNN layer is: ``y[n, o] = bias[o] + sum_j correlate(x[n, c_j], w[o, j])``,
    a cross-correlation per input channel (the same layer as a convolution takes the
    flipped weights). Meant for small layers: it keeps every term.

    >>> t = layer_terms([[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]], [[[1, -1], [1, 1]]], [10])
    >>> t.terms[0, 0]
    array([[ 1, -2, -2,  1],
           [ 1,  1,  1,  1]])
    >>> t.output[0, 0], t.agrees, t.twin_agrees
    (array([12,  9,  9, 12]), True, True)
    """
    spec = Layer.parse(
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        pad_mode=pad_mode,
        pad_value=pad_value,
        layout=layout,
        transposed=transposed,
        output_padding=output_padding,
        convention=convention,
    )
    return terms_of(x, w, bias, spec)


def terms_of(x: object, w: object, bias: object, spec: Layer) -> LayerTerms:
    """:func:`layer_terms` with its options as one object."""
    prepared = prepare(x, w, bias, spec)
    layer_plan = prepared.plan
    output = _layer_values(prepared, spec)
    terms = _term_values(prepared.inputs, prepared.weights, layer_plan, spec.options)
    twins = _term_values(prepared.inputs, prepared.weights, layer_plan, spec.options, twin=True)
    base: np.ndarray | int = 0
    if prepared.bias is not None:
        base = _column(prepared.bias, layer_plan.output_spatial)
    with np.errstate(invalid="ignore", over="ignore"):
        sums, twin_sums = terms.sum(axis=2) + base, twins.sum(axis=2) + base
    if output.dtype.kind in "iO" or prepared.integers:
        agrees, twin = bool(np.array_equal(sums, output)), bool(np.array_equal(twin_sums, output))
    else:  # the scale of each output's rounding: the same layer of |x|, |w| and |bias|
        sizes = dataclasses.replace(
            prepared,
            inputs=np.abs(prepared.inputs),
            weights=np.abs(prepared.weights),
            bias=None if prepared.bias is None else np.abs(prepared.bias),
        )
        fill = abs(spec.options.pad_value)
        magnitude = np.abs(
            _layer_values(
                sizes, dataclasses.replace(spec, options=spec.options.replace(pad_value=fill))
            )
        )
        agrees, twin = _close(sums, output, magnitude), _close(twin_sums, output, magnitude)
    return LayerTerms(
        plan=layer_plan,
        spec=spec,
        input=prepared.exact(prepared.inputs),
        weights=prepared.exact(prepared.weights),
        bias=None if prepared.bias is None else prepared.exact(prepared.bias),
        terms=prepared.exact(terms),
        output=prepared.exact(output),
        agrees=agrees,
        twin_agrees=twin,
    )


def _close(a: np.ndarray, b: np.ndarray, magnitude: np.ndarray) -> bool:
    """Whether two float sums agree to 1e-12 of their magnitude (nan where both are nan)."""
    with np.errstate(invalid="ignore"):
        same = (a == b) | (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= 1e-12 * magnitude)
    return bool(same.all())


def _term_values(
    inputs: np.ndarray,
    weights: np.ndarray,
    layer_plan: LayerPlan,
    options: Options,
    twin: bool = False,
) -> np.ndarray:
    """Every one-channel term ``(N, C_out, C_in/groups, *out)``, each by the engine's own
    single-channel sum (``twin``: by the other operation with the flipped kernel)."""
    from convcli.engine import core

    geometry = layer_plan.geometry
    spatial_options = Options(
        padding=geometry.pads,
        stride=geometry.stride,
        dilation=geometry.dilation,
        pad_mode=geometry.pad_mode,
        pad_value=options.pad_value,
        multiply_padding=options.multiply_padding,
    )
    out = np.zeros(
        (
            layer_plan.batch,
            layer_plan.out_channels,
            layer_plan.group_in,
            *layer_plan.output_spatial,
        ),
        dtype=inputs.dtype,
    )
    flip = (slice(None, None, -1),) * layer_plan.dims
    for o in range(layer_plan.out_channels):
        group, local = divmod(o, layer_plan.group_out)
        for j in range(layer_plan.group_in):
            c = group * layer_plan.group_in + j
            for n in range(layer_plan.batch):
                x = inputs[n, c]
                if layer_plan.transposed:
                    kernel = weights[c, local]
                    out[n, o, j] = _transposed_term(x, kernel, layer_plan, options, twin)
                elif twin:
                    out[n, o, j] = core.compute(
                        x, weights[o, j][flip], "convolution", spatial_options
                    ).values
                else:  # the engine's correlation conjugates: the layer does not
                    out[n, o, j] = core.compute(
                        x, np.conj(weights[o, j]), "correlation", spatial_options
                    ).values
    return out


def _transposed_term(
    x: np.ndarray, kernel: np.ndarray, layer_plan: LayerPlan, options: Options, twin: bool
) -> np.ndarray:
    """One channel's transposed convolution, by its definition: input cell ``i`` times tap
    ``k`` added at ``i * stride + k * dilation``, cropped by the padding (``twin``: the
    engine's full correlation of x spread by the stride with the flipped kernel)."""
    geometry = layer_plan.geometry
    if twin:
        from convcli.engine import core

        flipped = np.conj(kernel[(slice(None, None, -1),) * kernel.ndim])
        full = Options(padding="full", dilation=geometry.dilation)
        values = core.compute(spread_by(x, geometry.stride), flipped, "correlation", full).values
    else:
        values = _spread_sum(x[None, None], kernel[None, None], geometry, x.shape)[0, 0]
    return _cropped(values, geometry.pads, layer_plan.output_spatial)


def _spread_sum(
    inputs: np.ndarray, weights: np.ndarray, geometry: Geometry, spatial: tuple[int, ...]
) -> np.ndarray:
    """The uncropped transposed sums of one group's inputs ``(N, C, *spatial)`` and weights
    ``(C, O, *k)``: for each tap, the products of real input cells only (so an inf tap
    meets no zero), added at every ``stride``-th cell from ``tap * dilation``."""
    kernel_shape = weights.shape[2:]
    full = [
        (n - 1) * s + d * (k - 1) + 1
        for n, s, d, k in zip(spatial, geometry.stride, geometry.dilation, kernel_shape)
    ]
    out = np.zeros(
        (inputs.shape[0], weights.shape[1], *full), dtype=np.result_type(inputs, weights)
    )
    with np.errstate(invalid="ignore", over="ignore"):
        for cell in np.ndindex(kernel_shape):
            tap: Any = (slice(None), slice(None), *cell)
            out[_window(cell, geometry, spatial)] += np.einsum(
                "nc...,co->no...", inputs, weights[tap]
            )
    return out


def _cropped(values: np.ndarray, pads: Pads, shape: tuple[int, ...]) -> np.ndarray:
    """The cells ``before .. before + n`` of the trailing axes, zeros past the end."""
    out = np.zeros((*values.shape[: values.ndim - len(shape)], *shape), dtype=values.dtype)
    kept: Any = (
        Ellipsis,
        *(
            slice(b, min(b + n, f))
            for (b, _), n, f in zip(pads, shape, values.shape[-len(shape) :])
        ),
    )
    part = values[kept]
    into: Any = (Ellipsis, *(slice(0, n) for n in part.shape[-len(shape) :]))
    out[into] = part
    return out


# --------------------------------------------------------------------------- wording


def _per_axis(values: tuple, dims: int, name: str) -> tuple:
    """One value for every spatial axis, or one per axis."""
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise LayerError(
            f"{name} gives {_counted(len(values), 'value')} but the layer has "
            f"{_counted(dims, 'spatial axis', 'spatial axes')}"
        )
    return values


def _counted(count: int, noun: str, plural: str = "") -> str:
    """``1 channel``, ``3 channels``."""
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"


def _ints(values: tuple[int, ...]) -> str:
    """``2`` for one value, ``(2, 1)`` for several."""
    return str(values[0]) if len(values) == 1 else str(tuple(values))


def _shape(shape: tuple[int, ...]) -> str:
    """A shape as Python writes a tuple."""
    return str(tuple(shape))


def _pads_text(pads: Pads) -> str:
    """Pads as the padding option writes them (before:after per axis)."""
    return ",".join(f"{b}:{a}" if b != a else str(b) for b, a in pads)


def _input_form(dims: int, channels_last: bool, batched: bool) -> str:
    """An input's axes, e.g. ``(N, C_in, H, W)``."""
    axes = [_SPATIAL_NAMES[dims]]
    axes = [*axes, "C_in"] if channels_last else ["C_in", *axes]
    return "(" + ", ".join((["N"] if batched else []) + axes) + ")"


def _weight_form(dims: int, channels_last: bool, channels: int, groups: int) -> str:
    """The weights that fit an input of ``channels`` channels."""
    per_group = channels // groups if channels % groups == 0 else f"{channels}/{groups}"
    if channels_last:
        return f"({_KERNEL_NAMES[dims]}, {per_group}, C_out)"
    return f"(C_out, {per_group}, {_KERNEL_NAMES[dims]})"


def _transposed_form(dims: int, channels_last: bool) -> str:
    """A transposed layer's weights."""
    if channels_last:
        return f"transposed weights are ({_KERNEL_NAMES[dims]}, C_out, C_in)"
    return f"transposed weights are (C_in, C_out/groups, {_KERNEL_NAMES[dims]})"


def _unbatched_hint(input_shape: tuple[int, ...], dims: int, batched: bool) -> str:
    """Why a batched input of a smaller layer was read as unbatched, where that happened."""
    if batched:
        return ""
    return (
        f"; a {len(input_shape)}-D input to a {dims}-D layer is one unbatched sample "
        f"(for a {dims - 1}-D layer the weights have {dims + 1} axes)"
        if dims > 1
        else ""
    )
