"""One figure of a comparison: signal, kernel, flipped kernel, convolution and correlation.

1-D comparisons are drawn as stem plots, 2-D ones as images side by side with
convolution and correlation on one shared colour scale. The figure comes back
as the bytes of a PNG, SVG, PDF or JPEG file, so :mod:`convcli.cli.outputs` writes it
(atomically) and this module never opens a file. matplotlib is the optional
``plot`` extra: it is imported only when a figure is drawn, on the Agg canvas,
without pyplot, so no global plotting state is touched.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import TYPE_CHECKING, Any

import numpy as np

from convcli.engine.core import Comparison
from convcli.engine.geometry import Geometry
from convcli.errors import ConvcliError, OptionError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from matplotlib.typing import RcKeyType

__all__ = [
    "DPI",
    "MISSING_MATPLOTLIB",
    "PLOT_FORMATS",
    "PROJECTOR_SIZE",
    "STYLES",
    "figure_bytes",
    "figure_inches",
    "figure_size",
    "plot_format",
]

MISSING_MATPLOTLIB = "plotting needs matplotlib: pip install 'convcli[plot]'"
#: Formats figure_bytes writes; ``jpeg`` is the same as ``jpg``.
PLOT_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg")
#: Dots per inch of PNG and JPEG figures (SVG and PDF are vector graphics).
DPI = 100
#: Looks of a figure: ``projector`` has larger type and thicker lines, sized for a slide.
STYLES = ("default", "projector")
#: Pixel size of a ``projector`` figure (unless a size is given): a 720p slide.
PROJECTOR_SIZE = (1280, 720)
#: Points of the body text (ticks, labels) per style; titles are 1.2 times larger.
_FONT_POINTS = {"default": 13.0, "projector": 16.0}
#: Points of lines (stems, axes) per style.
_LINE_POINTS = {"default": 1.6, "projector": 2.6}

_INCHES_1D = (9.0, 7.5)
_WIDTH_2D = 16.0
_HEIGHT_2D_ROW = 3.4
_HEIGHT_2D_TITLE = 1.0
_ANNOTATE_CELLS = 8  # 2-D panels at most this many cells wide and high show their values
_LONG_STEMS = 60  # more samples than this: smaller markers
_LINE_SAMPLES = 400  # more samples than this: a line instead of stems
_REAL, _IMAGINARY = "C0", "C3"
_NONFINITE_COLOUR = "gold"
_PANELS = ("signal", "kernel", "flipped", "convolution", "correlation")
_RESULTS = ("convolution", "correlation")
_TITLES = {
    "signal": "signal $f$",
    "kernel": "kernel $h$",
    "flipped": "flipped kernel flip($h$)",
    "convolution": "convolution $f * h$",
    "correlation": r"correlation $f \star h$",
}
#: Shorter titles for 2-D panels, five to a row; a second line gives the shape.
_TITLES_2D = {**_TITLES, "flipped": "flip($h$)"}
_DEFAULT_TITLE = r"convolution $f * h$ and correlation $f \star h$"


def plot_format(name: str) -> str:
    """The figure format a file name or format name asks for: png, svg, pdf or jpg.

    >>> plot_format("fig.PNG"), plot_format("edges.jpeg"), plot_format("svg")
    ('png', 'jpg', 'svg')
    """
    text = name.strip().lower()
    suffix = text.rsplit(".", 1)[-1]
    if suffix not in PLOT_FORMATS:
        raise OptionError(
            f"cannot tell the figure format from {name!r}; "
            f"use a name ending in .{', .'.join(PLOT_FORMATS)}"
        )
    return "jpg" if suffix == "jpeg" else suffix


def figure_inches(
    comparison: Comparison,
    size: tuple[int, int] | None = None,
    dpi: float = DPI,
    style: str = "default",
) -> tuple[float, float]:
    """Width and height of the comparison's figure in inches: ``size`` pixels at ``dpi``
    if given (or :data:`PROJECTOR_SIZE` for the projector style), else its own shape.

    1-D: 9 x 7.5. 2-D: 16 wide, 4.4 high, or 7.8 high for complex values
    (a row of real parts and a row of imaginary parts).
    """
    ndim = _check_dimensions(comparison)
    if size is None and style == "projector":
        size = PROJECTOR_SIZE
    if size is not None:
        return (size[0] / dpi, size[1] / dpi)
    if ndim == 1:
        return _INCHES_1D
    rows = len(_parts_names(comparison))
    return (_WIDTH_2D, _HEIGHT_2D_TITLE + rows * _HEIGHT_2D_ROW)


def figure_size(
    comparison: Comparison,
    dpi: float = DPI,
    size: tuple[int, int] | None = None,
    style: str = "default",
) -> tuple[int, int]:
    """Width and height in pixels of the PNG or JPEG figure_bytes makes at this dpi.

    >>> from convcli import compare
    >>> figure_size(compare([2, 1, 3, 5, 4], [1, -1]))
    (900, 750)
    >>> figure_size(compare(np.eye(8), np.ones((3, 3))), dpi=50)
    (800, 220)
    >>> figure_size(compare(np.eye(8), np.ones((3, 3))), dpi=300, style="projector")
    (1280, 720)
    """
    width, height = figure_inches(comparison, size, dpi, style)
    return (round(width * dpi), round(height * dpi))


def figure_bytes(
    comparison: Comparison,
    image_format: str,
    title: str | None = None,
    *,
    dpi: float = DPI,
    lags: bool = False,
    size: tuple[int, int] | None = None,
    font_scale: float = 1.0,
    style: str = "default",
) -> bytes:
    """Draw the comparison as one figure and return the content of its file.

    ``image_format`` is ``png``, ``svg``, ``pdf`` or ``jpg`` (or a file name
    ending in one); ``title`` (plain text, ``$`` is not math) replaces the first
    line of the figure's title, which is followed by the kernel's symmetry
    verdict and the padding options. Complex values are drawn as real and
    imaginary parts, and labelled so. ``size`` (pixels) and ``dpi`` set the pixel
    size of PNG and JPEG figures (:func:`figure_size`); type is set in points, so a
    higher ``dpi`` makes it larger within the same pixels, as ``font_scale`` does.
    ``style`` is one of :data:`STYLES`. With ``lags``, the results' axes are
    labelled with each output's lag instead of its index.
    """
    kind = plot_format(image_format)
    ndim = _check_dimensions(comparison)
    if style not in STYLES:
        raise OptionError(f"style={style!r} is not one of {', '.join(STYLES)}")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ConvcliError(MISSING_MATPLOTLIB) from None
    with _look(style, font_scale):
        inches = figure_inches(comparison, size, dpi, style)
        figure = Figure(figsize=inches, dpi=dpi, layout="constrained")
        FigureCanvasAgg(figure)
        heading = _DEFAULT_TITLE if title is None else title.replace("$", r"\$")
        lines = (heading, _verdict(comparison), _options_text(comparison))
        # the title first, so the panels' cells are measured where they end up
        heading_text = figure.suptitle("\n".join(lines))
        if ndim == 1:
            _draw_1d(figure, comparison, lags)
        else:
            _draw_2d(figure, comparison, lags)
        options: dict[str, Any] = {"format": kind, "dpi": dpi}
        if kind in ("svg", "pdf"):
            options["metadata"] = {"Date": None} if kind == "svg" else {"CreationDate": None}
        if kind == "jpg":
            options["pil_kwargs"] = {"quality": 92}
        buffer = BytesIO()
        with warnings.catch_warnings():
            warnings.filterwarnings("error", "constrained_layout not applied", UserWarning)
            try:
                figure.savefig(buffer, **options)
                fits = _type_fits(figure, heading_text)
            except UserWarning:
                fits = False
        if not fits:
            width, height = figure_size(comparison, dpi, size, style)
            raise OptionError(
                f"the figure's type does not fit in {width}x{height} pixels at {dpi:g} dpi: "
                "give a larger size, a lower dpi or a smaller font scale"
            )
    return buffer.getvalue()


def _type_fits(figure: Figure, heading: Text) -> bool:
    """Whether the figure as drawn is readable: its titles inside it, every panel at least
    two lines of body text high and wide, and no two tick labels of an axis overlapping
    (constrained layout squashes panels to slivers rather than fail)."""
    from matplotlib import rcParams

    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = figure.bbox.padded(1)
    for title in [heading, *(axes.title for axes in figure.axes)]:
        if title.get_text():
            extent = title.get_window_extent(renderer)
            if not (frame.x0 <= extent.x0 and extent.x1 <= frame.x1 and extent.y1 <= frame.y1):
                return False
    least = 2 * rcParams["font.size"] * figure.dpi / 72
    for axes in figure.axes:
        box = axes.get_window_extent(renderer)
        if box.width < least or box.height < least:
            return False
        for axis in (axes.xaxis, axes.yaxis):
            low, high = sorted(axis.get_view_interval())
            extents = [
                label.get_window_extent(renderer).padded(-1)
                for location, label in zip(axis.get_majorticklocs(), axis.get_majorticklabels())
                if low <= location <= high and label.get_visible() and label.get_text()
            ]
            if any(a.overlaps(b) for i, a in enumerate(extents) for b in extents[i + 1 :]):
                return False
    return True


@contextmanager
def _look(style: str, font_scale: float) -> Iterator[None]:
    """matplotlib's settings for a style, type scaled by ``font_scale``, while a figure is
    drawn (and restored after it)."""
    from matplotlib import rc_context

    points = _FONT_POINTS[style] * font_scale
    line = _LINE_POINTS[style]
    settings: dict[RcKeyType, Any] = {
        "font.size": points,
        "axes.titlesize": points * 1.15,
        "figure.titlesize": points * 1.15,
        "axes.labelsize": points,
        "xtick.labelsize": points * 0.9,
        "ytick.labelsize": points * 0.9,
        "legend.fontsize": points * 0.9,
        "lines.linewidth": line,
        "lines.markersize": 4 * line,
        "axes.linewidth": line * 0.6,
        "xtick.major.width": line * 0.6,
        "ytick.major.width": line * 0.6,
        "text.color": "black",
        "axes.labelcolor": "black",
        "xtick.color": "black",
        "ytick.color": "black",
        "axes.edgecolor": "black",
    }
    with rc_context(settings):
        yield


def _check_dimensions(comparison: Comparison) -> int:
    """The comparison's number of axes, which must be 1 or 2."""
    ndim = comparison.signal.ndim
    if ndim not in (1, 2):
        raise ConvcliError(f"plot draws 1-D and 2-D signals; this one is {ndim}-D")
    return ndim


