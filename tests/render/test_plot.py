"""Figures of comparisons: valid PNG/SVG/PDF/JPEG files of the documented size, labelled panels.

matplotlib is slow to import and to lay out a figure, so each figure is drawn
once per module (fixtures) at a small dpi, and checked in several tests. SVG
files are inspected for structure: matplotlib writes every text as a comment
next to its glyph paths, and every imshow as one <image> element.
"""

from __future__ import annotations

import io
import re
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

from convcli.engine import core as engine
from convcli.errors import ConvcliError, OptionError
from convcli.options import Options
from convcli.render import plot
from tests.examples import IMAGE, SOBEL_X, F

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 40
H = [1, -1]


@pytest.fixture(scope="module")
def matplotlib():
    return pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def pil_image(matplotlib):
    return pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def classic():
    return engine.compare(F, H)


@pytest.fixture(scope="module")
def sobel():
    return engine.compare(IMAGE, SOBEL_X)


@pytest.fixture(scope="module")
def classic_png(matplotlib, classic):
    return plot.figure_bytes(classic, "png", dpi=DPI)


@pytest.fixture(scope="module")
def sobel_png(matplotlib, sobel):
    return plot.figure_bytes(sobel, "fig.PNG", dpi=DPI)


@pytest.fixture(scope="module")
def classic_svg(matplotlib, classic):
    return plot.figure_bytes(classic, "svg", title="the classic example, $1 a go")


@pytest.fixture(scope="module")
def sobel_svg(matplotlib, sobel):
    return plot.figure_bytes(sobel, "svg")


def svg_root(data: bytes) -> ElementTree.Element:
    root = ElementTree.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def texts(svg: bytes) -> list[str]:
    """The strings drawn in an SVG figure: matplotlib writes each as a comment."""
    return re.findall(r"<!-- (.*?) -->", svg.decode())


def axes_count(svg: bytes) -> int:
    return len(set(re.findall(rb'<g id="(axes_\d+)"', svg)))


