"""``convcli explain --animate -o slide.gif``: the animation as a GIF, for slides.

Each frame is one step: the window lit up over the (padded) signal, the kernel as slid
under it, the products, the sum and the output filled in so far; convolution and
correlation one above the other, at the same step. A frame is first laid out as a
:class:`Scene` (boxes and texts in pixels, every number taken from the step), then
drawn with matplotlib on the Agg canvas and the frames joined by Pillow, both from the
``plot`` extra and imported only here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from io import BytesIO
from typing import TYPE_CHECKING

import numpy as np

from convcli.analysis.steps import Explanation, Step
from convcli.errors import ConvcliError, OptionError
from convcli.render.explain import slid_name, step_label, sum_term, visible_cells
from convcli.render.handout import products_text
from convcli.render.tables import HEADINGS, NAMES, display_options, format_cell

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

__all__ = [
    "HEIGHT",
    "LONGEST_DELAY",
    "MAX_FRAMES",
    "MISSING_PACKAGES",
    "WIDTH",
    "Box",
    "Scene",
    "check_delay",
    "frame_durations",
    "gif_bytes",
    "layers",
    "scenes",
]

#: Pixel size of every frame: 720p, the shape of a slide.
WIDTH, HEIGHT = 1280, 720
#: Most frames (steps) one GIF holds; past it, pick a range of steps.
MAX_FRAMES = 200
MISSING_PACKAGES = "a GIF needs matplotlib and Pillow: pip install 'convcli[plot]'"
#: The last frame, every output filled in, stays this many times longer.
HOLD_LAST = 4
#: Longest delay (seconds) a GIF holds: a frame lasts at most 655.35 s (16 bits of 1/100 s)
#: and the last one HOLD_LAST times the delay.
LONGEST_DELAY = 655.35 / HOLD_LAST
#: Shortest frame a GIF viewer shows as asked (browsers slow shorter ones to 0.1 s).
_SHORTEST = 0.02
_DPI = 100
#: Colour-blind-safe fills (Okabe and Ito's orange, sky blue, bluish green and reddish purple,
#: lightened): padding is a tint, apart from the greys of a shaded grid.
WINDOW, KERNEL, OUTPUT, PAD = "#f6c667", "#a6d4f2", "#8fd9c0", "#eccbde"
_INK, _EDGE, _PLAIN = "#000000", "#555555", "#ffffff"
_LABEL_WIDTH = 150
_MARGIN = 16
#: Cells of a 2-D grid above which values are drawn as shades, not written.
_WRITTEN_CELLS = 144


@dataclass(frozen=True)
class Box:
    """A cell (``fill`` set) or a line of text (``fill`` None) at ``x, y`` (its top left,
    in pixels from the frame's top left), ``role`` saying what it shows."""

    x: float
    y: float
    width: float
    height: float
    text: str
    role: str
    fill: str | None = None
    size: float = 16.0
    align: str = "center"
    bold: bool = False


@dataclass(frozen=True)
class Scene:
    """Everything one frame shows."""

    boxes: tuple[Box, ...]


def check_delay(delay: float) -> None:
    """Refuse a ``delay`` (seconds per frame) that is not a number from 0 to
    :data:`LONGEST_DELAY`, before anything is drawn.

    >>> check_delay(200)
    Traceback (most recent call last):
    convcli.errors.OptionError: delay=200 is longer than a GIF's frames can last: at most 163.8375 seconds (its last frame lasts 4 times as long, and a frame at most 655.35 s)
    """
    if not 0 <= delay <= LONGEST_DELAY:
        problem = (
            "is longer than a GIF's frames can last"
            if delay > LONGEST_DELAY
            else "takes a number of seconds from 0"
        )
        raise OptionError(
            f"delay={delay:g} {problem}: at most {LONGEST_DELAY} seconds (its last frame "
            f"lasts {HOLD_LAST} times as long, and a frame at most 655.35 s)"
        )


def frame_durations(count: int, delay: float) -> list[int]:
    """Milliseconds each of ``count`` frames shows: ``delay`` seconds (at least 0.02),
    the last :data:`HOLD_LAST` times longer.

    >>> frame_durations(3, 0.5)
    [500, 500, 2000]
    """
    each = round(max(delay, _SHORTEST) * 1000)
    return [each] * (count - 1) + [each * HOLD_LAST]


def scenes(
    explanations: list[Explanation], lags: bool = False, digits: int | None = None
) -> Iterator[Scene]:
    """The frames' scenes, one per step written out (the steps of every explanation are
    the same positions, shown together), numbers with ``digits`` significant digits."""
    band = HEIGHT / len(explanations)
    with display_options(digits):
        widths = [
            _cell_width(explanation) if explanation.output.ndim == 1 else 0.0
            for explanation in explanations
        ]
        walks = [list(explanation.positions()) for explanation in explanations]
        for number, positions in enumerate(zip(*walks)):
            boxes: list[Box] = []
            for row, (explanation, position) in enumerate(zip(explanations, positions)):
                step = explanation.step(position)
                done = explanation.steps[number] + 1
                top = row * band
                if explanation.output.ndim == 1:
                    boxes += _band_1d(explanation, step, done, lags, top, band, widths[row])
                else:
                    boxes += _band_2d(explanation, step, done, lags, top, band)
            yield Scene(tuple(boxes))


def gif_bytes(
    explanations: list[Explanation],
    delay: float,
    lags: bool = False,
    digits: int | None = None,
    drawn: Callable[[int], None] | None = None,
) -> bytes:
    """The animation of ``explanations`` as a looping GIF of :data:`WIDTH` x
    :data:`HEIGHT` pixels, a frame per step lasting ``delay`` seconds (see
    :func:`frame_durations`); ``drawn(count)`` is told how many frames are drawn so far."""
    check_delay(delay)
    dims = explanations[0].output.ndim
    if dims > 2:
        raise ConvcliError(
            f"a GIF shows 1-D and 2-D signals; this one has {dims} axes (Markdown, LaTeX and "
            "JSON write out any number)"
        )
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from PIL import Image
    except ImportError:
        raise ConvcliError(MISSING_PACKAGES) from None
    figure = Figure(figsize=(WIDTH / _DPI, HEIGHT / _DPI), dpi=_DPI)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, WIDTH)
    axes.set_ylim(HEIGHT, 0)
    axes.set_axis_off()
    fixed, changing = layers(list(scenes(explanations, lags, digits)))
    draw(axes, fixed)
    canvas.draw()
    background = canvas.copy_from_bbox(figure.bbox)
    palette = Image.new("P", (1, 1))
    palette.putpalette(_palette())
    frames: list[Image.Image] = []  # each in the palette (a third of RGB's bytes)
    for boxes in changing:
        canvas.restore_region(background)
        for artist in draw(axes, boxes):
            axes.draw_artist(artist)
            artist.remove()
        rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
        frames.append(rgba.convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE))
        if drawn is not None:
            drawn(len(frames))
    buffer = BytesIO()
    frames[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=frame_durations(len(frames), delay),
        loop=0,
        optimize=False,
        disposal=1,
    )
    return buffer.getvalue()