def _is_complex(comparison: Comparison) -> bool:
    """Whether any array of the comparison is complex, so parts must be drawn."""
    arrays = (comparison.signal, comparison.kernel, comparison.convolution)
    return any(array.dtype.kind == "c" for array in arrays)


def _parts_names(comparison: Comparison) -> tuple[str, ...]:
    """The parts drawn of every value: the value itself, or real and imaginary parts."""
    return ("real part", "imaginary part") if _is_complex(comparison) else ("",)


def _as_float(values: np.ndarray) -> np.ndarray:
    """Values as float64 (complex128 stays complex); exact big integers beyond float become inf."""
    if values.dtype.kind == "c":
        return values.astype(np.complex128)
    if values.dtype.kind == "O":
        return np.array([_big_float(v) for v in values.flat], dtype=np.float64).reshape(
            values.shape
        )
    return values.astype(np.float64)


def _big_float(value: int) -> float:
    """A Python int as the nearest float, or +-inf past the float range."""
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def _parts(values: np.ndarray, complex_figure: bool) -> list[np.ndarray]:
    """The float arrays drawn for one array: itself, or its real and imaginary parts."""
    floats = _as_float(values)
    if not complex_figure:
        return [floats]
    return [np.real(floats).astype(np.float64), np.imag(floats).astype(np.float64)]


