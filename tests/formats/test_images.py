"""Image bytes to arrays and back: exact grayscale decoding, monotone 8-bit encoding, clean errors."""

from __future__ import annotations

import io
import itertools
import math
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli.engine import core as engine
from convcli.errors import ConvcliError, InputError
from convcli.formats import images
from tests.processes import ROOT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SAMPLES = ROOT / "samples"
SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
INT64 = np.iinfo(np.int64)


@pytest.fixture
def pil_image():
    """PIL.Image, or skip: Pillow comes with the optional plot extra."""
    return pytest.importorskip("PIL.Image")


def saved(pil_image, image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def test_image_suffixes_are_lower_case_and_is_image_name_ignores_case():
    assert images.IMAGE_SUFFIXES == (".png", ".jpg", ".jpeg")
    assert images.is_image_name("PHOTO.JPEG")
    assert not images.is_image_name("png")
    assert not images.is_image_name("image.png.csv")


def test_a_0_to_255_ramp_round_trips_exactly(pil_image):
    ramp = np.arange(256, dtype=np.int64).reshape(16, 16)
    data = images.encode_png(ramp)
    back = images.decode_image(data, "ramp.png")
    assert back.dtype == np.int64
    np.testing.assert_array_equal(back, ramp)


def test_encode_png_writes_an_8_bit_grayscale_png_of_the_array_shape(pil_image):
    values = np.linspace(-1.0, 1.0, 15).reshape(3, 5)
    data = images.encode_png(values, "stretch")
    assert data.startswith(PNG_SIGNATURE)
    with pil_image.open(io.BytesIO(data)) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "L", (5, 3))
        pixels = np.asarray(image)
    np.testing.assert_array_equal(pixels, images.gray_levels(values, "stretch"))
    assert pixels.min() == 0 and pixels.max() == 255


@pytest.mark.slow
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=12),
        elements=st.floats(-1e300, 1e300, allow_nan=False),
    )
)
def test_scaling_of_floats_is_monotone_and_spans_0_to_255(values):
    levels = images.gray_levels(values, "stretch")
    assert levels.dtype == np.uint8 and levels.shape == values.shape
    order = np.argsort(values, axis=None, kind="stable")
    assert np.all(np.diff(levels.ravel()[order].astype(int)) >= 0)
    if values.min() < values.max():
        assert np.all(levels[values == values.min()] == 0)
        assert np.all(levels[values == values.max()] == 255)
    else:
        assert np.all(levels == 128)


@pytest.mark.slow
@given(
    st.lists(
        st.integers(-(10**30), 10**30) | st.integers(int(INT64.min), int(INT64.max)),
        min_size=2,
        max_size=30,
    )
)
def test_scaling_of_integers_is_monotone_exact_at_the_ends_and_works_for_big_ones(numbers):
    arrays = [np.array([numbers], dtype=object)]
    if all(INT64.min <= n <= INT64.max for n in numbers):
        arrays.append(np.array([numbers], dtype=np.int64))
    low, high = min(numbers), max(numbers)
    expected_ends = (0, 255) if low < high else (128, 128)
    ordered = sorted(range(len(numbers)), key=numbers.__getitem__)
    for values in arrays:
        levels = images.gray_levels(values, "stretch").ravel()
        assert all(levels[a] <= levels[b] for a, b in itertools.pairwise(ordered))
        assert (levels[numbers.index(low)], levels[numbers.index(high)]) == expected_ends


def test_extreme_ranges_do_not_overflow():
    values = np.array([[INT64.min, 0, INT64.max]], dtype=np.int64)
    np.testing.assert_array_equal(images.gray_levels(values, "stretch"), [[0, 128, 255]])
    np.testing.assert_array_equal(images.gray_levels(values, "abs"), [[255, 0, 255]])
    values = np.array([[-1e308, 0.0, 1e308]])
    np.testing.assert_array_equal(images.gray_levels(values, "stretch"), [[0, 128, 255]])
    big = np.array([[-(10**40), 3, 10**40]], dtype=object)
    np.testing.assert_array_equal(images.gray_levels(big), [[0, 3, 255]])
    np.testing.assert_array_equal(images.gray_levels(big, "abs"), [[255, 3, 255]])
    assert images.clipped_count(big) == 2


def test_constant_nan_and_infinite_values_have_documented_levels():
    stretched = np.full((2, 2), -3.5)
    np.testing.assert_array_equal(images.gray_levels(stretched, "stretch"), np.full((2, 2), 128))
    np.testing.assert_array_equal(images.gray_levels(np.full((1, 2), 7), "stretch"), [[128, 128]])
    values = np.array([[np.nan, -np.inf, 1.0], [2.0, 3.0, np.inf]])
    np.testing.assert_array_equal(
        images.gray_levels(values, "stretch"), [[0, 0, 0], [128, 255, 255]]
    )
    np.testing.assert_array_equal(images.gray_levels(values), [[0, 0, 1], [2, 3, 255]])
    assert images.clipped_count(values) == 3
    nans = np.full((1, 2), np.nan)
    np.testing.assert_array_equal(images.gray_levels(nans, "stretch"), [[0, 0]])