def layers(every: list[Scene]) -> tuple[list[Box], list[list[Box]]]:
    """The background every frame is drawn over, and what each frame draws over it.

    The background has each cell every frame shows, as most frames show it (its fill and
    text), and each line of text every frame shows alike; a frame draws its cells that
    differ (a lit window, an output filled in), each with its text, and its other texts.

    >>> from convcli.analysis.steps import explain
    >>> steps = explain([1, 2, 3, 4], [1], "convolution").only(2, 4)
    >>> fixed, changing = layers(list(scenes([steps])))
    >>> [sorted(box.text for box in boxes if box.text) for boxes in changing]
    [['1', '3', 'g[2] = 1*3 = 3'], ['1', '3', '3', '4', '4', '4', 'g[3] = 1*4 = 4']]
    """
    drawn = [[replace(box, role="") for box in scene.boxes] for scene in every]
    placed = [{_place(box): box for box in scene if box.fill is not None} for scene in drawn]
    common = {
        place: Counter(frame[place] for frame in placed).most_common(1)[0][0]
        for place in set(placed[0]).intersection(*placed[1:])
    }
    lines = [{box for box in scene if box.fill is None} for scene in drawn]
    fixed_lines = lines[0].intersection(*lines[1:])
    fixed = [*common.values(), *(box for box in drawn[0] if box in fixed_lines)]
    changing = [
        [
            box
            for box in scene
            if (common.get(_place(box)) != box if box.fill is not None else box not in fixed_lines)
        ]
        for scene in drawn
    ]
    return fixed, changing


