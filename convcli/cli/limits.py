"""Work too large for the machine, refused before it starts.

The engine says how many bytes a computation holds (:func:`convcli.memory_estimate`,
pure arithmetic on the shapes); this module adds what writing the result takes and
compares the sum with the memory the machine has available now (``MemAvailable``
in /proc/meminfo, within this process's cgroup limit and address-space limit, ``ulimit -v``;
sysconf elsewhere). Past it,
the run stops with one line naming the size instead of being killed by the
operating system halfway through.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

import numpy as np

from convcli.engine.cost import memory_estimate
from convcli.engine.geometry import plan
from convcli.errors import ConvcliError, InputError
from convcli.formats.serialise import CSV_PIECE_VALUES
from convcli.options import Options

if TYPE_CHECKING:
    from convcli.analysis.layers import LayerPlan
    from convcli.engine.streaming import Stream

__all__ = [
    "available_memory",
    "check_frames",
    "check_image",
    "check_layer",
    "check_memory",
    "check_stream",
    "human_bytes",
    "output_bytes",
    "usable_memory",
]

#: Below this many bytes nothing is checked: any machine running Python has that much.
_ALWAYS_FITS = 64 << 20
#: Characters of one value as text (the longest float repr is 24, plus a delimiter).
_TEXT_CHARACTERS = {"i": 21, "O": 40, "f": 25, "c": 50}
_UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a number near 2**63
#: Bytes per value a stream holds: the values (complex: 16) and a concatenated copy.
_STREAM_BYTES = 32


def available_memory(
    meminfo: str = "/proc/meminfo",
    cgroups: str = "/proc/self/cgroup",
    cgroup_root: str = "/sys/fs/cgroup",
    status: str = "/proc/self/status",
) -> int | None:
    """Bytes of memory this process can take now without swapping: MemAvailable, or less
    where its cgroup's limit or its address-space limit (RLIMIT_AS, less the VmSize it
    has mapped) leaves less room; sysconf's free pages elsewhere; None if unknown.

    >>> memory = available_memory()
    >>> memory is None or memory > 0
    True
    """
    available = None
    try:
        with open(meminfo) as lines:
            fields = dict(line.split(":", 1) for line in lines if ":" in line)
        available = int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError, IndexError):
        with_sysconf = ("SC_AVPHYS_PAGES", "SC_PAGE_SIZE")
        if all(name in os.sysconf_names for name in with_sysconf):
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for room in (_cgroup_room(cgroups, cgroup_root), _address_space_room(status)):
        if room is not None:
            available = room if available is None else min(available, room)
    return available


def _address_space_room(status: str) -> int | None:
    """Bytes this process may still map under its address-space limit; None if it has none."""
    try:
        import resource
    except ImportError:  # not on Unix
        return None
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    try:
        with open(status) as lines:
            mapped = next(int(line.split()[1]) for line in lines if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return max(limit - mapped * 1024, 0)


def _cgroup_room(cgroups: str, root: str) -> int | None:
    """Bytes left under this process's cgroup memory limit (v2 or v1); None if it has none."""
    try:
        with open(cgroups) as lines:
            entries = [line.rstrip("\n").split(":", 2) for line in lines]
    except OSError:
        return None
    for entry in entries:
        if len(entry) != 3:
            continue
        _, controllers, path = entry
        if controllers == "":
            files = (f"{root}{path}", "memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            files = (
                f"{root}/memory{path}",
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            )
        else:
            continue
        try:
            limit, usage = (_read_text(os.path.join(files[0], name)) for name in files[1:])
            if limit.isdigit() and int(limit) < _UNLIMITED:
                return max(int(limit) - int(usage), 0)
        except (OSError, ValueError):
            continue
    return None


def _read_text(path: str) -> str:
    """A small file's text, stripped."""
    with open(path) as stream:
        return stream.read().strip()


