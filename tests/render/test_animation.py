"""The GIF of explain: its frames, their timing and size, and what they show."""

from __future__ import annotations

import sys
from io import BytesIO
from itertools import pairwise

import numpy as np
import pytest

from convcli.analysis.steps import Explanation, explain
from convcli.errors import ConvcliError, OptionError
from convcli.options import Options
from convcli.render import animation
from convcli.render.tables import format_cell

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

F = [2, 1, 3, 5, 4]
H = [1, -1]


def both(signal: object, kernel: object, options: Options = Options()) -> list[Explanation]:
    return [explain(signal, kernel, op, options) for op in ("convolution", "correlation")]


def frames(data: bytes) -> tuple[list[np.ndarray], list[int], tuple[int, int]]:
    """Every frame of a GIF as RGB pixels (rows, columns, 3), their durations and size."""
    image = Image.open(BytesIO(data))
    pixels, durations = [], []
    for number in range(image.n_frames):
        image.seek(number)
        durations.append(image.info["duration"])
        pixels.append(np.asarray(image.convert("RGB")).astype(int))
    return pixels, durations, image.size


def colour(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])


def fill_at(pixels: np.ndarray, box: animation.Box) -> np.ndarray:
    """The colour just inside a box's top left corner (away from its text)."""
    return pixels[int(box.y) + 4, int(box.x) + 4]


def test_one_frame_per_step_of_slide_size_and_timing():
    data = animation.gif_bytes(both(F, H, Options(padding="full")), 0.25)
    pixels, durations, size = frames(data)
    assert size == (animation.WIDTH, animation.HEIGHT) == (1280, 720)
    assert len(pixels) == 6  # full padding: 5 + 2 - 1 outputs
    assert durations == [250] * 5 + [250 * animation.HOLD_LAST]
    assert all(not np.array_equal(a, b) for a, b in pairwise(pixels))  # the window moves


@pytest.mark.parametrize(
    ("signal", "kernel", "options"),
    [
        (F, H, Options(padding="full")),
        (list(range(1, 31)), [1, 2, 1], Options(padding="same", stride=(2,))),
        (np.arange(1, 17).reshape(4, 4), [[1, 0], [0, -1]], Options(padding="same")),
        (np.arange(1, 26).reshape(5, 5), np.ones((2, 2)), Options(dilation=(2, 2))),
    ],
)
def test_frames_show_the_engines_steps(signal, kernel, options):
    """Each frame's window, kernel, products and current output are the step's, drawn where
    the scene says: the window's cells lit, the others not."""
    explanations = both(signal, kernel, options)
    pixels, _, _ = frames(animation.gif_bytes(explanations, 0.1))
    scenes = list(animation.scenes(explanations))
    assert len(scenes) == len(pixels) == explanations[0].count
    for number, (scene, frame) in enumerate(zip(scenes, pixels)):
        boxes = scene.boxes
        half = len(boxes) // 2
        for explanation, part in zip(explanations, (boxes[:half], boxes[half:])):
            step = explanation.step(list(explanation.positions())[number])
            shown = {
                role: [b for b in boxes if b.role == role and b in part]
                for role in ("window", "kernel", "product", "current", "signal")
            }
            window = shown["window"]
            in_signal = ~step.padding.ravel()
            if explanation.output.ndim == 1:  # distinct cells, left to right as the step reads them
                assert [b.text for b in window] == [
                    format_cell(v) if inside else f"[{format_cell(v)}]"
                    for v, inside in zip(step.values.flat, in_signal)
                ]
                assert [b.text for b in shown["kernel"]] == [
                    format_cell(v) for v in step.weights.flat
                ]
                assert [b.text for b in shown["product"]] == [
                    format_cell(v) for v in step.products.flat
                ]
            else:
                assert sorted(b.text for b in window) == sorted(  # padding: by its tint
                    format_cell(v) for v in step.values.flat
                )
                assert [b.text for b in shown["kernel"]] == [
                    format_cell(v) for v in step.weights.flat
                ]
            assert [b.text for b in shown["current"]] == [format_cell(step.total)]
            for box in window:
                assert np.abs(fill_at(frame, box) - colour(animation.WINDOW)).max() <= 12
            for box in shown["signal"]:
                assert np.abs(fill_at(frame, box) - 255).max() <= 12