def _panel_arrays(comparison: Comparison) -> dict[str, np.ndarray]:
    """The five arrays of the figure, by panel name."""
    return {
        "signal": comparison.signal,
        "kernel": comparison.kernel,
        "flipped": comparison.flipped_kernel,
        "convolution": comparison.convolution,
        "correlation": comparison.correlation,
    }


def _verdict(comparison: Comparison) -> str:
    """The kernel's symmetry and what it means for the two results, in one line."""
    h = "conj($h$)" if comparison.kernel.dtype.kind == "c" else "$h$"
    if comparison.kernel_symmetry == "symmetric":
        return f"symmetric kernel: flip($h$) = {h}, so convolution = correlation"
    if comparison.kernel_symmetry == "antisymmetric":
        return f"antisymmetric kernel: flip($h$) = \u2212{h}, so convolution = \u2212correlation"
    verdict = f"kernel symmetry none: flip($h$) \u2260 \u00b1{h}"
    if comparison.identical:
        return f"{verdict}, yet the results agree for this signal"
    if comparison.negated:
        return f"{verdict}, yet the results are opposite for this signal"
    differing, positions = comparison.differing, comparison.equal.size
    return f"{verdict}, so the results differ at {differing} of {positions} positions"


def _options_text(comparison: Comparison) -> str:
    """The geometry options, leaving out those at their defaults."""
    geometry = comparison.geometry
    words = [f"padding {geometry.padding}"]
    if geometry.padding == "explicit":
        words[0] = "padding " + ", ".join(f"{a}:{b}" for a, b in geometry.pads)
    if geometry.pad_mode != "zeros" and any(n for pair in geometry.pads for n in pair):
        words.append(f"pad mode {geometry.pad_mode}")
    for name, values in (("stride", geometry.stride), ("dilation", geometry.dilation)):
        if any(n != 1 for n in values):
            shown = values[:1] if len(set(values)) == 1 else values
            words.append(f"{name} {','.join(map(str, shown))}")
    return ", ".join(words)