def output_bytes(output_format: str, values: int, kind: str, show_all: bool = False) -> int:
    """Bytes writing ``values`` values of dtype kind ``kind`` takes in ``output_format``.

    CSV is written a block of rows at a time (compare's too); every JSON document is
    built whole from Python numbers first; a table holds only the rows it shows unless
    ``show_all``.

    >>> output_bytes("csv", 10**9, "f"), output_bytes("csv", 1000, "f")
    (85983232, 82000)
    """
    text = _TEXT_CHARACTERS.get(kind, 50)
    if output_format == "csv":  # one block: polars' copy of it, and its text (twice at most)
        return min(values, CSV_PIECE_VALUES) * (32 + 2 * text)
    per_value = {
        "json": 80 + 4 * text,  # Python numbers (complex ones as strings) and the document
        "npy": 40,  # the array in a buffer, and the buffer's bytes
        "png": 10,
        # plot: matplotlib's float copies, masks and colours of every panel drawn
        "figure": 30,
    }.get(output_format, 400 if show_all else 0)
    return values * per_value


def check_frames(steps: int, limit: int, start: int = 0) -> None:
    """Refuse an animation file of more than ``limit`` frames (one per step), suggesting a
    range of steps from ``start``, the first step asked for.

    >>> check_frames(500, 300, start=40)
    Traceback (most recent call last):
    convcli.errors.ConvcliError: the animation would have 500 frames, over its limit of 300 (one frame per step); write a range of at most 300 steps with --steps START:END (--steps 40:340)
    """
    if steps > limit:
        raise ConvcliError(
            f"the animation would have {steps} frames, over its limit of {limit} (one frame "
            f"per step); write a range of at most {limit} steps with --steps START:END "
            f"(--steps {start}:{start + limit})"
        )


def check_image(
    name: str, shape: tuple[int, int], decoding: int, available: int | None = None
) -> None:
    """Refuse, before decoding, an image of ``shape`` pixels that would not fit in memory:
    ``decoding`` bytes per pixel, and the least any run on it holds (a result of its size).

    >>> check_image("x.png", (13000, 13000), 19, available=1_200_000_000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    convcli.errors.InputError: x.png is 13000x13000 = 169,000,000 pixels; that needs about ...
    """
    pixels = math.prod(shape)
    # float64 holds a pixel in the 8 bytes int64 grey levels take, and unlike int64 asks
    # working_dtype for no scan of the values (of a view as large as the header says)
    image, one = np.broadcast_to(np.float64(0), shape), np.ones((1, 1))
    run = memory_estimate(image, one, plan(shape, one.shape), "direct")
    needed = pixels * decoding + run
    available = shortfall(needed, available)
    if available is not None:
        height, width = shape
        raise InputError(
            f"{name} is {width}x{height} = {pixels:,} pixels; that needs about "
            f"{human_bytes(needed)}, more than the {human_bytes(available)} available"
        )


def usable_memory(needed: int, held: int = 0) -> int | None:
    """If ``needed`` more bytes do not fit in the memory available now, the memory this
    process can use (``held``, the bytes it holds already, and what is available); None if
    they fit or the machine does not say. Below 64 MB in all, the machine is not asked.

    >>> usable_memory(1000, 1000) is None
    True
    """
    if needed + held < _ALWAYS_FITS:
        return None
    available = available_memory()
    if available is None or needed <= available:
        return None
    return held + available


