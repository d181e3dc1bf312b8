"""Results as CSV, JSON, NPY and PNG: text or bytes, ready for a file or a pipe.

Writing keeps every number exact: CSV and JSON hold the shortest text that reads back to
the same value (:func:`format_number`), so a CSV written here and read again by
:mod:`convcli.formats.csv` gives the same array, bit for bit. Large CSV is made a block of
rows at a time by polars (:mod:`convcli.formats.bulk`). Nothing here writes anywhere:
convcli.cli.outputs does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from convcli.engine.core import Comparison, Result
from convcli.engine.geometry import Geometry
from convcli.errors import InputError, OutputError
from convcli.formats.cells import format_number, python_csv

if TYPE_CHECKING:  # imported where used, to keep start-up fast
    from convcli.analysis.conventions import Lineup
    from convcli.analysis.gradients import Backward
    from convcli.analysis.kernels import KernelInfo
    from convcli.analysis.layer_gradients import LayerBackward
    from convcli.analysis.layers import Layer, LayerPlan
    from convcli.analysis.steps import Explanation, LayerCell, Step
    from convcli.analysis.xcorr import Delay

__all__ = [
    "CSV_PIECE_VALUES",
    "Piece",
    "as_bytes_or_text",
    "backward_json",
    "comparison_csv",
    "comparison_csv_pieces",
    "comparison_json",
    "comparison_npy",
    "csv_rows",
    "delay_csv",
    "delay_json",
    "explanations_json",
    "format_number",
    "kernels_json",
    "labelled_csv",
    "labelled_csv_pieces",
    "layer_backward_json",
    "layer_cell_json",
    "layer_csv",
    "layer_json",
    "lineup_csv",
    "lineup_json",
    "python_csv",
    "result_csv",
    "result_csv_pieces",
    "result_json",
    "result_npy",
    "result_png",
]

#: Values formatted at a time by csv_rows (larger pieces only hold more text in memory).
CSV_PIECE_VALUES = 1 << 20


def result_csv(values: np.ndarray) -> str:
    """CSV of one result, no header: one value a line (1-D) or one row a line (2-D).

    Each cell is format_number's text. Rows are written independently, so
    the CSV of consecutive blocks of rows, joined, is the CSV of the whole
    array (a streamed result relies on it). This is result_csv_pieces, joined.

    >>> print(result_csv(np.array([[1, 2], [3, 4]])), end="")
    1,2
    3,4
    """
    return _joined(result_csv_pieces(values))


#: A piece of CSV text: text, ASCII bytes, or rows that write themselves into a function
#: taking bytes (:class:`convcli.formats.bulk.Rows`: polars writes them where they go).
Piece = str | bytes | Callable[[Callable[[bytes], None]], None]


def _joined(pieces: Iterator[Piece]) -> str:
    """Pieces of CSV as one str."""
    return "".join(
        piece if isinstance(piece, str) else piece.decode("ascii")
        for piece in as_bytes_or_text(pieces)
    )


def as_bytes_or_text(pieces: Iterable[Piece]) -> Iterator[str | bytes]:
    """Pieces of CSV with rows that write themselves written out.

    >>> list(as_bytes_or_text(["a,b\\n", b"1,2\\n"]))
    ['a,b\\n', b'1,2\\n']
    """
    for piece in pieces:
        if isinstance(piece, (str, bytes)):
            yield piece
        else:
            written: list[bytes] = []
            piece(written.append)
            yield from written


def result_csv_pieces(values: np.ndarray) -> Iterator[Piece]:
    """result_csv's text in pieces of whole rows, each made as it is asked for, so that a
    large result is written without its whole text in memory at once.

    >>> list(result_csv_pieces(np.array([1.5, -2.0])))
    ['1.5\\n-2.0\\n']
    """
    if not values.size:
        return
    rows = values.reshape(values.shape[0], -1)
    yield from csv_rows([rows[:, column] for column in range(rows.shape[1])])


def csv_rows(columns: Sequence[np.ndarray]) -> Iterator[Piece]:
    """CSV rows of equally long 1-D columns, every cell format_number's text, in pieces of
    whole rows made as they are asked for. Large int64, float64 and complex128 columns are
    written by polars (:class:`convcli.formats.bulk.Rows`, which write themselves where
    they go), the rest by Python; the text is the same.

    >>> list(csv_rows([np.arange(2), np.array([0.5, 1e-05])]))
    ['0,0.5\\n1,1e-05\\n']
    """
    length = len(columns[0])
    polars = None
    if all(column.dtype in _POLARS_DTYPES for column in columns):
        from convcli.formats import bulk  # here, not at the top: start-up

        polars = bulk.polars_for(length * len(columns), bulk.WRITE_VALUES)
    step = max(1, CSV_PIECE_VALUES // len(columns))
    for start in range(0, length, step):
        piece = [column[start : start + step] for column in columns]
        yield python_csv(piece) if polars is None else bulk.Rows(polars, piece)


#: The dtypes polars writes (results are these, or object arrays of big ints).
_POLARS_DTYPES = (np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.complex128))


def comparison_csv(comparison: Comparison, lags: tuple[np.ndarray, ...] | None = None) -> str:
    """CSV of a comparison: ``index,convolution,correlation`` (2-D: ``row,col,...``), or
    with ``lags`` (see :func:`labelled_csv`) ``lag,convolution,correlation``.

    >>> from convcli import compare
    >>> print(comparison_csv(compare([2, 1, 3], [1, -1])), end="")
    index,convolution,correlation
    0,-1,1
    1,2,-2
    """
    return _joined(comparison_csv_pieces(comparison, lags))


def comparison_csv_pieces(
    comparison: Comparison, lags: tuple[np.ndarray, ...] | None = None
) -> Iterator[Piece]:
    """comparison_csv's text in pieces of whole rows (:func:`labelled_csv_pieces`)."""
    columns = {"convolution": comparison.convolution, "correlation": comparison.correlation}
    return labelled_csv_pieces(columns, lags)


