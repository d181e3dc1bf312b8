"""Numbers as decimal text and back, for whole arrays at once, exactly as Python does it.

``format_cells`` writes int64, float64 and complex128 arrays in the text that
``repr`` gives each value (floats: the shortest text that reads back to the
same bits), and ``parse_cells`` reads plain decimal numbers with the values
``int()`` and ``float()`` give, in both cases with numpy doing the work for a
whole block of cells instead of one Python call per number. Each works out
exact answers with double-double arithmetic (about 104 bits) and hands the rare
value it cannot settle with certainty (a rounding too close to call, or an
exponent outside the range it handles) to Python's own ``repr`` or ``float``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from convcli.engine.memory import LARGE_WORK, reuse_freed_memory

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

T = TypeVar("T")

__all__ = ["CELL", "format_cells", "parse_cells"]

#: Most values formatted or parsed per round (per thread).
_BLOCK = 1 << 16
_TOL = 2.0**-20  # margin (in units of the 17th digit) below which a decision goes to Python
_DEKKER = 134217729.0  # 2**27 + 1, splits a float64 into two 26-bit halves
_Q_MIN, _Q_MAX = -290, 300  # powers of ten kept as double-doubles (both parts normal)
_FAST_LOW, _FAST_HIGH = 1e-270, 1e270  # magnitudes formatted here (others by repr)
_POW10 = 10 ** np.arange(20, dtype=np.uint64)
_DIGITS = 19  # digits of the largest int64 magnitude, 2**63
_WIDTH = 37  # widest layout after the sign: 16 integer places, '.', 20 fraction places
_ZERO = ord("0")
#: Longest cell parse_cells reads itself (longer ones are left to Python).
CELL = 32
_PART = 19  # digits kept on each side of a decimal point
_INT64_MAX = np.uint64(2**63 - 1)
_SAFE = 2.0**-100  # relative error bound of the double-double arithmetic, with room to spare
#: "00" to "99" as pairs of characters, for writing digits two at a time.
_PAIRS = np.array([ord(f"{i:02}"[0]) | ord(f"{i:02}"[1]) << 8 for i in range(100)], "<u2")


@cache
def _powers_of_ten() -> tuple[np.ndarray, np.ndarray]:
    """10**q for q in [_Q_MIN, _Q_MAX] as high and low float64 parts (hi + lo to 2**-106)."""
    from fractions import Fraction

    high, low = [], []
    for q in range(_Q_MIN, _Q_MAX + 1):
        exact = Fraction(10) ** q
        hi = float(exact)
        high.append(hi)
        low.append(float(exact - Fraction(hi)))
    return np.array(high), np.array(low)


def _in_blocks(work: Callable[[int], T], starts: range) -> list[T]:
    """``work`` for each block start, on all processors at once when there are several
    blocks (numpy lets other threads run while it computes)."""
    if len(starts) < 2:
        return [work(start) for start in starts]
    reuse_freed_memory()
    return list(_workers().map(work, starts))


def _block_size(count: int) -> int:
    """Values per block: up to _BLOCK, and small enough that every processor gets one."""
    return max(LARGE_WORK, min(_BLOCK, -(-count // (os.cpu_count() or 1))))


@cache
def _workers() -> ThreadPoolExecutor:
    """The threads that work on blocks, one per processor (at most 8)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(min(8, os.cpu_count() or 1), thread_name_prefix="convcli")


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dekker's split: a == hi + lo exactly, each with at most 26 significant bits."""
    c = a * _DEKKER
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The product a*b as p + e exactly (p the rounded product), without an FMA."""
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    e = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return p, e


def _dd_times_power(value: np.ndarray, power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """value * 10**power (uint64 value, exact) as an unnormalised double-double p + e."""
    high, low = _powers_of_ten()
    hi = value.astype(np.float64)
    lo = (value - hi.astype(np.uint64)).view(np.int64).astype(np.float64)
    p_hi, p_lo = high[power - _Q_MIN], low[power - _Q_MIN]
    p, e = _two_prod(hi, p_hi)
    return p, e + (hi * p_lo + lo * p_hi + lo * p_lo)


def _scaled(magnitude: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """magnitude * 10**(16 - k) as an integer part (int64) and a fraction in [0, 1)."""
    high, low = _powers_of_ten()
    index = 16 - k - _Q_MIN
    p, e = _two_prod(magnitude, high[index])
    e = e + magnitude * low[index]
    total = p + e
    remainder = e - (total - p)
    below = np.floor(remainder)
    return total.astype(np.int64) + below.astype(np.int64), remainder - below


def _shortest(magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Python's repr digits of positive normal floats: (digits, count, decimal point, settled).

    The value is 0.DIGITS * 10**point. Writes the 17-digit integer part I + F
    of magnitude * 10**(16 - k), then keeps the fewest leading digits whose
    rounding still lies within half an ulp of the value (the nearer candidate
    when two do). ``settled`` is False where some comparison came within
    _TOL of its threshold; those values are left to repr.
    """
    k = np.floor(np.log10(magnitude)).astype(np.int64)
    whole, fraction = _scaled(magnitude, k)
    for _ in range(2):  # log10 can be one off next to a power of ten
        off = (whole < 10**16).astype(np.int64) - (whole >= 10**17)
        if not off.any():
            break
        wrong = np.flatnonzero(off)
        k[wrong] -= off[wrong]
        whole[wrong], fraction[wrong] = _scaled(magnitude[wrong], k[wrong])
    mantissa, exponent = np.frexp(magnitude)
    high, low = _powers_of_ten()
    index = 16 - k - _Q_MIN
    half_ulp = np.ldexp(high[index], exponent - 54) + np.ldexp(low[index], exponent - 54)
    # below a power of two the next float down is half as far away
    half_ulp_below = np.where(mantissa == 0.5, half_ulp / 2, half_ulp)

    count = len(magnitude)
    removed = np.zeros(count, np.int64)
    kept = np.zeros(count, np.int64)
    settled = np.ones(count, bool)

    def candidates(j: int, rows: np.ndarray, *columns: np.ndarray) -> np.ndarray:
        """Of ``rows`` (whose whole, fraction and half-ulps are ``columns``), those with a
        candidate of j trailing zeros close enough: the nearer one is kept, unsure rows
        are marked, and the mask of rows that have one is returned."""
        whole, fraction, below, above = columns
        power = 10**j
        head = whole // power
        rest = whole - head * power
        down = rest + fraction  # distance to the candidate below, head * 10**j
        up = (power - rest) - fraction  # and to the one above
        below_ok, above_ok = down < below, up < above
        unsure = (np.abs(down - below) < _TOL) | (np.abs(up - above) < _TOL)
        unsure |= below_ok & above_ok & (np.abs(down - up) < _TOL)
        settled[rows[unsure]] = False
        fits = below_ok | above_ok
        pick_up = above_ok & ~(below_ok & (down < up))
        kept[rows[fits]] = (head + pick_up)[fits]
        removed[rows[fits]] = j
        return fits

    rows = np.arange(count)
    columns = (whole, fraction, half_ulp_below, half_ulp)
    for j in range(1, 17):  # more trailing zeros while some candidate still fits
        fits = candidates(j, rows, *columns)
        rows, columns = rows[fits], tuple(column[fits] for column in columns)
        if not len(rows):
            break
    rest = np.flatnonzero(removed == 0)  # 17 digits always fit
    candidates(0, rest, whole[rest], fraction[rest], half_ulp_below[rest], half_ulp[rest])
    digits = 17 - removed
    carried = kept == 10 ** (17 - removed)  # 9.99... rounded up to 10
    kept[carried] = 1
    digits[carried] = 1
    return kept.astype(np.uint64), digits, k + 1 + carried, settled