def _nonfinite_note(parts: list[np.ndarray], what: str) -> str:
    """A title suffix counting the nan and inf values, which cannot be drawn as stems."""
    count = sum(int(np.count_nonzero(~np.isfinite(part))) for part in parts)
    return f"\n({count} nan/inf {what})" if count else ""


# 1-D: stem plots ---------------------------------------------------------------------------


def _draw_1d(figure: Figure, comparison: Comparison, lags: bool) -> None:
    """Signal across the top; kernel and flipped kernel; convolution and correlation (their
    axes in lags if ``lags``)."""
    from matplotlib import rcParams
    from matplotlib.ticker import MaxNLocator

    line = rcParams["lines.linewidth"]
    complex_figure = _is_complex(comparison)
    grid = figure.add_gridspec(3, 2)
    signal_axes = figure.add_subplot(grid[0, :])
    kernel_axes = figure.add_subplot(grid[1, 0])
    flipped_axes = figure.add_subplot(grid[1, 1], sharey=kernel_axes)
    convolution_axes = figure.add_subplot(grid[2, 0])
    correlation_axes = figure.add_subplot(grid[2, 1], sharey=convolution_axes)
    panels = {
        "signal": (signal_axes, "index $n$"),
        "kernel": (kernel_axes, "index $k$"),
        "flipped": (flipped_axes, "index $k$"),
        "convolution": (convolution_axes, "output index $i$"),
        "correlation": (correlation_axes, "output index $i$"),
    }
    arrays = _panel_arrays(comparison)
    for name, (axes, xlabel) in panels.items():
        parts = _parts(arrays[name], complex_figure)
        _stems(axes, parts)
        axes.margins(y=0.12)  # a marker at either end whole inside the frame
        title = _TITLES[name] + _nonfinite_note(parts, "not drawn")
        axes.set_title(title)
        axes.set_xlabel(xlabel)
        axes.xaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True))
        if lags and name in _RESULTS:
            _label_lags(axes, comparison.geometry)
        if all(_whole_numbers(part) for part in parts):
            axes.yaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True))
        axes.axhline(0, color="0.45", linewidth=line * 0.5, zorder=0)
        axes.grid(axis="y", color="0.85", linewidth=line * 0.4)
        axes.set_axisbelow(True)
    if complex_figure:
        handles = signal_axes.get_legend_handles_labels()
        figure.legend(*handles, loc="outside lower center", ncols=2)