@pytest.mark.slow
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=12),
        elements=st.floats(-1000, 1000, allow_nan=False),
    )
)
def test_clip_rounds_to_the_nearest_level_and_counts_what_it_clips(values):
    """Each value's nearest integer when that lies in 0..255, else 0 or 255; abs likewise
    for the magnitudes (checked against Python's own rounding, cell by cell)."""
    for scale, cells in (("clip", values), ("abs", np.abs(values))):
        nearest = [math.floor(Fraction(v) + Fraction(1, 2)) for v in cells.flat]
        levels = images.gray_levels(values, scale).ravel().tolist()
        assert levels == [min(max(n, 0), 255) for n in nearest]
        assert images.clipped_count(values, scale) == sum(not 0 <= n <= 255 for n in nearest)
    assert images.clipped_count(values, "stretch") == 0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.array([[1 + 2j, 3]]), "complex"),
        (np.arange(5), "2-D"),
        (np.zeros((2, 2, 2)), "3-D"),
        (np.zeros((0, 3)), "empty"),
        (np.array([["a", "b"]]), "numbers"),
    ],
)
def test_encode_png_refuses_what_is_not_a_2d_real_array(values, message):
    with pytest.raises(ConvcliError, match=message):
        images.encode_png(values)


def test_colour_palette_alpha_and_bilevel_images_become_exact_8_bit_luma(pil_image):
    rgb = np.array(
        [[[255, 0, 0], [0, 255, 0], [0, 0, 255]], [[0, 0, 0], [255, 255, 255], [9, 99, 199]]]
    )
    image = pil_image.fromarray(rgb.astype(np.uint8))
    expected = np.asarray(image.convert("L"), dtype=np.int64)
    for variant in (image, image.convert("RGBA"), image.convert("P"), image.convert("LA")):
        decoded = images.decode_image(saved(pil_image, variant), "colour.png")
        assert decoded.dtype == np.int64 and decoded.shape == (2, 3)
        if variant.mode != "P":  # a palette may not hold every colour exactly
            np.testing.assert_array_equal(decoded, expected)
    bilevel = pil_image.fromarray(np.array([[0, 255], [255, 0]], dtype=np.uint8)).convert("1")
    np.testing.assert_array_equal(
        images.decode_image(saved(pil_image, bilevel), "1.png"), [[0, 255], [255, 0]]
    )


def test_pillows_warnings_never_reach_the_user(pil_image):
    """A palette PNG with byte transparency makes Pillow warn as it converts it; reading it
    says nothing (the same holds for Pillow's decompression-bomb warning)."""
    image = pil_image.fromarray(np.array([[0, 1], [2, 3]], dtype=np.uint8), mode="P")
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    data = saved(pil_image, image, transparency=bytes([0, 255, 128, 255]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decoded = images.decode_image(data, "clear.png")
    assert caught == []
    with pil_image.open(io.BytesIO(data)) as opened, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.asarray(opened.convert("L"), dtype=np.int64)
    np.testing.assert_array_equal(decoded, expected)


def test_16_bit_grayscale_keeps_its_exact_values_instead_of_clipping(pil_image):
    deep = np.array([[0, 300, 65535]], dtype=np.uint16)
    decoded = images.decode_image(saved(pil_image, pil_image.fromarray(deep)), "deep.png")
    assert decoded.dtype == np.int64
    np.testing.assert_array_equal(decoded, [[0, 300, 65535]])


def test_jpeg_is_read_as_grayscale_of_its_size(pil_image):
    image = pil_image.new("RGB", (7, 4), (120, 120, 120))
    decoded = images.decode_image(saved(pil_image, image, "JPEG", quality=95), "photo.jpg")
    assert decoded.shape == (4, 7)
    assert np.all(np.abs(decoded - 120) <= 2)


def test_exif_orientation_is_applied_as_viewers_do(pil_image):
    image = pil_image.new("L", (6, 2), 50)
    exif = pil_image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees to show
    data = saved(pil_image, image, "JPEG", exif=exif)
    assert images.decode_image(data, "phone.jpg").shape == (6, 2)


def test_the_sample_image_decodes_and_an_edge_map_encodes_at_the_result_size(pil_image):
    photo = images.decode_image((SAMPLES / "image32.png").read_bytes(), "image32.png")
    assert photo.shape == (32, 32) and photo.dtype == np.int64
    assert 0 <= photo.min() < photo.max() <= 255
    edges = engine.compare(photo, SOBEL_X).convolution
    with pil_image.open(io.BytesIO(images.encode_png(edges))) as image:
        assert (image.mode, image.size) == ("L", (30, 30))


@pytest.mark.parametrize(
    "data",
    [b"", b"convolution,correlation\n1,2\n", PNG_SIGNATURE + b"\x00" * 40],
    ids=["empty", "csv", "bad-chunks"],
)
def test_corrupt_bytes_give_a_clean_input_error_naming_the_file(pil_image, data):
    with pytest.raises(InputError, match=r"^broken\.png is not a PNG or JPEG image"):
        images.decode_image(data, "broken.png")


def test_a_truncated_png_gives_a_clean_input_error(pil_image):
    data = images.encode_png(np.arange(64 * 64).reshape(64, 64) % 251)
    with pytest.raises(InputError, match=r"^cut\.png is not a PNG or JPEG image convcli can read"):
        images.decode_image(data[: len(data) // 2], "cut.png")


def hide_module(monkeypatch, name: str) -> None:
    """Make `import name` (and its submodules) fail, as if the package were not installed."""
    for loaded in [key for key in sys.modules if key == name or key.startswith(f"{name}.")]:
        monkeypatch.setitem(sys.modules, loaded, None)
    monkeypatch.setitem(sys.modules, name, None)


def test_without_pillow_each_direction_says_what_needs_it(monkeypatch):
    hide_module(monkeypatch, "PIL")
    expected = "images needs Pillow, which comes with matplotlib: pip install 'convcli[plot]'"
    with pytest.raises(ConvcliError) as raised:
        images.decode_image(b"\x89PNG", "photo.png")
    assert str(raised.value) == f"reading {expected}"
    with pytest.raises(ConvcliError) as raised:
        images.encode_png(np.eye(3))
    assert str(raised.value) == f"writing {expected}"
    np.testing.assert_array_equal(images.gray_levels(np.eye(2) * 7), [[7, 0], [0, 7]])