def _place(box: Box) -> tuple[float, float, float, float]:
    """Where a box is drawn."""
    return box.x, box.y, box.width, box.height


def _palette() -> list[int]:
    """The GIF's colours: from each fill (white, the window, the kernel, the output, the
    padding) to black in 16 steps, so fills stay exact and text keeps smooth edges. (Pillow
    maps a colour to the palette through a cache of 5-bit levels: closer steps would merge.)"""
    colours = []
    for fill in (_PLAIN, WINDOW, KERNEL, OUTPUT, PAD):
        red, green, blue = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
        for step in range(16):
            share = 1 - step / 15
            colours += [round(red * share), round(green * share), round(blue * share)]
    return colours


def draw(axes: Axes, boxes: list[Box]) -> list[Artist]:
    """Add boxes to axes spanning the frame (pixel coordinates, y downwards): their cells
    as one collection, then their texts; the artists added, cells first."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    cells = [box for box in boxes if box.fill is not None]
    collection = PatchCollection(
        [Rectangle((box.x, box.y), box.width, box.height) for box in cells],
        facecolors=[box.fill for box in cells],
        edgecolors=_EDGE,
        linewidths=1.2,
    )
    artists: list[Artist] = [axes.add_collection(collection)]
    for box in boxes:
        if not box.text:
            continue
        x = {"left": box.x, "center": box.x + box.width / 2, "right": box.x + box.width}
        text = axes.text(
            x[box.align],
            box.y + box.height / 2,
            box.text,
            ha=box.align,
            va="center_baseline",
            fontsize=box.size,
            fontweight="bold" if box.bold else "normal",
            color=_INK,
            clip_on=True,
        )
        artists.append(text)
    return artists


def _font(width: float, text: str, largest: float = 18.0) -> float:
    """The font size (points) that fits ``text`` into a cell ``width`` pixels wide."""
    fits = (width - 8) / (0.66 * max(len(text), 1)) * 72 / _DPI  # a digit is 0.64 em wide
    return max(min(largest, fits), 6.0)


def _cell_width(explanation: Explanation) -> float:
    """Pixels per cell of a 1-D frame: room for the widest number any frame shows."""
    prepared = explanation.setup
    texts = [format_cell(value) for value in prepared.weights.flat]
    texts += [sum_term(v, True) for v in prepared.padded[~prepared.in_signal].flat[:1]]
    texts += [format_cell(v) for v in prepared.padded.flat]
    texts += [format_cell(v) for v in explanation.output.flat]
    for position in explanation.positions():
        texts += [format_cell(v) for v in explanation.step(position).products.flat]
    widest = max(map(len, texts))
    return float(min(max(56, 14 * widest + 16), 260))


def _line_size(text: str, largest: float) -> float:
    """The font size (points, at most ``largest``) at which a bold line fits across the frame."""
    return min(largest, (WIDTH - 2 * _MARGIN) / (0.62 * max(len(text), 1)) * 72 / _DPI)


def _heading(explanation: Explanation, top: float, scale: float) -> Box:
    """What the operation does, across the top of its band."""
    text = HEADINGS[explanation.operation]
    return Box(
        _MARGIN,
        top + 6,
        WIDTH - 2 * _MARGIN,
        30 * scale,
        text,
        "heading",
        size=_line_size(text, 17 * scale),
        align="left",
        bold=True,
    )


def _sum_text(explanation: Explanation, step: Step, lags: bool) -> str:
    """``g[1] = (-1)*2 + 1*1 = -1``, or when long ``g[1] = sum of the products = -1``."""
    label = step_label(explanation, step, lags)
    written = products_text(step)
    if len(written) > 90:
        written = "sum of the products"
    return f"{label} = {written} = {format_cell(step.total)}"


def _sum_box(
    explanation: Explanation, step: Step, lags: bool, y: float, height: float, size: float
) -> Box:
    """The step's sum as a line of bold text across the frame, its top at ``y``."""
    text = _sum_text(explanation, step, lags)
    width = WIDTH - 2 * _MARGIN
    size = _line_size(text, size)
    return Box(_MARGIN, y, width, height, text, "sum", size=size, align="left", bold=True)