def human_bytes(size: int) -> str:
    """A size as people read it, in decimal units.

    >>> human_bytes(999), human_bytes(12_800_000_000)
    ('999 bytes', '12.8 GB')
    """
    if size < 1000:
        return f"{size} bytes"
    exponent = min(int(math.log10(size) // 3), 8)
    return f"{size / 1000**exponent:.3g} {'kMGTPEZY'[exponent - 1]}B"


def check_memory(
    signal: np.ndarray,
    kernel: np.ndarray,
    options: Options,
    output_format: str,
    show_all: bool = False,
    comparing: bool = False,
    available: int | None = None,
) -> None:
    """Refuse, before any work, a computation and output larger than the memory available.

    ``available`` replaces what the machine reports.

    >>> matrix = np.broadcast_to(1.0, (20000, 20000))  # no memory behind it
    >>> check_memory(matrix, matrix, Options(padding="full"), "csv", available=8 * 10**9)
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    convcli.errors.ConvcliError: the 39999x39999 result needs about 224 GB of memory but 8 GB is...
    """
    if options.convention != "convcli":
        # another library's rules (convcli/analysis/conventions.py) give at most every output where
        # the inputs overlap, whichever is longer: the full padding, without a stride
        options = options.replace(padding="full", stride=(1,))
    geometry = plan(signal.shape, kernel.shape, options)
    # sums along listed axes are priced as the rows' direct sum
    method = "direct" if geometry.batch_axes else options.method
    values = math.prod(geometry.output_shape)
    if comparing:  # both results, and compare's JSON holds the inputs too
        values = 2 * values + signal.size + kernel.size
    kind = np.result_type(signal, kernel).kind
    needed = memory_estimate(signal, kernel, geometry, method, comparing)
    needed += output_bytes(output_format, values, kind, show_all)
    available = shortfall(needed, available)
    if available is not None:
        shape = "x".join(map(str, geometry.output_shape))
        # a stream holds its padding: advise it only where that fits
        padding = max(before + after for before, after in geometry.pads)
        streams = output_format != "figure" and padding * _STREAM_BYTES <= available
        stream = "--stream (conv and corr of a 1-D signal), " if streams else ""
        raise ConvcliError(
            f"the {shape} result needs about {human_bytes(needed)} of memory but "
            f"{human_bytes(available)} is available; use {stream}a smaller --padding "
            "(valid adds none) or smaller inputs"
        )


#: Bytes of the gathered columns a layer's matrix products hold at once (about; see
#: convcli.analysis.layers).
_LAYER_COLUMNS = 4 << 20


def check_layer(
    layer_plan: LayerPlan,
    kind: str,
    output_format: str,
    show_all: bool = False,
    terms: bool = False,
    available: int | None = None,
) -> None:
    """Refuse, before any work, a layer whose arrays and output would not fit in memory:
    its input channels-first, padded (once per output channel of a depthwise group), the
    output twice (the sums and the caller's layout), the columns of a matrix product,
    and with ``terms`` every per-channel term twice (the layer written out and its twin).

    >>> from convcli.analysis.layers import Layer, plan_layer
    >>> big = plan_layer((64, 256, 512, 512), (256, 256, 3, 3), None, Layer.parse(padding=1))
    >>> check_layer(big, "f", "npy", available=8 * 10**9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    convcli.errors.ConvcliError: the layer's (64, 256, 512, 512) output needs about 310 GB...
    """
    geometry = layer_plan.geometry
    batch, outputs = layer_plan.batch, math.prod(layer_plan.output_spatial)
    channels = max(layer_plan.in_channels, layer_plan.out_channels)
    values = batch * layer_plan.in_channels * math.prod(layer_plan.input_spatial)
    values += batch * channels * math.prod(geometry.padded_shape)
    values += 2 * batch * layer_plan.out_channels * outputs
    if terms:
        values += 2 * batch * layer_plan.out_channels * layer_plan.group_in * outputs
    itemsize = 16 if kind == "c" else 8
    output_values = batch * layer_plan.out_channels * outputs
    needed = values * itemsize + _LAYER_COLUMNS
    needed += output_bytes(output_format, output_values, kind, show_all)
    available = shortfall(needed, available)
    if available is not None:
        raise ConvcliError(
            f"the layer's {layer_plan.output_shape} output needs about {human_bytes(needed)} "
            f"of memory but {human_bytes(available)} is available; use a smaller batch, fewer "
            "channels, a larger --stride or a smaller --padding"
        )


def check_stream(stream: Stream, available: int | None = None) -> None:
    """Refuse a stream whose padding and window alone would not fit in memory.

    >>> from convcli.engine.streaming import Stream
    >>> stream = Stream([1, 1], "convolution", Options(padding=((10**12, 10**12),)))
    >>> check_stream(stream, 10**9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    convcli.errors.ConvcliError: --stream would hold 10,000,000,000,010 values at once...
    """
    needed = stream.held_values * _STREAM_BYTES
    available = shortfall(needed, available)
    if available is not None:
        raise ConvcliError(
            f"--stream would hold {stream.held_values:,} values at once, for the padding and "
            f"the kernel's span: about {human_bytes(needed)}, more than the "
            f"{human_bytes(available)} available (the result would have at least "
            f"{stream.least_outputs:,} values); use a smaller --padding or --dilation"
        )


def shortfall(needed: int, available: int | None = None) -> int | None:
    """The memory available (``available``, else what the machine has) where ``needed``
    bytes would not fit in it; None where they fit, or where the machine does not say.

    >>> shortfall(10**12, 10**9), shortfall(10**3, 10**9)
    (1000000000, None)
    """
    if needed < _ALWAYS_FITS:
        return None
    if available is None:
        available = available_memory()
    return available if available is not None and needed > available else None