def _stems(axes: Axes, parts: list[np.ndarray]) -> None:
    """Stem plot of one array, or of its real and imaginary parts side by side.

    Past a few hundred samples stems merge into a solid band (and make huge
    SVG files), so long arrays are drawn as lines through the values instead.
    """
    from matplotlib import rcParams

    line = rcParams["lines.linewidth"]
    length = parts[0].size
    styles = [(_REAL, "o", "real part"), (_IMAGINARY, "D", "imaginary part")]
    offsets = [0.0] if len(parts) == 1 or length > _LINE_SAMPLES else [-0.12, 0.12]
    for part, offset, (colour, marker, label) in zip(parts, offsets, styles):
        shown = np.where(np.isfinite(part), part, np.nan)
        legend = label if len(parts) > 1 else None
        if length > _LINE_SAMPLES:
            axes.plot(np.arange(length), shown, color=colour, linewidth=line * 0.5, label=legend)
            continue
        stems = axes.stem(
            np.arange(length) + offset,
            shown,
            linefmt=colour,
            markerfmt=marker,
            basefmt=" ",
            label=legend,
        )
        stems.markerline.set_color(colour)
        short = length <= _LONG_STEMS
        stems.markerline.set_markersize(rcParams["lines.markersize"] * (1 if short else 0.4))
        stems.stemlines.set_linewidth(line * (1 if short else 0.5))
    pad = max(0.6, 0.03 * length)  # room for the end markers, whatever the number of stems
    axes.set_xlim(-pad, length - 1 + pad)


def lag_label(geometry: Geometry, axis: int) -> Callable[[float, object], str]:
    """A tick formatter that shows the lag of the output at an index along ``axis`` (with
    matplotlib's minus sign).

    >>> from convcli.engine.geometry import plan
    >>> from convcli.options import Options
    >>> lag_label(plan((5,), (2,), Options(padding="full")), 0)(3.0, None)
    '2'
    """
    from convcli.analysis.xcorr import output_lags

    def label(index: float, _position: object) -> str:
        position = [0] * len(geometry.stride)
        position[axis] = round(index)
        return str(output_lags(geometry, tuple(position))[axis]).replace("-", "\u2212")

    return label


def _label_lags(axes: Axes, geometry: Geometry) -> None:
    """Label a result's axes with lags: ``lag m`` (1-D), row and column lags (2-D)."""
    from matplotlib.ticker import FuncFormatter

    ndim = len(geometry.stride)
    axes.xaxis.set_major_formatter(FuncFormatter(lag_label(geometry, ndim - 1)))
    axes.set_xlabel("lag $m$" if ndim == 1 else "column lag")
    if ndim == 2:
        axes.yaxis.set_major_formatter(FuncFormatter(lag_label(geometry, 0)))
        axes.set_ylabel("row lag")


# 2-D: images side by side ------------------------------------------------------------------


def _draw_2d(figure: Figure, comparison: Comparison, lags: bool) -> None:
    """Five images in a row (two rows for complex values), three colour scales; the
    results' axes in lags if ``lags``.

    The signal has its own scale, kernel and flipped kernel share one, and
    convolution and correlation share one, so equal colours mean equal values.
    """
    from matplotlib.ticker import MaxNLocator

    complex_figure = _is_complex(comparison)
    row_names = _parts_names(comparison)
    panes = _image_axes(figure, len(row_names))
    arrays = _panel_arrays(comparison)
    parts = {name: _parts(arrays[name], complex_figure) for name in _PANELS}
    groups = (("signal",), ("kernel", "flipped"), ("convolution", "correlation"))
    annotated: list[tuple[Axes, int, list[Text]]] = []
    for group in groups:
        colourmap, low, high = _colour_scale([part for name in group for part in parts[name]])
        image = None
        for name in group:
            for row, row_name in enumerate(row_names):
                axes = panes[name][row]
                values = parts[name][row]
                image = axes.imshow(values, cmap=colourmap, vmin=low, vmax=high)
                _style_image_axes(axes, values, row_name, name, row == 0 and name == "signal")
                if lags and name in _RESULTS:
                    _label_lags(axes, comparison.geometry)
                if max(values.shape) <= _ANNOTATE_CELLS:
                    annotated.append((axes, values.shape[1], _annotate(axes, values, image)))
        assert image is not None  # every group has a panel and every panel a row
        # beside the group's last panel, as tall as its image (not as its grid cell)
        beside = panes[group[-1]][0].inset_axes((1.06, 0.0, 0.07, 1.0))
        bar = figure.colorbar(image, cax=beside)
        whole = all(_whole_numbers(part) for name in group for part in parts[name])
        bar.locator = MaxNLocator(nbins=6, integer=whole)  # few enough for large type
    if annotated:
        _fit_annotations(figure, annotated)