def _band_1d(
    explanation: Explanation,
    step: Step,
    done: int,
    lags: bool,
    top: float,
    band: float,
    width: float,
) -> list[Box]:
    """One operation's part of a 1-D frame: heading, padded signal with the window lit,
    the kernel as slid and the products under the window, the sum, the output so far."""
    scale = min(band / 360, 2.0)  # one operation: rows twice as high
    grow = min(scale, 1.4)  # cells, labels and their type grow less, to keep cells in view
    height, gap = 44 * scale, 8 * scale
    width *= max(grow, 1)
    prepared = explanation.setup
    before = explanation.geometry.pads[0][0]
    reads = [int(cell) + before for cell in step.cells[:, 0]]
    left = _LABEL_WIDTH * max(grow, 1)
    room = int((WIDTH - left - _MARGIN) // width)
    seen = visible_cells(prepared.padded.size, room, min(reads), max(reads))

    def x(cell: int) -> float:
        return left + (cell - seen.start) * width

    boxes = [_heading(explanation, top, scale)]
    rows = ["n", "f", slid_name(explanation), "products"]
    y = top + 40 * scale
    ruler_height = 22 * scale
    for name, row_y in zip(
        rows,
        (
            y,
            y + ruler_height,
            y + ruler_height + height + gap,
            y + ruler_height + 2 * (height + gap),
        ),
    ):
        row_height = ruler_height if name == "n" else height
        boxes.append(
            Box(
                _MARGIN,
                row_y,
                left - 2 * _MARGIN,
                row_height,
                name,
                "label",
                size=15 * grow,
                align="left",
                bold=True,
            )
        )
    signal_y = y + ruler_height
    kernel_y = signal_y + height + gap
    products_y = kernel_y + height + gap
    for cell in seen:
        boxes.append(
            Box(x(cell), y, width, ruler_height, str(cell - before), "index", size=11 * scale)
        )
        padding = not prepared.in_signal[cell]
        value = prepared.padded[cell]
        text = sum_term(value, True) if padding else format_cell(value)
        lit = cell in reads
        fill = WINDOW if lit else PAD if padding else _PLAIN
        role = "window" if lit else "padding" if padding else "signal"
        boxes.append(
            Box(x(cell), signal_y, width, height, text, role, fill, _font(width, text, 18 * scale))
        )
    for cell, weight, product in zip(reads, step.weights.tolist(), step.products.tolist()):
        if cell in seen:
            for row_y, value, role in (
                (kernel_y, weight, "kernel"),
                (products_y, product, "product"),
            ):
                text = format_cell(value)
                boxes.append(
                    Box(
                        x(cell),
                        row_y,
                        width,
                        height,
                        text,
                        role,
                        KERNEL,
                        _font(width, text, 18 * scale),
                    )
                )
    sum_y = products_y + height + gap
    boxes.append(_sum_box(explanation, step, lags, sum_y, 30 * scale, 16 * scale))
    output_y = sum_y + 30 * scale + gap
    name = NAMES[explanation.operation]
    boxes.append(
        Box(
            _MARGIN,
            output_y,
            left - 2 * _MARGIN,
            height,
            name,
            "label",
            size=15 * grow,
            align="left",
            bold=True,
        )
    )
    # each output under the first cell of its window, its index beneath it
    stride = explanation.geometry.stride[0]
    outputs = explanation.output
    for index in range(-(-seen.start // stride), outputs.size):
        if index * stride >= seen.stop:
            break
        current = index == done - 1
        text = format_cell(outputs[index]) if index < done else "·"
        role = "current" if current else "output" if index < done else "pending"
        fill = OUTPUT if current else _PLAIN
        cell_x = x(index * stride)
        boxes.append(
            Box(cell_x, output_y, width, height, text, role, fill, _font(width, text, 18 * scale))
        )
        boxes.append(
            Box(
                cell_x,
                output_y + height,
                width,
                ruler_height,
                str(index),
                "output index",
                size=11 * scale,
            )
        )
    return boxes


def _grid(
    values: np.ndarray,
    texts: list[str],
    fills: list[str],
    roles: list[str],
    x: float,
    y: float,
    cell: float,
) -> list[Box]:
    """A 2-D array as cells ``cell`` pixels wide from ``x, y``, written if they fit."""
    rows, columns = values.shape
    write = rows * columns <= _WRITTEN_CELLS and cell >= 22
    if not write:  # too many to read: plain cells shaded by magnitude, as an image
        fills = [
            shade if fill == _PLAIN and role != "pending" else fill
            for fill, shade, role in zip(fills, _shades(values), roles)
        ]
    boxes = []
    for number, (i, j) in enumerate(np.ndindex(rows, columns)):
        text = texts[number] if write else ""
        size = _font(cell, text, 16) if write else 10
        box = Box(x + j * cell, y + i * cell, cell, cell, text, roles[number], fills[number], size)
        boxes.append(box)
    return boxes


def _shades(values: np.ndarray) -> list[str]:
    """A grey per cell, darker for larger magnitudes (light enough to read the window by)."""
    try:
        magnitudes = np.abs(np.asarray(values, dtype=np.complex128)).ravel()
    except (OverflowError, TypeError):
        return [_PLAIN] * values.size
    finite = np.where(np.isfinite(magnitudes), magnitudes, 0.0)
    top = finite.max() if finite.size else 0.0
    levels = 1 - 0.55 * (finite / top if top > 0 else finite)
    return ["#" + f"{round(255 * level):02x}" * 3 for level in levels]


def _band_2d(
    explanation: Explanation, step: Step, done: int, lags: bool, top: float, band: float
) -> list[Box]:
    """One operation's part of a 2-D frame: heading, the sum, then the padded signal with
    the window lit, the kernel as slid, the products and the output so far, side by side."""
    scale = min(band / 360, 1.4)
    prepared = explanation.setup
    boxes = [_heading(explanation, top, scale)]
    boxes.append(_sum_box(explanation, step, lags, top + 40 * scale, 28 * scale, 15 * scale))
    grid_top = top + 100 * scale
    room = band - (grid_top - top) - 10
    before = np.array([pad[0] for pad in explanation.geometry.pads])
    lit = np.zeros(prepared.padded.shape, dtype=bool)
    lit[tuple((step.cells + before).reshape(-1, 2).T)] = True
    padding = ~prepared.in_signal
    output = explanation.output
    filled = np.arange(output.size).reshape(output.shape) < done
    current = np.zeros(output.shape, dtype=bool)
    current[step.position] = True
    panes = [
        (
            "padded f" if padding.any() else "f",
            prepared.padded,
            [format_cell(v) for v in prepared.padded.flat],  # padding: by its tint
            [WINDOW if on else PAD if p else _PLAIN for on, p in zip(lit.flat, padding.flat)],
            [
                "window" if on else "padding" if p else "signal"
                for on, p in zip(lit.flat, padding.flat)
            ],
        ),
        (
            slid_name(explanation),
            step.weights,
            [format_cell(v) for v in step.weights.flat],
            [KERNEL] * step.weights.size,
            ["kernel"] * step.weights.size,
        ),
        (
            "products",
            step.products,
            [format_cell(v) for v in step.products.flat],
            [KERNEL] * step.products.size,
            ["product"] * step.products.size,
        ),
        (
            NAMES[explanation.operation],
            output,
            [format_cell(v) if on else "·" for v, on in zip(output.flat, filled.flat)],
            [OUTPUT if now else _PLAIN for now in current.flat],
            [
                "current" if now else "output" if on else "pending"
                for now, on in zip(current.flat, filled.flat)
            ],
        ),
    ]
    # each grid as large as the band's height lets it (at most 60 pixels a cell), all
    # scaled down together if they are wider than the frame; a label is never cut
    cells = [min(room / values.shape[0], 60 * scale) for _, values, *_ in panes]
    widths = [
        max(values.shape[1] * cell, 11 * scale * len(name))
        for (name, values, *_), cell in zip(panes, cells)
    ]
    gap = 30.0
    room_wide = WIDTH - 2 * _MARGIN - gap * (len(panes) - 1)
    shrink = min(1.0, room_wide / sum(widths))
    x = float(_MARGIN)
    for (name, values, texts, fills, roles), cell, width in zip(panes, cells, widths):
        columns = values.shape[1]
        cell *= shrink
        boxes.append(
            Box(
                x,
                grid_top - 30 * scale,
                columns * cell,
                26 * scale,
                name,
                "label",
                size=14 * scale,
                align="left",
                bold=True,
            )
        )
        boxes += _grid(values, texts, fills, roles, x, grid_top, cell)
        x += width * shrink + gap
    return boxes