def labelled_csv(columns: dict[str, np.ndarray], lags: tuple[np.ndarray, ...] | None = None) -> str:
    """CSV with a header, one row per output: its position, then one cell per column.

    The position is the index (``index``; ``row,col,axis2,...`` for 2-D and up) or,
    given the lags along each axis, the lag (``lag``; ``row_lag,col_lag,...``).

    >>> print(labelled_csv({"correlation": np.array([1, -2])}, (np.array([-1, 0]),)), end="")
    lag,correlation
    -1,1
    0,-2
    """
    return _joined(labelled_csv_pieces(columns, lags))


def labelled_csv_pieces(
    columns: dict[str, np.ndarray], lags: tuple[np.ndarray, ...] | None = None
) -> Iterator[Piece]:
    """labelled_csv's text: its header, then its rows in pieces (:func:`csv_rows`)."""
    shape = next(iter(columns.values())).shape
    names = (
        ["index"]
        if len(shape) == 1
        else ["row", "col", *map("axis{}".format, range(2, len(shape)))]
    )
    if lags is None:
        lags = tuple(np.arange(n) for n in shape)
    else:
        names = ["lag"] if len(shape) == 1 else [f"{name}_lag" for name in names]
    yield ",".join([*names, *columns]) + "\n"
    grids = np.meshgrid(*lags, indexing="ij", sparse=True, copy=False)
    positions = [np.broadcast_to(grid, shape).reshape(-1) for grid in grids]
    yield from csv_rows([*positions, *(column.reshape(-1) for column in columns.values())])


def _dumps(document: Any) -> str:
    """A document as one line of strict JSON (no NaN or Infinity tokens)."""
    import json

    return json.dumps(document, allow_nan=False) + "\n"


def explanations_json(explanations: list[Explanation], lags: bool = False) -> Iterator[str]:
    """JSON of ``explain``: every step's cells, values, products and result, per operation;
    with ``lags``, each step's lag too. Written a step at a time (the same text as one
    ``json.dumps``), so a long signal's first steps go out before its last are made."""
    import json

    def opened(document: dict[str, Any], key: str) -> str:
        """The document's JSON, left open after a last key ``key`` holding a list."""
        return _dumps(document)[: -len("}\n")] + f", {json.dumps(key)}: ["

    first = explanations[0].setup
    yield opened(
        {
            "signal": _array_json(first.signal),
            "kernel": _array_json(first.kernel),
            "options": _options_json(explanations[0]),
        },
        "operations",
    )
    for number, explanation in enumerate(explanations):
        operation = {
            "operation": explanation.operation,
            "weights": _array_json(explanation.setup.weights),
            "output": _array_json(explanation.output),
        }
        yield (", " if number else "") + opened(operation, "steps")
        for count, position in enumerate(explanation.positions()):
            step = _step_json(explanation.step(position), explanation, lags)
            yield (", " if count else "") + _dumps(step)[:-1]
        yield "]}"
    yield "]}\n"


