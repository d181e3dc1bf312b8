"""Image file content to and from arrays: PNG and JPEG as grayscale 2-D signals.

Bytes in, bytes out: nothing here opens a file (convcli.cli.inputs reads them and
convcli.cli.outputs writes them, atomically). Pillow, which comes
with the ``plot`` extra (matplotlib depends on it), is imported only when an
image is actually read or written, so plain ``convcli`` works without it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from types import ModuleType
from typing import Any

import numpy as np

from convcli.errors import ConvcliError, InputError
from convcli.options import PNG_SCALES

__all__ = [
    "IMAGE_SUFFIXES",
    "MISSING_PILLOW",
    "SizeCheck",
    "clipped_count",
    "decode_image",
    "encode_png",
    "gray_levels",
    "is_image_name",
]

#: File name endings (lower case) that are read as images rather than as text.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: The error without Pillow, for "reading" or "writing".
MISSING_PILLOW = "{} images needs Pillow, which comes with matplotlib: pip install 'convcli[plot]'"
#: Pillow modes of 16- and 32-bit integer grayscale, read as their exact pixel values.
_WIDE_GRAY_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
_MID_GRAY = 128
#: Pillow modes held in one byte per pixel (others take up to four).
_BYTE_MODES = ("1", "L", "P")


def is_image_name(name: str) -> bool:
    """Whether a file name ends in one of :data:`IMAGE_SUFFIXES` (any letter case).

    >>> is_image_name("photo.JPG"), is_image_name("edges.png"), is_image_name("image.csv")
    (True, True, False)
    """
    return name.lower().endswith(IMAGE_SUFFIXES)


def _pillow(action: str) -> ModuleType:
    """PIL.Image, or a ConvcliError that says ``action`` ("reading", "writing") needs it."""
    try:
        from PIL import Image
    except ImportError:
        raise ConvcliError(MISSING_PILLOW.format(action)) from None
    return Image


@contextmanager
def _quiet_pillow(pil_image: Any) -> Iterator[None]:
    """Decode without Pillow's fixed pixel limit (a warning past 89 million pixels, an error
    past twice that), as convcli's memory guard decides instead, and without its warnings
    (a palette's transparency, corrupt EXIF), which would reach the user as raw text."""
    limit = pil_image.MAX_IMAGE_PIXELS
    pil_image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        pil_image.MAX_IMAGE_PIXELS = limit


#: A check of an image's size before it is decoded: called with its name, its (height,
#: width) and the bytes decoding takes per pixel; it raises to refuse the image.
SizeCheck = Callable[[str, tuple[int, int], int], None]


def _decoding_bytes(image: Any) -> int:
    """Bytes per pixel that decoding an image takes: Pillow's pixels (and an oriented
    copy), the grey levels and the int64 array."""
    stored = 1 if image.mode in _BYTE_MODES else 4
    return 2 * stored + 1 + 8


def decode_image(data: bytes, name: str, check_size: SizeCheck | None = None) -> np.ndarray:
    """The pixels of a PNG or JPEG file's content as a 2-D int64 grayscale array.

    Colour, palette and bilevel images become 8-bit luma (Pillow's ``convert("L")``:
    exact integers 0..255, alpha dropped); 16-bit grayscale PNGs keep their exact
    values 0..65535 rather than being clipped to 255. The EXIF orientation, if
    any, is applied, so photos come out the way viewers show them. ``name`` is
    only used in error messages. ``check_size``, if given, sees the size the image's
    header declares before any pixel is decoded, and may refuse it (the command line's
    memory guard, convcli.cli.limits.check_image, does).
    """
    pil_image = _pillow("reading")
    from PIL import ImageOps

    try:
        with _quiet_pillow(pil_image), pil_image.open(BytesIO(data)) as opened:
            if check_size is not None:
                width, height = opened.size
                check_size(name, (height, width), _decoding_bytes(opened))
            image = ImageOps.exif_transpose(opened)
            if image.mode in _WIDE_GRAY_MODES:
                pixels = np.asarray(image, dtype=np.int64)
            elif image.mode == "F":
                raise InputError(
                    f"{name} has floating-point pixels, which convcli does not read; "
                    "save it as an 8- or 16-bit grayscale PNG"
                )
            else:
                pixels = np.asarray(image.convert("L"), dtype=np.int64)
    except InputError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        reason = str(error) or type(error).__name__
        raise InputError(f"{name} is not a PNG or JPEG image convcli can read: {reason}") from None
    if pixels.ndim != 2 or pixels.size == 0:
        raise InputError(f"{name} did not decode to a 2-D grayscale image (shape {pixels.shape})")
    return pixels


def gray_levels(values: np.ndarray, scale: str = "clip") -> np.ndarray:
    """A 2-D real array as 8-bit grey levels, as :func:`encode_png` writes it.

    ``clip`` keeps the values' own scale, so a 0..255 image comes back
    unchanged: each value rounded to the nearest level, those below 0 (and nan)
    written as 0 and those above 255 as 255. ``abs`` does the same with the
    magnitudes. ``stretch`` maps the smallest finite value to 0 and the largest to
    255, monotonically (a constant array becomes mid-grey, 128; nan 0, +inf 255,
    -inf 0), exactly for integers however large.

    >>> edges = np.array([[0, 5, 10], [-10, 0, 300]])
    >>> gray_levels(edges)
    array([[  0,   5,  10],
           [  0,   0, 255]], dtype=uint8)
    >>> gray_levels(edges, "abs")
    array([[  0,   5,  10],
           [ 10,   0, 255]], dtype=uint8)
    >>> gray_levels(edges, "stretch")
    array([[  8,  12,  16],
           [  0,   8, 255]], dtype=uint8)
    >>> gray_levels(np.array([[7, 7]]), "stretch"), gray_levels(np.array([[np.nan, 1.5, np.inf]]))
    (array([[128, 128]], dtype=uint8), array([[  0,   2, 255]], dtype=uint8))
    """
    return _levels(values, scale)[0]


def clipped_count(values: np.ndarray, scale: str = "clip") -> int:
    """How many values ``clip`` or ``abs`` write as 0 or 255 although they lie outside
    0..255 (nan included); ``stretch`` clips none.

    >>> clipped_count(np.array([[0, 5, -10, 300]])), clipped_count(np.array([[-10]]), "abs")
    (2, 0)
    """
    return _levels(values, scale)[1]


def _levels(values: np.ndarray, scale: str) -> tuple[np.ndarray, int]:
    """Grey levels of a 2-D real array by ``scale``, and how many values were clipped."""
    if scale not in PNG_SCALES:
        raise ConvcliError(f"unknown scale {scale!r}; choose one of {', '.join(PNG_SCALES)}")
    array = np.asarray(values)
    if array.dtype.kind == "c":
        raise ConvcliError(
            "a complex result cannot be written as a grayscale image; "
            "write it as CSV or JSON, or take its real part or magnitude first"
        )
    if array.dtype.kind not in "biufO":
        raise ConvcliError(f"only numbers can be written as an image, not {array.dtype} values")
    if array.ndim != 2:
        raise ConvcliError(
            f"only a 2-D result can be written as an image; this one is {array.ndim}-D"
        )
    if array.size == 0:
        raise ConvcliError(f"an empty result (shape {array.shape}) cannot be written as an image")
    if scale != "stretch":
        return _clipped_levels(array, scale == "abs")
    if array.dtype.kind in "biuO":
        return _integer_levels(array), 0
    return _float_levels(array.astype(np.float64, copy=False)), 0


def _clipped_levels(array: np.ndarray, magnitudes: bool) -> tuple[np.ndarray, int]:
    """Values (or magnitudes) rounded to the nearest level, clipped to 0..255; and the count
    of those outside 0..255 or nan."""
    if array.dtype.kind in "iO":  # exact, and beyond +-256 every value clips alike
        array = np.clip(array, -256, 256)
    floats = array.astype(np.float64)
    if magnitudes:
        floats = np.abs(floats)
    rounded = np.floor(floats + 0.5)
    inside = (rounded >= 0) & (rounded <= 255)  # false for nan
    levels = np.nan_to_num(rounded, nan=0.0, posinf=255.0, neginf=0.0).clip(0, 255)
    return levels.astype(np.uint8), int(array.size - np.count_nonzero(inside))


def _integer_levels(array: np.ndarray) -> np.ndarray:
    """Exact min-max scaling of integers to 0..255 (half-way cases round up)."""
    if array.dtype.kind == "O":
        cells = [int(v) for v in array.flat]
        low, high = min(cells), max(cells)
        if low == high:
            return np.full(array.shape, _MID_GRAY, dtype=np.uint8)
        span = high - low
        levels = [(510 * (v - low) + span) // (2 * span) for v in cells]
        return np.array(levels, dtype=np.uint8).reshape(array.shape)
    low, high = int(array.min()), int(array.max())
    if low == high:
        return np.full(array.shape, _MID_GRAY, dtype=np.uint8)
    span = high - low
    if span < 2**53:
        # value - low fits in int64 and is exact as a float64, so only the final division rounds
        offsets = (array.astype(np.int64) - np.int64(low)).astype(np.float64)
        return np.floor(offsets * (255 / span) + 0.5).clip(0, 255).astype(np.uint8)
    offsets = array.astype(np.float64) - float(low)
    return (
        np.floor(offsets * (255 / (float(high) - float(low))) + 0.5).clip(0, 255).astype(np.uint8)
    )


def _float_levels(array: np.ndarray) -> np.ndarray:
    """Min-max scaling of the finite floats to 0..255; nan 0, -inf 0, +inf 255."""
    finite = np.isfinite(array)
    levels = np.where(array == np.inf, 255, 0).astype(np.uint8)
    if not finite.any():
        return levels
    low, high = float(array[finite].min()), float(array[finite].max())
    if low == high:
        levels[finite] = _MID_GRAY
        return levels
    with np.errstate(over="ignore"):
        span = high - low
        if np.isinf(span):  # e.g. -1e308 and 1e308: scale both ends first
            scaled = (array[finite] / 2 - low / 2) / (high / 2 - low / 2)
        else:
            scaled = (array[finite] - low) / span
    levels[finite] = np.floor(scaled * 255 + 0.5).clip(0, 255).astype(np.uint8)
    return levels


def encode_png(values: np.ndarray, scale: str = "clip") -> bytes:
    """A 2-D real result as the content of an 8-bit grayscale PNG file (see :func:`gray_levels`).

    Complex, non-2-D and empty results are refused with a ConvcliError; grey
    levels hold at most 256 values, so keep CSV or JSON for the exact numbers.
    """
    levels = gray_levels(values, scale)
    pil_image = _pillow("writing")
    buffer = BytesIO()
    pil_image.fromarray(np.ascontiguousarray(levels)).save(buffer, format="PNG")
    return buffer.getvalue()