def test_steps_picks_the_frames():
    explanations = [e.only(2, 4) for e in both(list(range(10)), [1, 2, 3])]
    pixels, durations, _ = frames(animation.gif_bytes(explanations, 0.5))
    assert len(pixels) == len(durations) == 2
    first = next(iter(animation.scenes(explanations)))
    current = [b.text for b in first.boxes if b.role == "current"]
    assert current == [format_cell(e.output[2]) for e in explanations]


@pytest.mark.parametrize(
    ("signal", "kernel", "options", "span"),
    [
        (list(range(1010)), H, Options(), (1000, 1003)),
        (list(range(60)), [1, 2, 1], Options(padding="full"), (0, 62)),
        (list(range(300)), [1, 0, -1], Options(stride=(3,)), (80, 84)),
    ],
)
def test_each_output_stands_under_its_window_with_its_index(signal, kernel, options, span):
    explanations = [e.only(*span) for e in both(signal, kernel, options)]
    for scene, number in zip(animation.scenes(explanations), range(*span)):
        for band in (0, 1):  # convolution above, correlation below
            boxes = [b for b in scene.boxes if (b.y < animation.HEIGHT / 2) == (band == 0)]
            window = min(b.x for b in boxes if b.role == "window")
            (current,) = [b for b in boxes if b.role == "current"]
            assert current.x == window
            indices = {b.x: b.text for b in boxes if b.role == "output index"}
            assert indices[current.x] == str(number)
            outputs = [b for b in boxes if b.role in ("output", "current", "pending")]
            assert len(indices) == len(outputs)


def test_one_operation_fills_the_frame():
    explanations = [explain(F, H, "correlation")]
    pixels, _, size = frames(animation.gif_bytes(explanations, 0.1))
    assert size == (1280, 720) and len(pixels) == 4
    scene = next(iter(animation.scenes(explanations)))
    assert max(b.y + b.height for b in scene.boxes) > animation.HEIGHT / 2


def test_one_operation_uses_the_frame_and_labels_stay_clear_of_the_cells():
    explanations = [explain([1 + 2j, 3, 0.5], [1j, 1], "convolution", Options(padding="full"))]
    for scene in animation.scenes(explanations):
        assert max(b.y + b.height for b in scene.boxes) > 0.85 * animation.HEIGHT
        cells = min(b.x for b in scene.boxes if b.fill is not None)
        for label in (b for b in scene.boxes if b.role == "label"):
            written = len(label.text) * 0.62 * label.size * 100 / 72  # bold sans, in pixels
            assert label.x + written <= cells, label.text


def test_2d_padding_is_readable_and_stands_out_from_shades():
    from tests.cli.runner import IMAGE, SOBEL

    scene = next(iter(animation.scenes(both(IMAGE, SOBEL, Options(padding="same")))))
    assert min(b.size for b in scene.boxes if b.role == "padding") >= 10
    red, green, blue = (int(animation.PAD[i : i + 2], 16) for i in (1, 3, 5))
    assert max(red, green, blue) - min(red, green, blue) >= 24  # a tint, not one of the greys


def test_complex_values_are_written_as_numbers():
    explanations = [explain([1 + 2j, 3, 0.5], [1j, 1], "correlation")]
    scene = next(iter(animation.scenes(explanations, digits=3)))
    step = explanations[0].step((0,))
    assert [b.text for b in scene.boxes if b.role == "kernel"] == [
        format_cell(v) for v in step.weights
    ]
    assert [b.text for b in scene.boxes if b.role == "current"] == ["5-1j"]


def test_frame_durations_have_a_floor():
    assert animation.frame_durations(2, 0) == [20, 20 * animation.HOLD_LAST]