def _step_json(step: Step, explanation: Explanation, lags: bool) -> dict[str, Any]:
    """One step's terms: the signal cells read (padding marked), values, products, result."""
    lag = {"lag": list(explanation.lag(step.position))} if lags else {}
    return {
        "index": list(step.position),
        **lag,
        "cells": step.cells.tolist(),
        "padding": step.padding.tolist(),
        "values": _array_json(step.values),
        "products": _array_json(step.products),
        "result": _json_ready(step.total),
    }


def kernels_json(listing: list[KernelInfo]) -> str:
    """JSON of ``convcli kernels``: each name with its description, example, values and verdict."""
    document = [
        {
            "name": info.name,
            "description": info.description,
            "example": info.example,
            "values": _array_json(info.values),
            "symmetry": info.symmetry,
        }
        for info in listing
    ]
    return _dumps(document)


def _json_ready(value: Any) -> Any:
    """Nested lists of JSON values: complex numbers and nan/inf as strings complex()/float() read."""
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if isinstance(value, complex) or (isinstance(value, float) and not np.isfinite(value)):
        return format_number(value)
    return value


def _array_json(values: np.ndarray) -> Any:
    """An array as nested JSON lists (tolist gives Python numbers, whose repr round-trips)."""
    return _json_ready(values.tolist())


def _geometry_json(geometry: Geometry) -> dict[str, Any]:
    """Padding, pad mode, stride and dilation as JSON values."""
    return {
        "padding": geometry.padding,
        "pads": [list(pair) for pair in geometry.pads],
        "pad_mode": geometry.pad_mode,
        "stride": list(geometry.stride),
        "dilation": list(geometry.dilation),
    }


def _options_json(result: Result | Comparison | Explanation | Backward) -> dict[str, Any]:
    """The options a result was computed with, as JSON values."""
    options = _geometry_json(result.geometry)
    method = getattr(result, "method", None)  # a Backward has none
    if method is not None:
        options["method"] = method
    convention = getattr(result, "convention", None)  # set by convcli.analysis.conventions
    if convention is not None:
        options["convention"] = convention
        calls = getattr(result, "calls", None)
        if calls is None:
            options["call"] = getattr(result, "call", "")
        else:
            options["calls"] = dict(zip(("convolution", "correlation"), calls))
        options["notes"] = list(getattr(result, "notes", ()))
    normalize = getattr(result, "normalize", "none")
    if normalize != "none":
        options["normalize"] = normalize
    return options


def _lineup_records(lineup: Lineup) -> list[dict[str, Any]]:
    """One record per library and operation of ``convcli conventions``."""
    return [
        {
            "operation": row.operation,
            "convention": row.convention,
            "function": row.function,
            "call": row.call,
            "shape": None if row.values is None else list(row.values.shape),
            "result": None if row.values is None else _array_json(row.values),
            "agrees": row.agrees,
            "reason": row.reason,
        }
        for row in lineup.rows
    ]


def lineup_json(lineup: Lineup) -> str:
    """JSON of ``convcli conventions``: the inputs, the options and one record per row
    (``agrees`` null and ``result`` null where the library refuses the request)."""
    padding = lineup.padding
    document = {
        "signal": _array_json(lineup.signal),
        "kernel": _array_json(lineup.kernel),
        "options": {
            "padding": padding if isinstance(padding, str) else [list(p) for p in padding],
            "pad_mode": lineup.pad_mode,
            "stride": list(lineup.stride),
            "dilation": list(lineup.dilation),
            "method": lineup.method,
        },
        "rows": _lineup_records(lineup),
    }
    return _dumps(document)


def lineup_csv(lineup: Lineup) -> str:
    """CSV of ``convcli conventions``: one line per library and operation; the result is
    its JSON text (nested lists), empty where the library refuses the request."""
    import csv
    import json
    from io import StringIO

    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ["operation", "convention", "function", "call", "agrees", "shape", "result"]
    writer.writerow([*columns, "reason"])
    for record in _lineup_records(lineup):
        cells = [record[name] for name in columns]
        writer.writerow(
            [
                "" if cell is None else json.dumps(cell) if isinstance(cell, (list, bool)) else cell
                for cell in cells
            ]
            + [record["reason"]]
        )
    return buffer.getvalue()


def _lags_json(lags: tuple[np.ndarray, ...] | None) -> dict[str, Any]:
    """``{"lags": [[...] per axis]}`` when lags are asked for, else nothing."""
    return {} if lags is None else {"lags": [axis.tolist() for axis in lags]}