def png_size(pil_image, data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    with pil_image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        image.load()
        assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 10  # not blank
        return image.size


def test_figure_sizes_are_documented():
    classic, sobel = engine.compare(F, H), engine.compare(IMAGE, SOBEL_X)
    assert plot.figure_inches(classic) == (9.0, 7.5)
    assert plot.figure_size(classic) == (900, 750)
    assert plot.figure_inches(sobel) == (16.0, 4.4)
    assert plot.figure_size(sobel, dpi=50) == (800, 220)
    assert plot.figure_inches(engine.compare(IMAGE * 1j, SOBEL_X)) == (16.0, 7.8)


@pytest.mark.slow
def test_1d_png_is_a_valid_image_of_the_figure_size(pil_image, classic, classic_png):
    assert png_size(pil_image, classic_png) == plot.figure_size(classic, DPI) == (360, 300)


@pytest.mark.slow
def test_2d_png_is_a_valid_image_of_the_figure_size(pil_image, sobel, sobel_png):
    assert png_size(pil_image, sobel_png) == plot.figure_size(sobel, DPI) == (640, 176)


@pytest.mark.slow
def test_1d_svg_has_five_labelled_stem_panels_and_the_verdict(classic_svg):
    root = svg_root(classic_svg)
    assert (root.get("width"), root.get("height")) == ("648pt", "540pt")
    assert axes_count(classic_svg) == 5
    drawn = texts(classic_svg)
    for label in ("signal $f$", "kernel $h$", "flipped kernel flip($h$)"):
        assert label in drawn
    assert "convolution $f * h$" in drawn
    assert r"correlation $f \star h$" in drawn
    assert drawn.count("output index $i$") == 2
    title = drawn[drawn.index("the classic example, $1 a go") :]  # $ is not mathtext here
    verdict = "antisymmetric kernel: flip($h$) = \u2212$h$, so convolution = \u2212correlation"
    assert title[1:3] == [verdict, "padding valid"]


@pytest.mark.slow
def test_2d_svg_has_five_images_three_colour_bars_and_labels(sobel_svg):
    svg_root(sobel_svg)
    assert sobel_svg.count(b"<image ") == 8  # five panels, three colour bars' gradients
    assert axes_count(sobel_svg) == 8  # five panels and three colour bars
    drawn = texts(sobel_svg)
    for title in (["signal $f$", "8\u00d78"], ["kernel $h$", "3\u00d73"]):
        assert drawn[drawn.index(title[0]) + 1] == title[1]  # the shape on a second line
    assert drawn[drawn.index("flip($h$)") + 1] == "$h$ rotated 180\u00b0"
    # matplotlib writes a panel's cell values just before its title
    conv_title, corr_title = "convolution $f * h$", "correlation $f \\star h$"
    assert drawn[drawn.index(corr_title) + 1] == "6\u00d76"
    correlation_cells = drawn[drawn.index(conv_title) + 2 : drawn.index(corr_title)]
    assert correlation_cells.count("\u221236") == 2  # small panels show their values
    # both results on one scale, symmetric around 0: one colour bar, -30 to 30 in steps of 15
    bar = drawn[drawn.index(corr_title) + 2 :]
    assert bar[: bar.index("30") + 1] == ["\u221230", "\u221215", "0", "15", "30"]
    assert (
        bar[-2] == "antisymmetric kernel: flip($h$) = \u2212$h$, so convolution = \u2212correlation"
    )


@pytest.mark.slow
def test_complex_values_are_drawn_as_labelled_real_and_imaginary_parts(matplotlib):
    one_d = plot.figure_bytes(engine.compare([1 + 2j, 3, -1j], [1, 1j]), "svg")
    assert {"real part", "imaginary part"} <= set(texts(one_d))
    two_d = plot.figure_bytes(engine.compare(IMAGE[:4, :4] * (1 - 1j), SOBEL_X), "svg")
    assert two_d.count(b"<image ") == 13  # a real and an imaginary row, and three colour bars
    drawn = texts(two_d)
    assert drawn.count("real part") == drawn.count("imaginary part") == 5
    title = drawn.index("convolution $f * h$")
    assert drawn[title + 1 : title + 3] == ["2\u00d72", "real part"]


@pytest.mark.slow
def test_nonfinite_and_long_signals_still_draw(matplotlib):
    signal = np.sin(np.arange(500) / 9.0)
    signal[7] = np.nan
    one_d = plot.figure_bytes(engine.compare(signal, [0.25, 0.5, 0.25]), "svg")
    assert any("nan/inf not drawn" in text for text in texts(one_d))
    image = IMAGE.astype(float)
    image[0, 0] = np.nan
    two_d = plot.figure_bytes(engine.compare(image, SOBEL_X, Options.parse(padding="same")), "svg")
    assert any("nan/inf in gold" in text for text in texts(two_d))


@pytest.mark.slow
def test_pdf_and_jpeg(pil_image, classic):
    assert plot.figure_bytes(classic, "pdf").startswith(b"%PDF-")
    data = plot.figure_bytes(classic, "photo.jpeg", dpi=DPI)
    assert data.startswith(b"\xff\xd8\xff")
    with pil_image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("JPEG", (360, 300))


@pytest.mark.slow
def test_drawing_leaves_pyplot_alone(matplotlib, classic_png):
    if "matplotlib.pyplot" in sys.modules:
        pytest.skip("pyplot was imported by something else")
    plot.figure_bytes(engine.compare([1, 2], [1]), "png", dpi=10)
    assert "matplotlib.pyplot" not in sys.modules


@pytest.mark.parametrize(
    ("name", "expected"), [("fig.png", "png"), ("A.SVG", "svg"), ("pdf", "pdf"), ("x.jpeg", "jpg")]
)
def test_plot_format_from_names(name, expected):
    assert plot.plot_format(name) == expected


def test_unknown_formats_and_3d_signals_are_refused_before_drawing(monkeypatch):
    hide_matplotlib(monkeypatch)  # the checks must not need matplotlib
    with pytest.raises(ConvcliError, match=r"figure format from 'fig\.gif'.*\.png, \.svg"):
        plot.figure_bytes(engine.compare(F, H), "fig.gif")
    with pytest.raises(ConvcliError, match="1-D and 2-D signals; this one is 3-D"):
        plot.figure_bytes(engine.compare(np.ones((2, 2, 2)), np.ones((1, 1, 1))), "png")


def hide_matplotlib(monkeypatch) -> None:
    """Make `import matplotlib...` fail, as if the plot extra were not installed."""
    for name in [
        key for key in sys.modules if key == "matplotlib" or key.startswith("matplotlib.")
    ]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    hide_matplotlib(monkeypatch)
    with pytest.raises(ConvcliError) as raised:
        plot.figure_bytes(engine.compare(F, H), "png")
    assert str(raised.value) == "plotting needs matplotlib: pip install 'convcli[plot]'"
    assert str(raised.value) == plot.MISSING_MATPLOTLIB


# ------------------------------------------------------------------- sizes and type for slides


def text_points(svg: bytes, text: str) -> float:
    """The size in points matplotlib drew ``text`` at (its glyphs are scaled by points/100)."""
    found = re.search(
        rf"<!-- {re.escape(text)} -->\s*<g transform=\"[^\"]*scale\(([\d.]+) ", svg.decode()
    )
    assert found, text
    return float(found[1]) * 100


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"size": (1000, 500)}, (1000, 500)),
        ({"size": (1000, 700), "dpi": 120}, (1000, 700)),
        ({"style": "projector"}, plot.PROJECTOR_SIZE),
        ({"style": "projector", "dpi": 120}, (1280, 720)),
        ({"style": "projector", "size": (1920, 1080)}, (1920, 1080)),
        ({"dpi": 50}, (450, 375)),
    ],
)
def test_png_has_the_pixel_size_asked_for(pil_image, classic, options, expected):
    data = plot.figure_bytes(classic, "png", **options)
    assert (
        png_size(pil_image, data)
        == expected
        == plot.figure_size(
            classic,
            options.get("dpi", plot.DPI),
            options.get("size"),
            options.get("style", "default"),
        )
    )