def _image_axes(figure: Figure, parts: int) -> dict[str, list[Axes]]:
    """Each panel's axes, one per part drawn: five in a row (a row per part), or on a
    figure less than 2.5 times as wide as high (a slide), inputs above and results below."""
    width, height = figure.get_size_inches()
    if parts == 1 and width < 2.5 * height:
        grid = figure.add_gridspec(2, 6)
        slots = (grid[0, 0:2], grid[0, 2:4], grid[0, 4:6], grid[1, 0:3], grid[1, 3:6])
        return {name: [figure.add_subplot(slot)] for name, slot in zip(_PANELS, slots)}
    rows = figure.subplots(parts, len(_PANELS), squeeze=False)
    return {name: list(rows[:, column]) for column, name in enumerate(_PANELS)}


def _whole_numbers(values: np.ndarray) -> bool:
    """Whether every finite value is a whole number, so colour bar ticks should be too."""
    finite = values[np.isfinite(values)]
    return bool(np.all(finite == np.round(finite)))


def _colour_scale(parts: list[np.ndarray]) -> tuple[Any, float, float]:
    """Colour map and limits for arrays drawn on one scale.

    Values of both signs get a diverging map centred on 0 (white), so the sign
    is visible at a glance; one-signed values are grey from their smallest
    to their largest value, as an image viewer shows them. nan and inf cells
    are drawn in gold.
    """
    from matplotlib import colormaps

    finite = np.concatenate([part[np.isfinite(part)] for part in parts])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if low < 0 < high:
        name = "RdBu_r"
        low, high = -max(-low, high), max(-low, high)
    else:
        name = "gray"
        if low == high:
            low, high = low - 1, high + 1
    return colormaps[name].with_extremes(bad=_NONFINITE_COLOUR), low, high


def _style_image_axes(
    axes: Axes, values: np.ndarray, part: str, name: str, label_axes: bool
) -> None:
    """Title with the panel's name, shape and part; integer ticks; row/column labels once."""
    from matplotlib.ticker import MaxNLocator

    rows, columns = values.shape
    title = f"{_TITLES_2D[name]}\n{rows}\u00d7{columns}"
    if name == "flipped":
        title = f"{_TITLES_2D[name]}\n$h$ rotated 180\u00b0"
    if part:
        title += f"\n{part}"
    title += _nonfinite_note([values], "in gold")
    axes.set_title(title)
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    if max(rows, columns) > 6 * min(rows, columns):
        axes.set_aspect("auto")
    if label_axes:
        axes.set_xlabel("column")
        axes.set_ylabel("row")


def _annotate(axes: Axes, values: np.ndarray, image: Any) -> list[Text]:
    """Write each cell's value on it, black or white, whichever reads better on its colour
    (sized later by :func:`_fit_annotations`).

    Minus signs are U+2212, as on the axes and colour bars.
    """
    texts = []
    for (row, column), value in np.ndenumerate(values):
        red, green, blue, _ = image.cmap(image.norm(value)) if np.isfinite(value) else (1, 1, 1, 1)
        luma = 0.299 * red + 0.587 * green + 0.114 * blue
        text = axes.text(
            column,
            row,
            format(value, ".4g").replace("-", "\u2212"),
            ha="center",
            va="center",
            color="black" if luma > 0.5 else "white",
            clip_on=True,
        )
        text.set_in_layout(False)  # inside the axes anyway; measuring every cell is slow
        texts.append(text)
    return texts


def _fit_annotations(figure: Figure, annotated: list[tuple[Axes, int, list[Text]]]) -> None:
    """Size the values written on cells to fit the cells as laid out: at most the body
    text's size, less where the widest value would overflow its cell. ``annotated`` holds
    each panel's axes, its number of columns and its values' texts."""
    from matplotlib import rcParams

    figure.draw_without_rendering()  # lays the panels out, so their cells' size is known
    largest = rcParams["font.size"] * 0.85
    for axes, columns, texts in annotated:
        cell = axes.get_window_extent().width / columns * 72 / figure.dpi  # in points
        widest = max(len(text.get_text()) for text in texts)
        size = max(min(largest, 0.8 * cell / (0.72 * widest)), 4.0)
        for text in texts:
            text.set_fontsize(size)