def backward_json(gradients: Backward) -> str:
    """JSON of ``backward``: the forward result, both gradients, their formulas and the check."""
    document = {
        "forward": gradients.forward,
        "output": _array_json(gradients.output),
        "upstream": _array_json(gradients.upstream),
        "grad_signal": _array_json(gradients.grad_signal),
        "grad_kernel": _array_json(gradients.grad_kernel),
        "formulas": {
            "output": gradients.output_formula,
            "grad_signal": gradients.grad_signal_formula,
            "grad_kernel": gradients.grad_kernel_formula,
        },
        "check": {
            "method": gradients.check_method,
            "largest_difference": _json_ready(gradients.largest_difference),
            "checked_cells": gradients.checked_cells,
        },
        "notes": list(gradients.notes),
        "options": _options_json(gradients),
    }
    return _dumps(document)


def result_json(result: Result, lags: tuple[np.ndarray, ...] | None = None) -> str:
    """JSON of one result: the operation, its values, their shape, the lags along each axis
    (if given) and the options used."""
    document = {
        "operation": result.operation,
        "shape": list(result.values.shape),
        "result": _array_json(result.values),
        **_lags_json(lags),
        "options": _options_json(result),
    }
    return _dumps(document)


def comparison_json(comparison: Comparison, lags: tuple[np.ndarray, ...] | None = None) -> str:
    """JSON of a comparison: both results, the verdict, the inputs, the lags along each
    axis (if given) and the options used."""
    document = {
        "convolution": _array_json(comparison.convolution),
        "correlation": _array_json(comparison.correlation),
        "kernel_symmetry": comparison.kernel_symmetry,
        "identical": comparison.identical,
        "negated": comparison.negated,
        "differing": comparison.differing,
        "shape": list(comparison.convolution.shape),
        "signal": _array_json(comparison.signal),
        "kernel": _array_json(comparison.kernel),
        "flipped_kernel": _array_json(comparison.flipped_kernel),
        **_lags_json(lags),
        "options": _options_json(comparison),
    }
    return _dumps(document)


def delay_json(delay: Delay) -> str:
    """JSON of ``delay``: the lag, refined lag, peak and normalized peak, and the options."""
    document = {
        "lag": delay.lag,
        "refined_lag": delay.refined_lag,
        "peak": _json_ready(delay.peak),
        "normalized_peak": _json_ready(delay.normalized_peak),
        "options": {"max_lag": delay.max_lag, "method": delay.method},
    }
    return _dumps(document)


def delay_csv(delay: Delay) -> str:
    """CSV of ``delay``: a header and one row, ``lag,refined_lag,peak,normalized_peak``."""
    cells = (delay.lag, delay.refined_lag, delay.peak, delay.normalized_peak)
    return "lag,refined_lag,peak,normalized_peak\n" + ",".join(map(format_number, cells)) + "\n"


def _layer_options_json(layer_plan: LayerPlan, spec: Layer) -> dict[str, Any]:
    """A layer's options: its geometry, groups, layout, transposition and convention."""
    constant = {"pad_value": spec.options.pad_value} if spec.options.pad_mode == "constant" else {}
    return {
        **_geometry_json(layer_plan.geometry),
        **constant,
        "groups": layer_plan.groups,
        "layout": spec.layout,
        "transposed": spec.transposed,
        "output_padding": list(spec.output_padding),
        "convention": spec.options.convention,
    }


def layer_json(
    values: np.ndarray,
    layer_plan: LayerPlan,
    spec: Layer,
    shapes: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...] | None],
) -> str:
    """JSON of ``layer``: the output (exact, nested lists), its shape, the shapes of the
    input, weights and bias as given, and the options."""
    input_shape, weight_shape, bias_shape = shapes
    document = {
        "shape": list(values.shape),
        "output": _array_json(values),
        "input_shape": list(input_shape),
        "weights_shape": list(weight_shape),
        "bias_shape": None if bias_shape is None else list(bias_shape),
        "options": _layer_options_json(layer_plan, spec),
    }
    return _dumps(document)