def _digit_chars(values: np.ndarray, columns: int) -> np.ndarray:
    """Decimal digits of uint64 values as characters, right-aligned in ``columns`` columns:
    eight digits at a time in uint32, two at a time from a table."""
    pairs = (columns + 1) // 2
    out = np.empty((len(values), pairs), "<u2")
    rest = values
    for end in range(pairs, 0, -4):  # four pairs of columns (eight digits) at a time
        if end > 4:
            part = (rest % 10**8).astype(np.uint32)
            rest = rest // 10**8
        else:
            part = rest.astype(np.uint32)
        for column in range(end - 1, max(end - 4, 0) - 1, -1):
            quotient = part // 100
            out[:, column] = _PAIRS[part - quotient * 100]
            part = quotient
    return out.view(np.uint8)[:, 2 * pairs - columns :]


def _lead_chars(digits: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The ``count`` digits of each value as characters, left-aligned in 17 columns, then 0s."""
    return _digit_chars(digits * _POW10[17 - count], 17) * _FIRST[count, :17]


#: _FIRST[n]: n ones, then zeros (to keep a row's first n columns).
_FIRST = np.tri(_DIGITS + 1, _DIGITS, -1, dtype=np.uint8)


# Layouts: rows of characters in which 0 marks "nothing here"; a block of cells
# is one such matrix, and its text is the non-zero bytes in row-major order.


def _positional(lead: np.ndarray, point: np.ndarray) -> np.ndarray:
    """0.DIGITS * 10**point as ddd.ddd (at least one digit each side of the point), without
    the point: 16 integer places then 20 fraction places (36 columns).

    Each row's digits go in a row of zeros (the ones it shows, from a table by
    ``point``), and the window that starts ``point + 4`` columns in is taken.
    """
    padded = _ZEROS_SHOWN[point + 3]
    np.maximum(padded[:, 20:37], lead, out=padded[:, 20:37])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 36, axis=1)
    return windows[np.arange(len(point)), point + 4]  # column c: the digit at place 15 - c


def _zeros_shown() -> np.ndarray:
    """For _positional, by point + 3: rows of 57 columns (digits from column 20) with "0"
    where a zero is written: between the digits and the units, and after the point."""
    column = np.arange(57)
    return np.array(
        [
            np.where((column >= 20 + min(point - 1, 0)) & (column < 21 + max(point, 0)), _ZERO, 0)
            for point in range(-3, 17)
        ],
        np.uint8,
    )


_ZEROS_SHOWN = _zeros_shown()


def _scientific(lead: np.ndarray, point: np.ndarray) -> np.ndarray:
    """0.DIGITS * 10**point as d.ddde+XX, Python's layout (23 columns)."""
    cells = np.zeros((len(point), 23), np.uint8)
    cells[:, 0] = lead[:, 0]
    cells[:, 1] = np.where(lead[:, 1] != 0, ord("."), 0)
    cells[:, 2:18] = lead[:, 1:]
    exponent = point - 1
    cells[:, 18] = ord("e")
    cells[:, 19] = np.where(exponent < 0, ord("-"), ord("+"))
    size = np.abs(exponent)
    cells[:, 20] = np.where(size >= 100, size // 100 + _ZERO, 0)
    cells[:, 21] = size // 10 % 10 + _ZERO
    cells[:, 22] = size % 10 + _ZERO
    return cells


def _put(out: np.ndarray, rows: np.ndarray | slice, cells: np.ndarray) -> None:
    """Write a layout's cells into ``out[rows]``; 36 columns are positional, and get their point."""
    if cells.shape[1] == 36:
        out[rows, :16] = cells[:, :16]
        out[rows, 16] = ord(".")
        out[rows, 17:37] = cells[:, 16:]
    else:
        out[rows, : cells.shape[1]] = cells


def _put_text(out: np.ndarray, rows: np.ndarray, texts: list[str]) -> None:
    """Write strings (made by Python) left-aligned into ``out[rows]``."""
    if len(texts):
        width = out.shape[1]
        out[rows] = np.array(texts, dtype=f"S{width}").view(np.uint8).reshape(len(texts), width)


def _write_floats(values: np.ndarray, out: np.ndarray) -> None:
    """Write repr() of each float64 value into the rows of ``out`` (_WIDTH + 1 columns)."""
    magnitude = np.abs(values)
    out[:, 0] = np.where(np.signbit(values) & ~np.isnan(values), ord("-"), 0)
    body = out[:, 1:]
    fast = np.flatnonzero((magnitude >= _FAST_LOW) & (magnitude < _FAST_HIGH))
    digits, count, point, settled = _shortest(magnitude[fast])
    lead = _lead_chars(digits, count)
    # every value positional first (most are), then the others over it
    _put(
        body,
        slice(None) if len(fast) == len(values) else fast,
        _positional(lead, point.clip(-3, 16)),
    )
    scientific = ((point <= -4) | (point > 16)) & settled
    if scientific.any():
        body[fast[scientific]] = 0
        _put(body, fast[scientific], _scientific(lead[scientific], point[scientific]))
    other = np.ones(len(values), bool)
    other[fast[settled]] = False
    for text, rows in (
        ("0.0", magnitude == 0),
        ("inf", magnitude == np.inf),
        ("nan", magnitude != magnitude),
    ):
        body[rows, : len(text)] = np.frombuffer(text.encode(), np.uint8)
        other &= ~rows
    rest = np.flatnonzero(other)
    _put_text(body, rest, [repr(value) for value in magnitude[rest].tolist()])


def _write_ints(values: np.ndarray, out: np.ndarray) -> None:
    """Write each int64 value in decimal into the rows of ``out`` (at least _DIGITS + 1 columns)."""
    negative = values < 0
    magnitude = values.view(np.uint64).copy()
    np.negative(magnitude, out=magnitude, where=negative)  # two's complement: exact for -2**63
    count = np.searchsorted(_POW10[1:], magnitude, side="right") + 1
    out[:, 0] = np.where(negative, ord("-"), 0)
    out[:, 1 : 1 + _DIGITS] = _digit_chars(magnitude, _DIGITS) * _FIRST[count, ::-1]


def format_cells(values: np.ndarray, width: int) -> bytes:
    """CSV text of a flat int64, float64 or complex128 array, ``width`` cells a line.

    Each cell is what ``repr`` gives for the value (complex: ``repr(real)``,
    a sign, ``repr(imag)`` and ``j``), cells are separated by commas and every
    line ends with a newline.

    >>> format_cells(np.array([0.1, -2.0, 1e16, np.nan, 5e-324, 12345.678]), 2)
    b'0.1,-2.0\\n1e+16,nan\\n5e-324,12345.678\\n'
    >>> format_cells(np.array([1 - 0.5j, complex(-0.0, -0.0)]), 1)
    b'1.0-0.5j\\n-0.0-0.0j\\n'
    """
    size = _block_size(len(values))
    return b"".join(
        _in_blocks(
            lambda start: _format_block(values[start : start + size], start, width),
            range(0, len(values), size),
        )
    )


def _format_block(values: np.ndarray, start: int, width: int) -> bytes:
    """One block of format_cells; ``start`` is its first cell's index in the whole array."""
    cell = _WIDTH + 1
    if values.dtype.kind == "c":
        out = np.zeros((len(values), 2 * cell + 3), np.uint8)
        _write_floats(values.real, out[:, :cell])
        _write_floats(values.imag, out[:, cell + 1 : 2 * cell + 1])
        out[:, cell] = np.where(out[:, cell + 1] == ord("-"), 0, ord("+"))
        out[:, 2 * cell + 1] = ord("j")
    else:
        out = np.zeros((len(values), cell + 1), np.uint8)
        write = _write_ints if values.dtype.kind in "iu" else _write_floats
        write(values, out[:, :cell])
    out[:, -1] = np.where((np.arange(start, start + len(values)) + 1) % width, ord(","), ord("\n"))
    return out[out != 0].tobytes()


def _count_per_row(mask: np.ndarray) -> np.ndarray:
    """How many True entries each row of a (n, CELL) boolean matrix has: the row's four
    64-bit words added (a 0 or 1 per byte, so no carries), then the word's bytes summed
    by one multiplication (they gather in the top byte)."""
    words = mask.view(np.uint64)
    total = words[:, 0] + words[:, 1] + words[:, 2] + words[:, 3]
    return ((total * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def _digits_value(chars: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Rows of digit characters as decimal integers (uint64; at most _PART columns);
    columns where ``keep`` is False count as 0."""
    digits = ((chars - np.uint8(_ZERO)) * keep).T.copy()  # a column per row: contiguous
    value = np.zeros(len(chars), np.uint64)
    for column in digits:
        value *= np.uint64(10)
        value += column
    return value


def parse_cells(data: bytes, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Read the numbers in ``data[starts[i]:ends[i]]`` as Python's int() or else float() would.

    Returns (values, left): int64 values if every cell read here is written as
    an integer, else float64 (integers converted as float(int(cell)) does);
    ``left`` lists the cells not read here (anything but plain decimal numbers
    such as ``-12``, ``3.25`` or ``1.5e-07``, or a rounding too close to call),
    for the caller to read with Python; their entries in ``values`` are 0.

    >>> text = b"12,-0.5,1e3,nan"
    >>> parse_cells(text, np.array([0, 3, 8, 12]), np.array([2, 7, 11, 15]))
    (array([ 1.2e+01, -5.0e-01,  1.0e+03,  0.0e+00]), array([3]))
    """
    windows = np.lib.stride_tricks.sliding_window_view(
        np.frombuffer(bytes(CELL) + data + bytes(CELL), np.uint8), CELL
    )  # windows[j] is data[j - CELL : j], zeros outside data
    size = _block_size(len(starts))
    blocks = _in_blocks(
        lambda first: _parse_block(
            windows, starts[first : first + size], ends[first : first + size]
        ),
        range(0, len(starts), size),
    )
    if not blocks:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    values = np.concatenate([block for block, _ in blocks])
    left = np.concatenate(
        [unread + first for first, (_, unread) in zip(range(0, len(starts), size), blocks)]
    )
    return values, left


def _parse_block(
    windows: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """parse_cells for one block of cells; ``windows[j]`` holds the CELL bytes before j."""
    rows = np.arange(len(starts))
    length = ends - starts
    first = np.clip(CELL - length, 0, CELL - 1).astype(np.int8)  # each cell's first column
    column = np.arange(CELL, dtype=np.int8)[None, :]
    cells = windows[ends] * (column >= first[:, None])  # right-aligned, zeros before

    # [sign] digits [. digits] [e [sign] digits]: every character that is not a digit
    # must be the lead sign, the point, the e or the exponent's sign
    nondigits = _count_per_row((cells - np.uint8(_ZERO)) >= 10) - first
    lead = cells[rows, first]
    lead_sign = (lead == ord("+")) | (lead == ord("-"))
    e_at = np.argmax((cells | np.uint8(32)) == ord("e"), axis=1).astype(np.int8)
    has_e = (cells[rows, e_at] | np.uint8(32)) == ord("e")
    e_at[~has_e] = CELL
    point_at = np.argmax(cells == ord("."), axis=1).astype(np.int8)
    has_point = cells[rows, point_at] == ord(".")
    point_at[~has_point] = e_at[~has_point]
    after_e = cells[rows, np.minimum(e_at + 1, CELL - 1)]
    exponent_sign = has_e & ((after_e == ord("+")) | (after_e == ord("-")))
    exponent_digits = np.where(has_e, CELL - 1 - e_at - exponent_sign, 0).astype(np.int8)
    whole_digits = point_at - first - lead_sign
    fraction_digits = e_at - point_at - has_point
    ok = (
        (length >= 1)
        & (length <= CELL)
        & (nondigits == lead_sign.astype(np.int64) + has_point + has_e + exponent_sign)
        & (point_at <= e_at)
        & (whole_digits + fraction_digits >= 1)
        & (exponent_digits <= 3)
        & (~has_e | (exponent_digits >= 1))
        & (whole_digits <= _PART)
    )

    # the digits either side of the point
    point_end = ends - CELL + point_at  # where the point is (or would be) in data
    size = int(whole_digits[ok].max(initial=0))  # columns worth reading
    part = np.arange(size, dtype=np.int8)[None, :]
    whole = _digits_value(
        windows[point_end][:, CELL - size :], part >= (size - whole_digits)[:, None]
    )
    # a long fraction after "0." starts at its first significant digit (0.000123...)
    zeros = np.zeros(len(rows), np.int8)
    long = np.flatnonzero((fraction_digits > _PART) & (whole == 0))
    if len(long):
        significant = (cells[long] > np.uint8(_ZERO)) & (cells[long] <= np.uint8(_ZERO + 9))
        significant &= column > point_at[long, None]
        zeros[long] = (np.argmax(significant, axis=1) - point_at[long] - 1).clip(0)
    fraction_digits -= zeros
    ok &= fraction_digits <= _PART
    size = int(fraction_digits[ok].max(initial=0))
    part = np.arange(size, dtype=np.int8)[None, :]
    fraction = _digits_value(
        windows[point_end + 1 + zeros + size][:, CELL - size :], part < fraction_digits[:, None]
    )  # left-aligned in ``size`` digits: the fraction is fraction * 10**-(size + zeros)
    shift = size + zeros
    exponent = np.zeros(len(rows), np.int64)
    if has_e.any():
        tail = cells[:, CELL - 3 :] - np.uint8(_ZERO)
        shown = np.arange(3, 0, -1, dtype=np.int8)[None, :] <= exponent_digits[:, None]
        exponent = (tail * shown).astype(np.int64) @ np.array([100, 10, 1])
        exponent[after_e == ord("-")] *= -1
    negative = lead == ord("-")

    integer = ok & ~has_e & ~has_point
    ok &= ~(integer & (whole > _INT64_MAX + negative.astype(np.uint64)))
    signed = whole.view(np.int64).copy()
    signed[negative] = -signed[negative]  # wraps to -2**63 for 9223372036854775808, as wanted
    if not (ok & ~integer).any():
        signed[~ok] = 0
        return signed, np.flatnonzero(~ok)
    ok &= (exponent - shift >= _Q_MIN) & (exponent <= 280)
    exponent[~ok] = _PART
    p1, e1 = _dd_times_power(whole, exponent)
    p2, e2 = _dd_times_power(fraction, exponent - shift)
    total = p1 + p2
    error = (p1 - (total - (total - p1))) + (p2 - (total - p1))  # two-sum remainder
    error += e1 + e2
    value = total + error
    remainder = error - (value - total)
    step = np.where(
        remainder >= 0, np.nextafter(value, np.inf) - value, value - np.nextafter(value, 0)
    )
    unsure = (np.abs(np.abs(remainder) - step / 2) <= _SAFE * value) & (value != 0)
    ok &= integer | (~unsure & ((value >= 2.0**-1022) | (value == 0)))
    value = np.where(negative, -value, value)
    value[integer] = signed[integer]  # as float(int(cell)): -0 is 0.0
    value[~ok] = 0
    return value, np.flatnonzero(~ok)