@pytest.mark.parametrize("delay", [164.0, float("nan"), float("inf"), -1.0])
def test_a_delay_no_gif_can_hold_is_refused(delay):
    with pytest.raises(OptionError, match="delay="):
        animation.check_delay(delay)
    with pytest.raises(OptionError, match="delay="):
        animation.gif_bytes(both([1, 2], [1]), delay)


@pytest.mark.parametrize("hidden", ["matplotlib", "PIL"])
def test_without_the_plot_extra_the_error_says_how_to_install_it(monkeypatch, hidden):
    for name in [key for key in sys.modules if key == hidden or key.startswith(hidden + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, hidden, None)
    with pytest.raises(ConvcliError) as raised:
        animation.gif_bytes(both(F, H), 0.5)
    assert str(raised.value) == animation.MISSING_PACKAGES
    assert "pip install 'convcli[plot]'" in str(raised.value)


def test_grids_too_large_to_write_are_shaded_and_the_future_stays_blank():
    image = np.zeros((16, 16), dtype=np.int64)
    image[4:8, 4:8] = 9
    explanations = [explain(image, np.ones((3, 3), dtype=np.int64), "correlation").only(40, 41)]
    scene = next(iter(animation.scenes(explanations)))
    signal = [b for b in scene.boxes if b.role in ("signal", "window")]
    assert len(signal) == image.size and all(b.text == "" for b in signal)
    bright = {b.fill for b, value in zip(signal, image.flat) if value == 9 and b.role == "signal"}
    dark = {b.fill for b, value in zip(signal, image.flat) if value == 0 and b.role == "signal"}
    assert bright == {"#737373"} and dark == {"#ffffff"}  # larger magnitudes darker
    pending = [b for b in scene.boxes if b.role == "pending"]
    assert len(pending) == explanations[0].count - 41 and {b.fill for b in pending} == {"#ffffff"}


def test_a_frame_redraws_only_what_changes():
    """A 2-D frame redraws the texts that change (kernel, products, sum, the new output) and
    the cells whose colour changes, not every value of the padded signal."""
    from tests.cli.runner import IMAGE, SOBEL

    explanations = both(IMAGE, SOBEL, Options(padding="same"))
    background, changing = animation.layers(list(animation.scenes(explanations)))
    texts = [[box for box in boxes if box.text] for boxes in changing]
    assert len(changing) == IMAGE.size
    assert max(map(len, texts)) <= 2 * (2 * SOBEL.size + 4 + IMAGE.size // 2)
    assert sum(1 for box in background if box.text) > 2 * IMAGE.size


def test_each_frame_drawn_is_reported():
    counts: list[int] = []
    animation.gif_bytes(both(F, H), 0.1, drawn=counts.append)
    assert counts == [1, 2, 3, 4]


def full_drawing(scene: animation.Scene) -> np.ndarray:
    """A scene drawn whole on a fresh canvas, as RGB pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12.8, 7.2), dpi=100)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, animation.WIDTH)
    axes.set_ylim(animation.HEIGHT, 0)
    axes.set_axis_off()
    animation.draw(axes, list(scene.boxes))
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].astype(int)


@pytest.mark.parametrize(
    ("signal", "kernel"),
    [(list(range(-20, 20)), [1, 2, 1]), (np.arange(25).reshape(5, 5), [[1, 0], [0, -1]])],
)
def test_each_frame_is_its_scene_drawn_whole(signal, kernel):
    """Frames are drawn over a background of what they share: the same as drawing each
    scene whole, up to the GIF's palette and the shade of the lines where a changing cell
    meets a fixed one (drawn in another order)."""
    explanations = [e.only(3, 7) for e in both(signal, kernel)]
    pixels, _, _ = frames(animation.gif_bytes(explanations, 0.1))
    for frame, scene in zip(pixels, animation.scenes(explanations)):
        difference = np.abs(frame - full_drawing(scene))
        assert difference.mean() < 0.5 and difference.max() <= 48  # a missing cell: > 100
        assert np.count_nonzero(difference.max(axis=2) > 32) <= 8  # corners of lines