def layer_csv(values: np.ndarray, layer_plan: LayerPlan, spec: Layer) -> Iterator[Piece]:
    """CSV of a 1-D layer's output for one sample: a header ``y0,y1,...`` and one column
    per output channel, one row per position. Other outputs have no such table.

    >>> from convcli.analysis.layers import Layer, plan_layer
    >>> spec = Layer()
    >>> print(_joined(layer_csv(np.array([[1, 2], [3, 4]]), plan_layer((1, 3), (2, 1, 2), None, spec), spec)), end="")
    y0,y1
    1,3
    2,4
    """
    if layer_plan.dims != 1 or layer_plan.batch != 1:
        raise OutputError(
            f"CSV holds the output channels of a 1-D layer of one sample as columns; this "
            f"output has shape {tuple(values.shape)}: write npy or json instead (-o out.npy)"
        )
    table = values.reshape(values.shape[-2:])
    if spec.layout != "nhwc":
        table = table.T
    yield ",".join(f"y{o}" for o in range(layer_plan.out_channels)) + "\n"
    yield from result_csv_pieces(np.ascontiguousarray(table))


def layer_backward_json(gradients: LayerBackward) -> str:
    """JSON of ``backward --layer``: the output, the upstream gradient, the three gradients,
    their formulas, whether dL/dx equals the layer call its formula names, and the check."""
    document = {
        "output": _array_json(gradients.output),
        "upstream": _array_json(gradients.upstream),
        "grad_input": _array_json(gradients.grad_input),
        "grad_weight": _array_json(gradients.grad_weight),
        "grad_bias": _array_json(gradients.grad_bias),
        "formulas": {
            "output": gradients.output_formula,
            "grad_input": gradients.grad_input_formula,
            "grad_weight": gradients.grad_weight_formula,
            "grad_bias": gradients.grad_bias_formula,
        },
        "check": {
            "method": gradients.check_method,
            "largest_difference": _json_ready(gradients.largest_difference),
            "checked_cells": gradients.checked_cells,
            "transpose_agrees": gradients.transpose_agrees,
        },
        "options": _layer_options_json(gradients.plan, gradients.spec),
    }
    return _dumps(document)


def layer_cell_json(cell: LayerCell) -> str:
    """JSON of ``explain --layer``: one output cell as the bias plus, per input channel, the
    products of the kernel taps with the input cells they meet."""
    document = {
        "cell": list(cell.cell),
        "sample": cell.sample,
        "output_channel": cell.output_channel,
        "position": list(cell.position),
        "bias": _json_ready(cell.bias),
        "terms": [
            {
                "input_channel": term.channel,
                "kernel": list(term.kernel),
                "input_cells": term.input_cells.tolist(),
                "kernel_taps": term.weight_cells.tolist(),
                "padding": term.padding.tolist(),
                "values": _array_json(term.values),
                "weights": _array_json(term.weights),
                "products": _array_json(term.products),
                "total": _json_ready(term.total),
            }
            for term in cell.terms
        ],
        "value": _json_ready(cell.value),
        "layer_value": _json_ready(cell.layer_value),
        "agrees": cell.agrees,
        "options": _layer_options_json(cell.plan, cell.spec),
    }
    return _dumps(document)


def result_npy(values: np.ndarray) -> bytes:
    """A result, of any shape, as the content of a .npy file (int64, float64 or complex128).

    >>> from io import BytesIO
    >>> np.load(BytesIO(result_npy(np.array([[1, 2], [3, 4]]))))
    array([[1, 2],
           [3, 4]])
    """
    from io import BytesIO

    if values.dtype == object:  # exact Python ints: fine if they all fit in int64
        try:
            values = values.astype(np.int64)
        except OverflowError:
            raise InputError(
                "the result has integers beyond 64 bits, which .npy cannot hold without "
                "pickling; write CSV or JSON instead (-o result.csv)"
            ) from None
    buffer = BytesIO()
    np.save(buffer, values, allow_pickle=False)
    return buffer.getvalue()


def comparison_npy(comparison: Comparison) -> bytes:
    """Both results of a comparison in one .npy array: ``[0]`` the convolution and ``[1]``
    the correlation (the order of comparison_csv's columns), each of the results' shape.

    >>> from io import BytesIO
    >>> from convcli import compare
    >>> np.load(BytesIO(comparison_npy(compare([2, 1, 3], [1, -1]))))
    array([[-1,  2],
           [ 1, -2]])
    """
    return result_npy(np.stack([comparison.convolution, comparison.correlation]))


def result_png(values: np.ndarray, scale: str = "clip") -> bytes:
    """A 2-D result as an 8-bit grayscale PNG, its values made grey levels by ``scale``
    (see :func:`convcli.formats.images.gray_levels`)."""
    from convcli.formats.images import encode_png

    return encode_png(values, scale)