def test_2d_png_on_a_slide_has_its_size(pil_image, sobel):
    data = plot.figure_bytes(sobel, "png", style="projector")
    assert png_size(pil_image, data) == (1280, 720)


def test_font_scale_and_the_projector_style_enlarge_the_type(matplotlib, classic):
    def points(**options) -> tuple[float, float]:
        svg = plot.figure_bytes(classic, "svg", **options)
        return text_points(svg, "signal $f$"), text_points(svg, "index $n$")

    default = points()
    halved = points(font_scale=0.5)
    assert default == pytest.approx((2 * halved[0], 2 * halved[1]))
    projector = points(style="projector")
    assert projector[0] > default[0] and projector[1] > default[1]
    assert points(style="projector", font_scale=0.5) == pytest.approx(
        (projector[0] / 2, projector[1] / 2)
    )
    assert default[1] >= 12  # readable when projected: no type below 12 points


def test_an_unknown_style_is_refused(classic):
    with pytest.raises(OptionError, match="style='poster' is not one of default, projector"):
        plot.figure_bytes(classic, "png", style="poster")


def test_the_command_line_offers_the_styles():
    from convcli.cli import main

    assert main.PLOT_STYLES == plot.STYLES


def test_type_too_large_for_the_figure_is_refused(classic):
    with pytest.raises(
        OptionError, match=r"does not fit in 400x300 pixels at 200 dpi: give a larger size"
    ):
        plot.figure_bytes(classic, "png", size=(400, 300), dpi=200)


@pytest.mark.parametrize(("fixture", "scale"), [("classic", 2.0), ("sobel", 1.6)])
def test_projector_type_that_cannot_fit_is_refused(request, fixture, scale):
    """Type too large for a slide: the title would be cut, the panels squashed to slivers or
    their tick labels overlap; refused, not drawn broken."""
    comparison = request.getfixturevalue(fixture)
    with pytest.raises(OptionError, match=r"does not fit in 1280x720 pixels at 100 dpi"):
        plot.figure_bytes(comparison, "png", style="projector", font_scale=scale)


@pytest.mark.parametrize("fixture", ["classic", "sobel"])
def test_projector_type_that_fits_is_drawn(request, pil_image, fixture):
    comparison = request.getfixturevalue(fixture)
    data = plot.figure_bytes(comparison, "png", style="projector", font_scale=1.2)
    assert png_size(pil_image, data) == (1280, 720)


def test_stem_markers_stay_inside_the_axes(matplotlib, classic):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12.8, 7.2), layout="constrained")
    plot._draw_1d(figure, classic, False)
    figure.draw_without_rendering()
    for axes in figure.axes:
        low, high = axes.get_ylim()
        markers = [line for line in axes.get_lines() if line.get_marker() not in ("None", "")]
        values = np.concatenate([line.get_ydata() for line in markers])
        room = 0.08 * (high - low)
        assert low + room <= np.nanmin(values) and np.nanmax(values) <= high - room


def test_the_first_and_last_stems_stay_inside_the_axes_sideways(matplotlib):
    """A long result's end markers, drawn whole: the frame leaves them a marker's room."""
    from matplotlib.figure import Figure

    comparison = engine.compare(np.sin(np.arange(48) / 3), np.ones(9) / 9)
    figure = Figure(figsize=(12.8, 7.2), dpi=100, layout="constrained")
    with plot._look("projector", 1.0):
        plot._draw_1d(figure, comparison, False)
        figure.draw_without_rendering()
    for axes in figure.axes:
        box = axes.get_window_extent()
        for line in axes.get_lines():
            if line.get_marker() in ("None", "") or not len(line.get_xdata()):
                continue
            # the marker's radius and its edge line, and a few pixels to spare
            room = (line.get_markersize() / 2 + line.get_markeredgewidth()) * figure.dpi / 72 + 3
            xs = axes.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]))
            assert box.x0 + room <= xs[:, 0].min() and xs[:, 0].max() + room <= box.x1
