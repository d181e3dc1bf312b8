"""The click commands: read with inputs, compute with the engine, show with render or write out.

No arithmetic lives here. Each command reads SIGNAL and KERNEL, calls one
engine function and hands the result to one writer. Errors in data or options
arrive as ConvcliError and leave as one line on stderr (exit 1 for bad data,
2 for bad usage); rich is imported only when a table is drawn.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from convcli import __version__
from convcli.api import comparison_of, compute
from convcli.cli import inputs, outputs, signals
from convcli.cli.errors import OneLineErrors, flag_words, refusals_in_flag_words
from convcli.engine import core as engine
from convcli.engine.batched import slid_shape
from convcli.engine.cost import estimated_seconds
from convcli.engine.geometry import Geometry, plan
from convcli.engine.numbers import working_dtype
from convcli.errors import ConvcliError, OptionError
from convcli.formats import serialise
from convcli.formats.csv import parse_delimiter
from convcli.options import (
    CONVENTIONS,
    METHODS,
    NORMALIZATIONS,
    PAD_MODES,
    PNG_SCALES,
    Operation,
    Options,
    parse_axes,
    parse_pad_value,
    parse_padding,
    parse_per_axis,
)
from convcli.render import glyphs

if TYPE_CHECKING:
    import numpy as np

# Start-up: only what every command needs is imported here (click, and numpy through engine,
# inputs and serialise). rich, steps, gradients, kernels and plot are imported by the
# commands that use them; tests/test_startup.py checks it.

_NEGATIVE_NUMBER = re.compile(r"-(\d|\.\d|inf\b|nan\b|\[)", re.IGNORECASE)
_INTERRUPTED = 130
_INTERNAL_ERROR = 70  # EX_SOFTWARE in sysexits.h

EXPLAIN_FORMATS = ("auto", "text", "json", "html", "markdown", "latex", "gif")
#: explain's formats that --animate and --delay do nothing for, and what each writes instead.
_STILL_FORMATS = {
    "json": "JSON holds every step at once",
    "markdown": "Markdown holds every step at once",
    "latex": "LaTeX holds every step at once",
    "html": "a page (--format html) has its own Play button",
}
BACKWARD_FORMATS = ("auto", "table", "json", "html")
CONVENTIONS_FORMATS = ("auto", "table", "csv", "json")
KERNELS_FORMATS = ("auto", "table", "json")
DELAY_FORMATS = ("auto", "table", "csv", "json")
LAYER_FORMATS = ("auto", "table", "csv", "json", "npy", "html")
#: The library's LAYOUTS and LAYER_CONVENTIONS (convcli.analysis.layers, not imported at
#: start-up; tests/cli/test_layer_command.py checks they agree).
LAYOUT_CHOICES = ("nchw", "nhwc")
LAYER_CONVENTION_CHOICES = ("convcli", "torch", "tensorflow")
#: convcli.render.plot's STYLES (not imported at start-up; tests/render/test_plot.py checks).
PLOT_STYLES = ("default", "projector")
#: The smallest and largest --size of a figure, in pixels along each side.
FIGURE_PIXELS = (100, 8000)
OPERATION_CHOICES: dict[str, tuple[Operation, ...]] = {
    "conv": ("convolution",),
    "corr": ("correlation",),
    "both": ("convolution", "correlation"),
}

LAYER_INPUTS_HELP = (
    "INPUT, WEIGHTS and --bias are each a .npy file (any shape), nested lists typed inline "
    "([[[1,2,3],[0,1,0]]] is 3-D), - for standard input, or a CSV file: one column per "
    "channel of a 1-D signal, named by its header."
)
INPUTS_HELP = (
    "SIGNAL and KERNEL are each a CSV or .npy file, FILE:COLUMN (a column by header name or "
    'number), - for standard input, or numbers: 2,1,3 or "2 1 3" or [2,1,3]; '
    '"1,2;3,4" is a 2-D matrix. Negative numbers work as they are: -1,1.'
)


class _Guarded(click.Command):
    """A command's checks around its run: an -o file that is one of its inputs or whose
    folder is not there is refused first, a reader of its output that goes ends it quietly,
    and its notes follow only a success."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        """Parse the command line (which may print --help or --version)."""
        with _quiet_when_the_reader_goes(), outputs.standard_output_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        """Check the -o file, run the command and print its notes."""
        _refuse_overwriting_inputs(ctx)
        outputs.check_output_folder(ctx.params.get("output"))
        with _quiet_when_the_reader_goes():
            result = super().invoke(ctx)
        for note in ctx.meta.pop(_NOTES, []):
            click.echo(f"note: {note}", err=True)
        return result


@contextlib.contextmanager
def _quiet_when_the_reader_goes() -> Iterator[None]:
    """End the command with exit 0 and no word when the reader of its output has gone
    (``| head``), as ``seq``'s death by SIGPIPE does; click alone would exit 1."""
    try:
        yield
    except BrokenPipeError:
        outputs.discard_stdout()
        raise click.exceptions.Exit(0) from None


class ConvcliGroup(OneLineErrors, _Guarded, click.Group):
    """The ``convcli`` group: one-line errors for unknown commands too."""


class NumbersCommand(OneLineErrors, _Guarded, click.Command):
    """A command whose arguments may be negative numbers (and ``-:COLUMN`` for stdin).

    ``convcli conv 2,1,3 -1,1`` would otherwise fail as an unknown option
    ``-1``; here every token that is not an option or an option's value is
    passed on as an argument, in order.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Put arguments after ``--`` so that ``-1,1`` reaches SIGNAL or KERNEL as written."""
        takes_value = {
            name
            for param in self.params
            if isinstance(param, click.Option) and not param.is_flag and not param.count
            for name in param.opts
        }
        options: list[str] = []
        arguments: list[str] = []
        tokens = iter(args)
        for token in tokens:
            if token == "--":
                arguments.extend(tokens)
            elif (
                token.startswith("-")
                and not inputs.uses_stdin(token)
                and not _NEGATIVE_NUMBER.match(token)
            ):
                options.append(token)
                if token in takes_value:
                    value = next(tokens, None)
                    if value is None:  # click says the option needs a value
                        return super().parse_args(ctx, options)
                    options.append(value)
            else:
                arguments.append(token)
        return super().parse_args(ctx, [*options, "--", *arguments])


class _Checked(click.ParamType):
    """An option value checked by a parser (options, formats.csv); its error is a usage error."""

    def __init__(self, name: str, parse: Callable[[str], object], keep_text: bool) -> None:
        self.name = name
        self.parse = parse
        self.keep_text = keep_text

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Parse the value, failing as click does (exit 2) with the parser's message."""
        if not isinstance(value, str):
            return value
        try:
            parsed = self.parse(value)
        except ConvcliError as error:
            self.fail(flag_words(str(error)), param, ctx)
        return value if self.keep_text else parsed


def _complete_source(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of SIGNAL, KERNEL or REFERENCE: file names (the shell's own) and
    the named kernels' examples that begin with what was typed."""
    from click.shell_completion import CompletionItem

    from convcli.analysis.kernels import catalogue

    named = [
        CompletionItem(info.example, help=info.description)
        for info in catalogue()
        if info.example.startswith(incomplete)
    ]
    return [CompletionItem(incomplete, type="file"), *named]


def source_argument(name: str) -> Callable:
    """A SIGNAL, KERNEL or REFERENCE argument: numbers, a file or a named kernel."""
    return click.argument(name, shell_complete=_complete_source)


def _stack(*options: Callable[[Callable[..., None]], Callable[..., None]]) -> Callable:
    """One decorator applying click options in the order they are listed."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _per_axis_option(name: str, help_text: str) -> Callable:
    """``--NAME``: a positive integer, or one per axis, checked by convcli.options' parser."""
    return click.option(
        f"--{name}",
        type=_Checked(name, lambda text: parse_per_axis(text, name), False),
        default="1",
        show_default=True,
        help=help_text,
    )


#: Where options that no command takes as an argument keep their values (click's ctx.meta),
#: and where notes wait until the command has succeeded.
_DECIMAL, _FORCE, _DIGITS, _NOTES = (
    "convcli.decimal",
    "convcli.force",
    "convcli.digits",
    "convcli.notes",
)


def _remembered(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """An option callback keeping the option's value in ``ctx.meta[key]``."""

    def remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        ctx.meta[key] = value

    return remember


#: --delimiter and --decimal, which say how input files are read.
delimiter_option = _stack(
    click.option(
        "--delimiter",
        type=_Checked("delimiter", parse_delimiter, keep_text=False),
        default=",",
        help="Cell separator in input files: one character, or comma, tab, semicolon, space.",
    ),
    click.option(
        "--decimal",
        type=click.Choice([".", ","]),
        default=".",
        show_default=True,
        expose_value=False,
        callback=_remembered(_DECIMAL),
        help="Decimal mark of input numbers. With , (European CSV: 1,5) cells are separated "
        "by ; unless --delimiter says otherwise, and inline numbers by spaces: '0,25 0,5'.",
    ),
)


def _geometry_options(pad_modes: list[str]) -> Callable:
    """--padding, --pad-mode (one of ``pad_modes``), --stride, --dilation and the CSV dialect."""
    return _stack(
        click.option(
            "--padding",
            type=_Checked("padding", parse_padding, keep_text=True),
            default="valid",
            show_default=True,
            help="valid, same, full, N (every side), BEFORE:AFTER, or one per axis: 1,2 or "
            "0:1,1:0.",
        ),
        click.option(
            "--pad-mode",
            type=click.Choice(pad_modes),
            default="zeros",
            show_default=True,
            help="What the padded cells hold.",
        ),
        _per_axis_option("stride", "Step between outputs: N, or one per axis (2,1)."),
        _per_axis_option("dilation", "Spacing between kernel taps: N, or one per axis."),
        delimiter_option,
    )


#: The geometry of commands that pad as the engine does but with zeros or the signal's own
#: cells (their gradients and scalings know no constant padding).
geometry_options = _geometry_options([mode for mode in PAD_MODES if mode != "constant"])

#: The geometry of sums that pad with constants too: every pad mode and --pad-value.
constant_geometry_options = _stack(
    _geometry_options(list(PAD_MODES)),
    click.option(
        "--pad-value",
        type=_Checked("pad_value", parse_pad_value, keep_text=False),
        default=None,
        help="What constant padding holds (a number; 1+2j for a complex one): "
        "--pad-mode constant, which a value alone implies. Unlike zeros, these cells are "
        "terms of the sum.",
    ),
)

#: conv's, corr's and compare's geometry: every pad mode, --pad-value and --axes.
sliding_options = _stack(
    constant_geometry_options,
    click.option(
        "--axes",
        type=_Checked("axes", parse_axes, keep_text=False),
        default=None,
        help="Slide the kernel along these axes only (1, or 0,2; negative counts from the "
        "end) and pair rows along the others, as scipy's fftconvolve(axes=); --padding, "
        "--stride and --dilation then give one value per listed axis.",
    ),
)

#: The command-line options that make up an :class:`Options`, by their parameter names.
_OPTION_NAMES = (
    "padding",
    "stride",
    "dilation",
    "pad_mode",
    "method",
    "convention",
    "axes",
    "pad_value",
)


def _with_options(command: Callable[..., None]) -> Callable[..., None]:
    """Hand the command its geometry, --method and --convention as one ``options``."""

    @functools.wraps(command)
    def run(**params: Any) -> None:
        given = {name: value for name, value in params.items() if name in _OPTION_NAMES}
        rest = {name: value for name, value in params.items() if name not in _OPTION_NAMES}
        command(**rest, options=Options.parse(**given))

    return run


def _layer_spec(
    options: Options, groups: int, layout: str, transposed: bool, output_padding: str
) -> Any:
    """The layer's options as one :class:`~convcli.analysis.layers.Layer`; options that
    cannot go together whatever the data (--output-padding without --transposed) are a
    usage error."""
    from convcli.analysis.layers import Layer

    try:
        return Layer.of(
            options,
            groups=groups,
            layout=layout,  # type: ignore[arg-type]  # click's choice of LAYOUT_CHOICES
            transposed=transposed,
            output_padding=output_padding,
        )
    except ConvcliError as error:
        raise click.UsageError(flag_words(str(error))) from None


def _cell(text: str) -> tuple[int, ...]:
    """--cell's value: indices from 0, one per axis of the output, separated by commas.

    >>> _cell("0,1,2")
    (0, 1, 2)
    """
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() for part in parts):
        raise OptionError(f"cell={text!r} takes indices from 0, one per axis: 0,1,2,3")
    return tuple(int(part) for part in parts)


def _pixel_size(text: str) -> tuple[int, int]:
    """--size's value: WIDTHxHEIGHT in pixels, each within FIGURE_PIXELS.

    >>> _pixel_size("1280x720"), _pixel_size("800X600")
    ((1280, 720), (800, 600))
    """
    width, cross, height = text.strip().lower().partition("x")
    low, high = FIGURE_PIXELS
    if cross and width.isdigit() and height.isdigit():
        size = (int(width), int(height))
        if all(low <= side <= high for side in size):
            return size
    raise OptionError(
        f"size={text!r} takes WIDTHxHEIGHT in pixels, each from {low} to {high}: 1280x720"
    )


def _delay(text: str) -> float:
    """--delay's value: seconds, a finite number from 0.

    >>> _delay("0.5"), _delay("2")
    (0.5, 2.0)
    """
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:
        raise OptionError(f"delay={text!r} takes a number of seconds from 0: 0.6")
    return seconds


def _step_span(text: str) -> tuple[int | None, int | None]:
    """--steps' value: START:END, step numbers from 0 with END left out (either may be left
    out, not both; no negatives).

    >>> _step_span("2:5"), _step_span(":3"), _step_span("4:")
    ((2, 5), (None, 3), (4, None))
    """
    start, colon, end = text.partition(":")
    parts = [part.strip() for part in (start, end)]
    if not colon or not all(part.isdigit() or not part for part in parts) or parts == ["", ""]:
        raise OptionError(
            f"steps={text!r} takes START:END, step numbers from 0 with END left out: 0:10"
        )
    first, last = (int(part) if part else None for part in parts)
    return first, last


#: --bias, --groups, --transposed, --output-padding and --layout: a CNN layer's own options.
layer_options = _stack(
    click.option(
        "--bias",
        default=None,
        help="One number per output channel, added to it (numbers, a file or -).",
    ),
    click.option(
        "--groups",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Split the channels into this many groups, each output channel reading only its "
        "group's input channels (groups = C_in: depthwise).",
    ),
    click.option(
        "--transposed",
        is_flag=True,
        help="The transposed layer (PyTorch's conv_transpose): each input cell spreads through "
        "the kernel; WEIGHTS are (C_in, C_out/groups, *k).",
    ),
    click.option(
        "--output-padding",
        default="0",
        show_default=True,
        help="Cells added at the end of a transposed layer's output: N, or one per axis.",
    ),
    click.option(
        "--layout",
        type=click.Choice(LAYOUT_CHOICES),
        default="nchw",
        show_default=True,
        help="nchw: PyTorch's (N, C, *spatial) tensors and (C_out, C_in/groups, *k) weights; "
        "nhwc: TensorFlow's (N, *spatial, C) and (*k, C_in/groups, C_out), transposed "
        "(*k, C_out, C_in).",
    ),
)


digits_option = click.option(
    "--digits",
    type=click.IntRange(1, 17),
    default=None,
    expose_value=False,
    callback=_remembered(_DIGITS),
    help="Significant digits of numbers that are not whole, in tables and explanations "
    "(rounded; default 6). CSV, JSON and NPY stay exact.",
)

force_option = click.option(
    "--force",
    is_flag=True,
    expose_value=False,
    callback=_remembered(_FORCE),
    help="Let -o replace a file the command reads its input from.",
)


def _csv_dialect(delimiter: str | None) -> dict[str, Any]:
    """read_array's ``delimiter`` and ``decimal`` for this command's --delimiter and
    --decimal: a decimal comma makes ; the default delimiter and cannot go with a comma
    delimiter."""
    ctx = click.get_current_context()
    decimal = ctx.meta.get(_DECIMAL, ".")
    if decimal != ".":
        if ctx.get_parameter_source("delimiter") in (ParameterSource.DEFAULT, None):
            delimiter = ";"
        elif delimiter == decimal:
            raise click.UsageError(
                f"--decimal {decimal} reads 1{decimal}5 as one number, so {decimal!r} cannot also "
                "separate cells; give --delimiter ';' (the default with it), tab or space"
            )
    return {"delimiter": delimiter, "decimal": decimal}


def _refuse_overwriting_inputs(ctx: click.Context, output: str | None = None) -> None:
    """A -o file (or ``output``, a file written for it) that is one of the command's own
    inputs is a usage error unless --force."""
    output = output or ctx.params.get("output")
    roles = {
        "signal": "signal",
        "kernel": "kernel",
        "reference": "reference",
        "upstream": "--grad",
        "input_source": "input",
        "weights": "weights",
        "bias": "--bias",
    }
    sources = {role: ctx.params.get(name) for name, role in roles.items()}
    role = outputs.overwritten_input(output, sources)
    if role is not None and not ctx.meta.get(_FORCE):
        raise click.UsageError(
            f"-o {output} is the file the {role} is read from; give --force to replace it "
            "with the result"
        )


def _check_memory(
    f: np.ndarray,
    h: np.ndarray,
    options: Options,
    chosen: str,
    show_all: bool,
    comparing: bool = False,
) -> None:
    """Refuse a computation and output larger than the memory available (see convcli.cli.limits)."""
    from convcli.cli import limits

    limits.check_memory(f, h, options, chosen, show_all, comparing)
    _announce_long_run(f, h, options, comparing)


#: Runs the cost model expects to take longer than this are announced on a terminal.
_LONG_RUN_SECONDS = 60.0


def _announce_long_run(f: np.ndarray, h: np.ndarray, options: Options, comparing: bool) -> None:
    """On a terminal, one line before a run that the cost model (estimated_seconds)
    expects to take over a minute: how long, and how long ``--method auto`` would take
    where that is much shorter. compare sums twice, and twice more for float verdicts."""
    if not outputs.stderr_is_terminal():
        return
    import numpy as np  # loaded already, through engine

    kind = np.dtype(working_dtype(f, h)).kind
    runs = (4 if kind in "fc" else 2) if comparing else 1
    try:
        geometry = plan(f.shape, h.shape, options)
    except ConvcliError:  # the run itself says what is wrong
        return
    method = options.method  # auto for explain and backward, which take no --method
    rows_differ = bool(geometry.batch_axes)  # priced as the rows' direct sum
    slid = slid_shape(h.shape, geometry)
    seconds = runs * estimated_seconds(geometry, slid, kind, "direct" if rows_differ else method)
    if seconds <= _LONG_RUN_SECONDS:
        return
    line = f"note: about {_duration(seconds)} with --method {method}"
    auto = seconds if rows_differ else runs * estimated_seconds(geometry, slid, kind, "auto")
    if method != "auto" and auto < seconds / 2:
        line += f"; --method auto would take {_duration(auto)}"
    click.echo(line, err=True)


def _duration(seconds: float) -> str:
    """A rough duration as people say it.

    >>> _duration(0.3), _duration(2.4), _duration(1200), _duration(10800), _duration(4e5)
    ('under a second', '2 s', '20 min', '3 h', '5 days')
    """
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= 1.5 * size or (unit == "s" and seconds >= 1):
            return f"{seconds / size:.0f} {unit}"
    return "under a second"


stream_option = click.option(
    "--stream",
    is_flag=True,
    help="Read a 1-D signal (file, FILE:COLUMN or -) in blocks and write CSV as it goes, "
    "in memory independent of its length.",
)


def correlation_options(hidden: bool = False) -> Callable:
    """--lags and --normalize, which label and scale correlation outputs (``hidden`` on
    conv, which refuses them with a pointer to corr and compare)."""
    return _stack(
        click.option(
            "--lags",
            is_flag=True,
            hidden=hidden,
            help="Label each output with its lag, as scipy.signal.correlation_lags and MATLAB "
            "xcorr do: a lag column (per axis in 2-D) in tables, CSV and JSON.",
        ),
        click.option(
            "--normalize",
            type=click.Choice(NORMALIZATIONS),
            default="none",
            show_default=True,
            hidden=hidden,
            help="Scale as MATLAB xcorr (biased: /N, unbiased: /(N-|lag|), coeff: /(||f|| ||h||); "
            "same-shape inputs) or zncc: each window's zero-normalized correlation, in [-1, 1].",
        ),
    )


method_option = click.option(
    "--method",
    type=click.Choice(METHODS),
    default="auto",
    show_default=True,
    help="How to compute: auto picks per case.",
)

convention_option = click.option(
    "--convention",
    type=click.Choice(CONVENTIONS),
    default="convcli",
    show_default=True,
    help="Return what this library's function gives for the same request "
    "(numpy.convolve, scipy.signal.convolve or convolve2d, MATLAB conv/xcorr, "
    "torch F.conv1d, tf.nn.conv1d); convcli conventions shows them all.",
)


def operations_option(help_text: str) -> Callable:
    """--op conv, corr or both (the default)."""
    return click.option(
        "--op",
        "operations",
        type=click.Choice(list(OPERATION_CHOICES)),
        default="both",
        show_default=True,
        help=help_text,
    )


def output_options(
    formats: tuple[str, ...], format_help: str, reads_files: bool = True
) -> Callable:
    """--format (from these choices), --all, -o FILE and (for commands with inputs) --force."""
    return _stack(
        click.option(
            "--format",
            "output_format",
            type=click.Choice(formats),
            default="auto",
            show_default=True,
            help=format_help,
        ),
        click.option(
            "--all",
            "show_all",
            is_flag=True,
            help="Show every row, column or step (long output otherwise shows both ends).",
        ),
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False),
            default=None,
            help="Write to this file (atomically: all or nothing) instead of standard output.",
        ),
        *([force_option] if reads_files else []),
    )


def _result_output_options(formats: tuple[str, ...], more: str = "") -> Callable:
    """--format (from ``formats``; ``more`` adds to its help), --all, -o and --scale."""
    return _stack(
        output_options(
            formats,
            "auto: a table on a terminal, CSV in a pipe, or by the -o file's extension "
            "(.json, .npy, .png for 2-D results). npy: the array (compare: both, stacked; "
            "png: NAME.conv.png and NAME.corr.png)." + more,
        ),
        click.option(
            "--scale",
            type=click.Choice(PNG_SCALES),
            default="clip",
            show_default=True,
            help="How PNG output shows values as grey levels: clip keeps them as they are (0 "
            "black, 255 white, beyond clipped), stretch maps min..max to 0..255, abs takes "
            "magnitudes then clips.",
        ),
    )


result_output_options = _result_output_options(outputs.FORMATS)


def _refuse_scale(chosen: str) -> None:
    """--scale given for output that is not PNG is a usage error (it would do nothing)."""
    ctx = click.get_current_context()
    if chosen != "png" and ctx.get_parameter_source("scale") is not ParameterSource.DEFAULT:
        raise click.UsageError(
            f"--scale sets how PNG output shows values; {chosen.upper()} holds them as they are"
        )


def _clipped_note(clipped: str, size: int) -> str:
    """The note for PNG grey levels that had to clip ``clipped`` of ``size`` values."""
    return (
        f"{clipped} of {size} values lie outside 0..255 and were clipped to 0 or 255 "
        "(--scale stretch maps their range to 0..255, --scale abs takes magnitudes)"
    )


def _png(values: np.ndarray, scale: str) -> bytes:
    """A result as PNG, with a note of how many values its grey levels had to clip."""
    from convcli.formats.images import clipped_count

    clipped = clipped_count(values, scale)
    if clipped:
        _notes((_clipped_note(str(clipped), values.size),))
    return serialise.result_png(values, scale)


def _comparison_png_names(output: str | None) -> tuple[str, str]:
    """The two files compare writes as PNG for -o NAME.png (one per result), checked before
    any work: PNG cannot go to standard output, a device or a FIFO (there is no room beside
    it for two files), nor over an input without --force."""
    path = outputs.output_file(output)
    if path is None or not outputs.names_a_file(path):
        raise click.UsageError(
            "compare writes PNG as two images, one per result: give -o NAME.png "
            "(NAME.conv.png and NAME.corr.png)"
        )
    names = outputs.comparison_png_names(path)
    for name in names:
        _refuse_overwriting_inputs(click.get_current_context(), name)
    return names


def _write_comparison_pngs(
    comparison: engine.Comparison, names: tuple[str, str], scale: str
) -> None:
    """compare's PNG images, named in one note (with what their grey levels clipped)."""
    from convcli.formats.images import clipped_count

    results = (comparison.convolution, comparison.correlation)
    # both files opened before either is put in place: one that cannot be written leaves
    # the other as it was
    with outputs.output_sink(names[0]) as conv, outputs.output_sink(names[1]) as corr:
        conv(serialise.result_png(results[0], scale))
        corr(serialise.result_png(results[1], scale))
    note = f"wrote {names[0]} and {names[1]}"
    counts = [clipped_count(values, scale) for values in results]
    if any(counts):
        note += ": " + _clipped_note(" and ".join(map(str, counts)), results[0].size)
    _notes((note,))


def _read_inputs(
    signal: str, kernel: str, delimiter: str | None, streamable: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Read both arguments and note on stderr any nan or inf they hold.

    What can be checked without reading a file (numbers typed inline, a kernel name) is
    checked first, so a mistake there never waits for an endless standard input; a signal
    too large for the memory gets the hint of --stream where ``streamable`` (conv, corr).
    """
    inputs.check_one_stdin({"SIGNAL": signal, "KERNEL": kernel})
    dialect = _csv_dialect(delimiter)
    typed = None if inputs.reads_data(signal) else inputs.read_array(signal, "signal", **dialect)
    inputs.check_kernel(kernel)
    try:
        values = inputs.read_array(signal, "signal", **dialect) if typed is None else typed
        arrays = (values, inputs.read_kernel(kernel, values.ndim, **dialect))
    except inputs.InputTooLarge as error:
        if streamable and error.role == "signal" and error.streamable:
            raise ConvcliError(f"{error}; use --stream") from None
        raise
    hint = inputs.column_hint(signal, values)
    if hint and arrays[1].ndim == 1:
        raise ConvcliError(
            f"the kernel has 1 dimension(s) but the signal has {values.ndim}; {hint}"
        )
    for role, values in zip(("signal", "kernel"), arrays):
        _note_nonfinite(role, values)
    _note_layer_shapes(*arrays)
    return arrays


def _note_layer_shapes(signal: np.ndarray, kernel: np.ndarray) -> None:
    """A note where the inputs look like a CNN layer's: 3- to 5-D, the same size on axis 1
    (channels), which this command slides over as one more axis. It comes at once, so that
    it stands before the error such inputs usually meet (a batch shorter than C_out)."""
    if 3 <= signal.ndim == kernel.ndim <= 5 and signal.shape[1] == kernel.shape[1] > 1:
        click.echo(
            f"note: shapes {signal.shape} and {kernel.shape} look like a CNN layer's input "
            "and weights (channels on axis 1); this command slides the kernel over every axis "
            "as one array, and `convcli layer` sums over the channels as PyTorch does",
            err=True,
        )


def _note_nonfinite(role: str, values: np.ndarray) -> None:
    """A note that an input holds nan or inf, and that only the outputs near them change."""
    count = engine.count_nonfinite(values)
    if count:
        _notes(
            (
                f"the {role} holds {count} nan/inf value(s); "
                "only the outputs whose window covers them are affected",
            )
        )


def _emit(
    chosen: str,
    output: str | None,
    view: Callable[[], Any],
    wide: bool = False,
    **writers: Callable[[], str | bytes | Iterable[serialise.Piece]],
) -> None:
    """Show a result: a rich view (chosen "table" or "text"), or the writer named ``chosen``.

    The view is built only when it is shown, so rich is imported only then; a ``wide``
    view keeps its long lines unwrapped in pipes and files.
    """
    if chosen in writers:
        outputs.write_text(writers[chosen](), output)
        return
    if chosen not in ("table", "text"):
        raise click.UsageError(
            f"this command cannot write {chosen.upper()}; choose another -o extension "
            f"({', '.join('.' + name for name in writers)} or plain text)"
        )
    render = _render()
    if output is None:
        with outputs.standard_output_errors(), _display():
            render.print_view(view(), wide, outputs.standard_output())
    else:
        with render.display_options(click.get_current_context().meta.get(_DIGITS)):
            outputs.write_text(render.view_text(view(), wide), output)


def _display() -> contextlib.AbstractContextManager[Any]:
    """Views built and printed inside show --digits digits, in ASCII where standard output
    cannot encode their glyphs."""
    render = _render()
    unencodable = not glyphs.fits(getattr(sys.stdout, "encoding", None))
    return render.display_options(click.get_current_context().meta.get(_DIGITS), unencodable)


def _render() -> Any:
    """The rich rendering module, imported on first use to keep start-up fast."""
    from convcli.render import tables as render

    return render


def _run_single(
    operation: Operation,
    signal: str,
    kernel: str,
    delimiter: str | None,
    output_format: str,
    output: str | None,
    show_all: bool,
    stream: bool,
    lags: bool,
    normalize: str,
    scale: str,
    options: Options,
) -> None:
    """Body of ``conv`` and ``corr``: read, compute one operation, show it."""
    labelled = lags or normalize != "none"
    if operation == "convolution" and labelled:
        raise click.UsageError(
            "--lags and --normalize apply to correlation outputs: use corr, or compare to "
            "see the convolution beside the correlation"
        )
    _refuse_labels_with_convention(labelled, options)
    if stream:
        if options.convention != "convcli":
            raise click.UsageError("--stream computes convcli's own convention only")
        if labelled:
            raise click.UsageError("--stream writes plain values: leave out --lags and --normalize")
        _refuse_scale("csv")
        _run_stream(operation, (signal, kernel), delimiter, (output_format, output), options)
        return
    chosen = outputs.choose_format(output_format, output)
    _refuse_scale(chosen)
    _lags_format(lags, chosen)
    _check_convention(options, (operation,))
    f, h = _read_inputs(signal, kernel, delimiter, streamable=True)
    _check_memory(f, h, options, chosen, show_all)
    if normalize == "none":
        result = compute(f, h, operation, options)
    else:
        from convcli.analysis.xcorr import normalized_compute

        result = normalized_compute(f, h, normalize, operation, options)
        _notes(result.notes)
    lag_axes = _lags(result.geometry, lags, chosen)
    _emit(
        chosen,
        output,
        lambda: _render().result_view(result, signal, kernel, show_all, lag_axes),
        csv=lambda: (
            serialise.result_csv_pieces(result.values)
            if lag_axes is None
            else serialise.labelled_csv_pieces({result.operation: result.values}, lag_axes)
        ),
        json=lambda: serialise.result_json(result, lag_axes),
        png=lambda: _png(result.values, scale),
        npy=lambda: serialise.result_npy(result.values),
    )


def _check_convention(options: Options, operations: tuple[Operation, ...]) -> None:
    """A library's refusal of these options whatever the data (--convention numpy
    --stride 2), before any input is read."""
    if options.convention != "convcli":
        from convcli.analysis.conventions import check_options

        check_options(operations, options)


def _refuse_labels_with_convention(labelled: bool, options: Options) -> None:
    """--lags and --normalize label convcli's own outputs; another library's result may be
    swapped or cut differently, so they do not combine with --convention; they lag and
    scale every axis of zero-padded sums, so not with --axes or --pad-value either."""
    if not labelled:
        return
    if options.convention != "convcli":
        raise click.UsageError(
            "--lags and --normalize label convcli's own results: leave out --convention "
            f"{options.convention} (convcli conventions shows where the libraries' results "
            "differ)"
        )
    if options.axes is not None or options.pad_mode == "constant":
        raise click.UsageError(
            "--lags and --normalize label and scale sums along every axis over zeros or the "
            "signal's own cells: leave out --axes and --pad-value"
        )


def _notes(notes: tuple[str, ...]) -> None:
    """What the reader of a result should know, one ``note:`` line each on stderr once the
    command has succeeded (a command that fails prints its error alone)."""
    click.get_current_context().meta.setdefault(_NOTES, []).extend(notes)


def _write_page(
    output: str | None,
    build: Callable[[Any], str],
    explanations: Sequence[Any] = (),
    advice: str = "",
) -> None:
    """Write an HTML page, ``build(render.page)``, with --digits digits to -o or standard
    output; a page of these explanations over the size limit is refused first, with
    ``advice`` (pages of other things check their own)."""
    from convcli.render import page

    if explanations:
        page.check_page_size(explanations, advice)
    with _render().display_options(click.get_current_context().meta.get(_DIGITS)):
        text = build(page)
    outputs.write_text(text, output)


def _lags_format(wanted: bool, chosen: str) -> None:
    """Refuse --lags with an output format that has no place for them."""
    if wanted and chosen == "html":
        raise click.UsageError("--lags labels text, table, CSV and JSON output, not a page")
    if wanted and chosen in ("png", "npy"):
        raise click.UsageError(
            f"--lags labels table, CSV and JSON output; {chosen.upper()} holds the values alone"
        )


def _lags(geometry: Geometry, wanted: bool, chosen: str) -> tuple[np.ndarray, ...] | None:
    """The lags along each axis when --lags asks for them (for table, CSV and JSON only)."""
    if not wanted:
        return None
    _lags_format(wanted, chosen)
    from convcli.analysis.xcorr import geometry_lags

    return geometry_lags(geometry)


#: Values read per block by --stream.
_STREAM_BLOCK = 1 << 16


def _run_stream(
    operation: Operation,
    sources: tuple[str, str],
    delimiter: str | None,
    destination: tuple[str, str | None],
    options: Options,
) -> None:
    """``--stream``: read the signal in blocks and write each block of outputs as CSV at once.

    ``sources`` are SIGNAL and KERNEL, ``destination`` the --format and -o values.
    """
    from convcli.engine.streaming import Stream

    signal, kernel = sources
    output_format, output = destination

    if outputs.choose_format(output_format, output, interactive=False) != "csv":
        raise click.UsageError("--stream writes CSV: use --format csv (or leave it out)")
    inputs.check_one_stdin({"SIGNAL": signal, "KERNEL": kernel})
    from convcli.cli import limits

    dialect = _csv_dialect(delimiter)
    streamer = Stream(inputs.read_kernel(kernel, 1, **dialect), operation, options)
    limits.check_stream(streamer)
    blocks = inputs.read_ahead(inputs.iter_signal_blocks(signal, _STREAM_BLOCK, **dialect))
    with outputs.output_sink(output) as write, _progress(signal) as advance_to:
        for values, read in blocks:
            for piece in serialise.result_csv_pieces(streamer.feed(values)):
                write(piece)
            advance_to(read)
        for piece in serialise.result_csv_pieces(streamer.finish()):
            write(piece)


@contextlib.contextmanager
def _progress(signal: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; otherwise nothing at all."""
    if not outputs.stderr_is_terminal():
        yield lambda read: None
        return
    from convcli.render.progress import byte_progress

    with byte_progress(signal, inputs.source_size(signal)) as advance_to:
        yield advance_to


#: Arguments and options of ``conv`` and ``corr``, which differ only in the operation
#: (and in whether --lags and --normalize are offered).
single_operation_options = _stack(
    source_argument("signal"),
    source_argument("kernel"),
    sliding_options,
    method_option,
    convention_option,
    stream_option,
    result_output_options,
    digits_option,
)


@click.group(cls=ConvcliGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convcli")
def cli() -> None:
    """Convolution and cross-correlation of a signal with a kernel, side by side.

    Both slide the kernel over the signal and take dot products; convolution
    flips the kernel first, correlation (what CNN layers compute) does not.

    \b
    Example:
        convcli compare 2,1,3,5,4 1,-1
    """


@cli.command(cls=NumbersCommand, epilog=INPUTS_HELP)
@source_argument("signal")
@source_argument("kernel")
@sliding_options
@method_option
@convention_option
@correlation_options()
@_result_output_options(
    (*outputs.FORMATS, "html"),
    " html (or -o NAME.html): the interactive page of both operations, stepped together.",
)
@digits_option
@_with_options
def compare(
    signal: str,
    kernel: str,
    delimiter: str | None,
    output_format: str,
    output: str | None,
    show_all: bool,
    lags: bool,
    normalize: str,
    scale: str,
    options: Options,
) -> None:
    """Convolution and correlation side by side, and whether they agree.

    The verdict says whether the kernel is symmetric (the two are equal),
    antisymmetric (one is minus the other) or neither. --normalize scales both
    columns alike (the convolution as the correlation with the flipped kernel).

    \b
    Example:
        convcli compare 2,1,3,5,4 1,-1
        convcli compare samples/f.csv samples/h.csv --padding full --lags
        convcli compare 2,1,3,5,4 1,-1 --convention torch
    """
    _refuse_labels_with_convention(lags or normalize != "none", options)
    chosen = outputs.choose_format(output_format, output)
    _refuse_scale(chosen)
    png_names = _comparison_png_names(output) if chosen == "png" else None
    _lags_format(lags, chosen)
    if chosen == "html":
        _refuse_given(
            ("normalize",),
            "scales table, CSV and JSON output; a page (--format html) shows the plain sums",
            "",
        )
        if options.axes is not None:
            raise click.UsageError(
                "a page (--format html) slides the kernel along every axis; --axes broadcasts "
                "it along the others: leave one out"
            )
        if options.convention != "convcli":
            raise click.UsageError(
                f"a page (--format html) writes out convcli's own sums; --convention "
                f"{options.convention} compares by that library's rules: leave one out"
            )
    _check_convention(options, ("convolution", "correlation"))
    f, h = _read_inputs(signal, kernel, delimiter)
    _check_memory(f, h, options, chosen, show_all, comparing=True)
    if normalize == "none":
        comparison = comparison_of(f, h, options)
    else:
        from convcli.analysis.xcorr import compare_normalized

        comparison = compare_normalized(f, h, normalize, options)
        _notes(comparison.notes)
    lag_axes = _lags(comparison.geometry, lags, chosen)
    if png_names is not None:
        _write_comparison_pngs(comparison, png_names, scale)
        return
    if chosen == "html":
        from convcli.analysis import steps

        explanations = [
            steps.explain(f, h, operation, options) for operation in ("convolution", "correlation")
        ]
        _write_page(
            output,
            lambda page: page.explanation_page(explanations, comparison=comparison),
            explanations,
            "write part of it with convcli explain SIGNAL KERNEL --format html --steps START:END",
        )
        return
    _emit(
        chosen,
        output,
        lambda: _render().comparison_view(comparison, signal, show_all, lag_axes),
        csv=lambda: serialise.comparison_csv_pieces(comparison, lag_axes),
        json=lambda: serialise.comparison_json(comparison, lag_axes),
        npy=lambda: serialise.comparison_npy(comparison),
    )


@cli.command(cls=NumbersCommand, epilog=INPUTS_HELP)
@single_operation_options
@correlation_options(hidden=True)
@_with_options
def conv(**arguments: Any) -> None:
    """Convolution: slide the flipped kernel over the signal.

    \b
    Example:
        convcli conv 2,1,3,5,4 1,-1 --padding full
        convcli conv 2,1,3,5,4 1,-1 --padding same --convention numpy
        convcli conv samples/noisy-sine.csv box:5 --stream -o smooth.csv
    """
    _run_single("convolution", **arguments)


@cli.command(cls=NumbersCommand, epilog=INPUTS_HELP)
@single_operation_options
@correlation_options()
@_with_options
def corr(**arguments: Any) -> None:
    """Cross-correlation: slide the kernel as given (conjugated) over the signal.

    \b
    Example:
        convcli corr 2,1,3,5,4 1,-1 --format json
        convcli corr 1,2,3 1,2,3 --padding full --lags --normalize coeff
    """
    _run_single("correlation", **arguments)


@cli.command("conventions", cls=NumbersCommand, epilog=INPUTS_HELP)
@source_argument("signal")
@source_argument("kernel")
@operations_option("Which operation to line up.")
@geometry_options
@method_option
@output_options(
    CONVENTIONS_FORMATS,
    "auto: a table on a terminal, CSV in a pipe, or by the -o file's extension (.json).",
)
@digits_option
@_with_options
def conventions_command(
    signal: str,
    kernel: str,
    operations: str,
    delimiter: str | None,
    output_format: str,
    output: str | None,
    show_all: bool,
    options: Options,
) -> None:
    """The same request in numpy, scipy, MATLAB, PyTorch and TensorFlow, side by side.

    Each row is the call a user of that library would write and what it returns;
    results that differ from the majority are marked with the reason.

    \b
    Example:
        convcli conventions 2,1,3,5,4 1,-1 --padding same
        convcli conventions samples/image.csv sobel-x --op corr --format json
    """
    from convcli.analysis.conventions import lineup

    f, h = _read_inputs(signal, kernel, delimiter)
    table = refusals_in_flag_words(lineup(f, h, OPERATION_CHOICES[operations], options))
    _emit(
        outputs.choose_format(output_format, output),
        output,
        lambda: _render().lineup_view(table, show_all),
        wide=True,
        csv=lambda: serialise.lineup_csv(table),
        json=lambda: serialise.lineup_json(table),
    )


@cli.command(cls=NumbersCommand, epilog=INPUTS_HELP.replace("KERNEL", "REFERENCE"))
@source_argument("signal")
@source_argument("reference")
@click.option(
    "--max-lag",
    type=click.IntRange(min=0),
    default=None,
    help="Search only the lags from -N to N (default: every lag with overlap).",
)
@method_option
@delimiter_option
@output_options(DELAY_FORMATS, "auto: a table on a terminal, CSV in a pipe or by -o's extension.")
@digits_option
@_with_options
def delay(
    signal: str,
    reference: str,
    max_lag: int | None,
    delimiter: str | None,
    output_format: str,
    output: str | None,
    show_all: bool,
    options: Options,
) -> None:
    """The shift that best aligns SIGNAL with REFERENCE: the peak of their cross-correlation.

    A positive lag d means SIGNAL is REFERENCE delayed by d samples
    (SIGNAL[n] ~ REFERENCE[n - d]), as the peak of MATLAB's xcorr(SIGNAL,
    REFERENCE); the refined lag interpolates a parabola through the peak. The
    normalized peak is the peak over both norms, in [-1, 1] (-1: an inverted copy).

    \b
    Example:
        convcli delay 0,0,0,1,2,1,0 1,2,1,0,0,0,0
        convcli delay samples/recording.csv samples/pattern.csv --max-lag 30 --format json
    """
    from convcli.analysis.xcorr import find_delay

    inputs.check_one_stdin({"SIGNAL": signal, "REFERENCE": reference})
    dialect = _csv_dialect(delimiter)
    sources = ((signal, "signal"), (reference, "reference"))
    # numbers typed inline first, so that a mistake there never waits for standard input
    typed = [
        None if inputs.reads_data(s) else inputs.read_array(s, role, **dialect)
        for s, role in sources
    ]
    arrays = [
        inputs.read_array(s, role, **dialect) if values is None else values
        for values, (s, role) in zip(typed, sources)
    ]
    found = find_delay(arrays[0], arrays[1], max_lag=max_lag, method=options.method)
    _emit(
        outputs.choose_format(output_format, output),
        output,
        lambda: _render().delay_view(found, signal, reference),
        csv=lambda: serialise.delay_csv(found),
        json=lambda: serialise.delay_json(found),
    )


@cli.command(cls=NumbersCommand, epilog=INPUTS_HELP)
@source_argument("signal")
@source_argument("kernel")
@operations_option("Which operation to write out.")
@constant_geometry_options
@output_options(
    EXPLAIN_FORMATS,
    "auto: the worked steps as text, or by a -o file's extension: .json, .html (the "
    "interactive page), .md (Markdown), .tex (LaTeX, for amsmath) or .gif (the animation, "
    "for slides).",
)
@click.option(
    "--animate",
    is_flag=True,
    help="Slide the window across the signal on the terminal (static text in a pipe or a "
    "text file; refused with JSON, Markdown, LaTeX and a page); with -o FILE.gif, a 1280x720 "
    "GIF for slides, a frame per step, at most 200 frames.",
)
@click.option(
    "--delay",
    type=_Checked("delay", _delay, keep_text=False),
    default=0.6,
    show_default=True,
    help="Seconds per step of --animate (a GIF's frames last from 0.02 s to 163.8375 s, its "
    "last 4 times as long).",
)
@click.option(
    "--lags", is_flag=True, help="Label each output with its lag (the correlation's shift)."
)
@click.option(
    "--layer",
    "as_layer",
    is_flag=True,
    help="SIGNAL and KERNEL are a CNN layer's INPUT and WEIGHTS (as convcli layer takes "
    "them): write out one output cell as its sum over channels and kernel taps.",
)
@click.option(
    "--cell",
    type=_Checked("cell", _cell, keep_text=False),
    default=None,
    help="With --layer: the output cell, one index per axis of the output as convcli layer "
    "writes it (N,C_out,H,W for a batched 2-D layer); the first by default.",
)
@click.option(
    "--steps",
    "step_span",
    type=_Checked("steps", _step_span, keep_text=False),
    default=None,
    help="Write out only steps START to END-1, numbered from 0 in row-major order: START:END, "
    "START: or :END, within the steps and no negative numbers; for a page, markdown, LaTeX "
    "or a GIF of a long signal.",
)
@layer_options
@digits_option
@_with_options
def explain(
    signal: str,
    kernel: str,
    operations: str,
    delimiter: str | None,
    output_format: str,
    output: str | None,
    show_all: bool,
    animate: bool,
    delay: float,
    lags: bool,
    as_layer: bool,
    cell: tuple[int, ...] | None,
    step_span: tuple[int | None, int | None] | None,
    bias: str | None,
    groups: int,
    transposed: bool,
    output_padding: str,
    layout: str,
    options: Options,
) -> None:
    """Write out every output as a worked sum of products, as on a blackboard.

    With --layer, one output cell of a CNN layer as the bias plus, for each input
    channel, the products of the kernel's taps with the input cells they meet.

    \b
    Example:
        convcli explain 2,1,3,5,4 1,-1
        convcli explain 2,1,3,5,4 1,2,1 --op corr --padding same --animate
        convcli explain 2,1,3,5,4 1,-1 --animate -o slide.gif
        convcli explain samples/rgb8x8.npy samples/filters2x3x3x3.npy --layer --cell 1,2,3
    """
    from convcli.analysis import steps

    layer_params = ("cell", "bias", "groups", "transposed", "output_padding", "layout")
    if not as_layer:
        _refuse_given(
            layer_params,
            "is an option of a layer: add --layer",
            "are options of a layer: add --layer",
        )
    else:
        _refuse_given(
            ("operations", "animate", "delay", "lags", "step_span"),
            "does not go with --layer",
            "do not go with --layer",
        )
        spec = _layer_spec(options, groups, layout, transposed, output_padding)
        chosen = outputs.choose_format(output_format, output, screen="text", plain="text")
        if chosen == "html":
            raise click.UsageError(
                "explain --layer writes one cell as text or JSON; for a page of every cell "
                "use convcli layer INPUT WEIGHTS --format html"
            )
        _check_declared_layer((signal, kernel), delimiter, spec, (chosen, show_all))
        (x, names), w, b = _read_layer(signal, kernel, bias, delimiter, spec.layout)
        from convcli.analysis.layers import plan_layer
        from convcli.cli import limits

        layer_plan = plan_layer(x.shape, w.shape, None if b is None else b.shape, spec)
        limits.check_layer(layer_plan, _kind(x, w, b), chosen, show_all)
        written = steps.layer_cell(x, w, b, spec, cell)
        _emit(
            chosen,
            output,
            lambda: _render_steps().layer_cell_view(written, names),
            wide=True,
            json=lambda: serialise.layer_cell_json(written),
        )
        return
    chosen = outputs.choose_format(output_format, output, screen="text", plain="text")
    if chosen == "html":
        _lags_format(lags, chosen)
    if chosen in _STILL_FORMATS:
        still = _STILL_FORMATS[chosen]
        _refuse_given(
            ("animate", "delay"),
            f"plays the steps on a terminal or writes a GIF (-o FILE.gif); {still}",
            f"play the steps on a terminal or write a GIF (-o FILE.gif); {still}",
        )
    if chosen == "mp4":
        raise click.UsageError(
            "an MP4 needs ffmpeg, which convcli does not use; write the animation as a GIF: "
            "-o FILE.gif"
        )
    if chosen == "gif":
        from convcli.render import animation

        animation.check_delay(delay)
    f, h = _read_inputs(signal, kernel, delimiter)
    _check_memory(f, h, options, output_format, show_all, comparing=True)
    chosen_operations = OPERATION_CHOICES[operations]
    explanations = [steps.explain(f, h, operation, options) for operation in chosen_operations]
    if step_span is not None:
        explanations = [explanation.only(*step_span) for explanation in explanations]
    digits = click.get_current_context().meta.get(_DIGITS)
    if chosen == "html":
        _write_page(
            output,
            lambda page: page.explanation_page(explanations),
            explanations,
            "write part of it with --steps START:END",
        )
        return
    if chosen == "gif":
        from convcli.cli import limits

        frames = len(explanations[0].steps)
        limits.check_frames(frames, animation.MAX_FRAMES, explanations[0].steps.start)
        # opened first, so a file that cannot be written is refused before the drawing
        with outputs.output_sink(output) as write, _frame_progress(frames) as drawn:
            write(animation.gif_bytes(explanations, delay, lags, digits, drawn))
        return
    if chosen in ("markdown", "latex"):
        advice = "write part of it with --steps START:END"
        _handout().check_size(explanations, chosen, advice, lags, digits)
    if animate and chosen == "text" and output is None and outputs.stdout_is_terminal():
        from convcli.render import explain as render_steps

        with _display():
            for explanation in explanations:
                render_steps.animate(explanation, delay, lags)
        return
    # Steps up to a screenful: the terminal's height, or render_steps' default off a terminal.
    lines = (
        shutil.get_terminal_size().lines
        if output is None and outputs.stdout_is_terminal()
        else None
    )
    _emit(
        chosen,
        output,
        lambda: _render_steps().explanations_view(explanations, show_all, lags, lines),
        wide=True,
        json=lambda: serialise.explanations_json(explanations, lags),
        markdown=lambda: _handout().markdown(explanations, lags, digits),
        latex=lambda: _handout().latex(explanations, lags, digits),
    )


@contextlib.contextmanager
def _frame_progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A bar of the frames drawn on stderr when it is a terminal; otherwise nothing."""
    if not outputs.stderr_is_terminal():
        yield None
        return
    from convcli.render.progress import count_progress

    with count_progress("drawing frames", total) as advance_to:
        yield advance_to


def _handout() -> Any:
    """The Markdown and LaTeX writers of explain, imported on first use."""
    from convcli.render import handout

    return handout


@cli.command(cls=NumbersCommand, epilog=INPUTS_HELP)
@source_argument("signal")
@source_argument("kernel")
@click.option(
    "--grad",
    "upstream",
    default=None,
    help="The upstream gradient G = dL/dy, shaped like y (numbers, a file or -); "
    "all ones by default.",
)
@click.option(
    "--forward",
    type=click.Choice(["corr", "conv"]),
    default="corr",
    show_default=True,
    help="The forward operation: corr as in CNN layers, or conv.",
)
@constant_geometry_options
@output_options(
    BACKWARD_FORMATS,
    "auto: the formulas and gradients as text (JSON by a -o .json file, the stepped HTML "
    "page by .html).",
)
@click.option(
    "--layer",
    "as_layer",
    is_flag=True,
    help="SIGNAL and KERNEL are a CNN layer's INPUT and WEIGHTS (as convcli layer takes "
    "them): dL/dx, dL/dw and dL/db of the layer.",
)
@layer_options
@digits_option
@_with_options
def backward(
    signal: str,
    kernel: str,
    upstream: str | None,
    forward: str,
    delimiter: str | None,
    output_format: str,
    output: str | None,
    show_all: bool,
    as_layer: bool,
    bias: str | None,
    groups: int,
    transposed: bool,
    output_padding: str,
    layout: str,
    options: Options,
) -> None:
    """Correlation forward, convolution backward: both gradients and where they come from.

    For y = corr(x, w), dL/dx is the full convolution of G with w and dL/dw the
    correlation of x with G; both are checked against the operator's matrix. With
    --layer, a CNN layer's dL/dx (the transposed convolution of G with the weights),
    dL/dw and dL/db.

    \b
    Example:
        convcli backward 2,1,3,5,4 1,-1
        convcli backward 2,1,3,5,4 1,-1 --grad 1,0,0,0 --forward conv --format json
        convcli backward samples/stereo.csv samples/stereo-weights.npy --layer --stride 2
    """
    from convcli.analysis.gradients import backward_pass

    if as_layer:
        _layer_backward(
            (signal, kernel, bias, upstream),
            delimiter,
            (output_format, output, show_all),
            _layer_spec(options, groups, layout, transposed, output_padding),
        )
        return
    _refuse_given(
        ("bias", "groups", "transposed", "output_padding", "layout"),
        "is an option of a layer: add --layer",
        "are options of a layer: add --layer",
    )
    inputs.check_one_stdin({"SIGNAL": signal, "KERNEL": kernel, "--grad": upstream})
    dialect = _csv_dialect(delimiter)
    grad = None
    if upstream is not None and not inputs.reads_data(upstream):  # typed: checked before reading
        grad = inputs.read_array(upstream, "gradient", **dialect)
    f, h = _read_inputs(signal, kernel, delimiter)
    _check_memory(f, h, options, output_format, show_all, comparing=True)
    if upstream is not None and grad is None:
        grad = inputs.read_array(upstream, "gradient", **dialect)
    gradients = backward_pass(f, h, grad, forward, options)
    chosen = outputs.choose_format(output_format, output, screen="table", plain="table")
    if chosen == "html":
        _write_page(output, lambda page: page.backward_page(gradients))
        return
    _emit(
        chosen,
        output,
        lambda: _render().backward_view(gradients, show_all),
        wide=True,
        json=lambda: serialise.backward_json(gradients),
    )


@cli.command("layer", cls=NumbersCommand, epilog=LAYER_INPUTS_HELP)
@click.argument("input_source", metavar="INPUT")
@click.argument("weights")
@layer_options
@constant_geometry_options
@click.option(
    "--convention",
    type=click.Choice(LAYER_CONVENTION_CHOICES),
    default="convcli",
    show_default=True,
    help="Follow PyTorch's or TensorFlow's rules (what they refuse, their 'same' padding).",
)
@output_options(
    LAYER_FORMATS,
    "auto: a table on a terminal, JSON in a pipe, or by the -o file's extension "
    "(.json, .npy, .csv, .html). npy: the whole output tensor; html: each output cell as its "
    "sum, stepped; csv: a 1-D layer's output channels "
    "as columns.",
)
@digits_option
@_with_options
def layer_command(
    input_source: str,
    weights: str,
    bias: str | None,
    groups: int,
    transposed: bool,
    output_padding: str,
    layout: str,
    delimiter: str | None,
    output_format: str,
    output: str | None,
    show_all: bool,
    options: Options,
) -> None:
    """A CNN convolution layer: channels, a batch, groups and a bias, as PyTorch computes it.

    INPUT is (N, C_in, *spatial) or (C_in, *spatial), WEIGHTS (C_out, C_in/groups, *k),
    with 1, 2 or 3 spatial axes. A small layer is shown as what it is: each output
    channel the bias plus one cross-correlation per input channel; a large one as its
    shapes and a summary.

    \b
    Example:
        convcli layer samples/stereo.csv samples/stereo-weights.npy --bias 0,1
        convcli layer samples/rgb8x8.npy samples/filters2x3x3x3.npy --padding 1
        convcli layer x.npy w.npy --stride 2 --groups 2 -o y.npy
    """
    from convcli.analysis import layers

    spec = _layer_spec(options, groups, layout, transposed, output_padding)
    chosen = outputs.choose_format(output_format, output, plain="json")
    _check_declared_layer((input_source, weights), delimiter, spec, (chosen, show_all))
    (x, names), w, b = _read_layer(input_source, weights, bias, delimiter, spec.layout)
    layer_plan = layers.plan_layer(x.shape, w.shape, None if b is None else b.shape, spec)
    terms = None
    if chosen == "table":
        from convcli.render import layers as render_layers

        shown_terms = render_layers.shows_terms(layer_plan)
    else:
        shown_terms = chosen == "html"
    from convcli.cli import limits

    limits.check_layer(layer_plan, _kind(x, w, b), chosen, show_all, shown_terms)
    if chosen == "html":
        terms = layers.terms_of(x, w, b, spec)
        _write_page(output, lambda page: page.layer_page(terms))
        return
    if shown_terms:
        terms = layers.terms_of(x, w, b, spec)
        values = terms.output
    else:
        values = layers.run_layer(x, w, b, spec)
    shapes = (x.shape, w.shape, None if b is None else b.shape)

    def view() -> Any:
        from convcli.render import layers as render_layers

        if terms is not None:
            return render_layers.layer_terms_view(terms, names, show_all)
        return render_layers.layer_summary_view(values, layer_plan, spec, shapes, show_all)

    _emit(
        chosen,
        output,
        view,
        json=lambda: serialise.layer_json(values, layer_plan, spec, shapes),
        csv=lambda: serialise.layer_csv(values, layer_plan, spec),
        npy=lambda: serialise.result_npy(values),
    )


def _refuse_given(names: tuple[str, ...], one: str, several: str) -> None:
    """Options given on the command line that do not apply here are a usage error, read
    as ``--lags {one}`` or ``--lags and --animate {several}``."""
    ctx = click.get_current_context()
    given = [
        param.opts[0]
        for param in ctx.command.params
        if param.name in names
        and ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE
    ]
    if len(given) == 1:
        raise click.UsageError(f"{given[0]} {one}")
    if given:
        raise click.UsageError(f"{', '.join(given[:-1])} and {given[-1]} {several}")


def _check_declared_layer(
    sources: tuple[str, str], delimiter: str | None, spec: Any, shown: tuple[str, bool]
) -> None:
    """Check a layer's shapes and memory from the shapes its INPUT and WEIGHTS declare (a
    .npy file's header, numbers typed inline) before any file's values are read, so that a
    mismatch or a layer too large never waits for a large file; nothing when a source
    declares no shape (CSV, standard input). ``shown`` is the format and --all."""
    from convcli.analysis.layers import plan_layer
    from convcli.cli import limits

    found = _declared(sources[0], "input", delimiter)
    other = _declared(sources[1], "weights", delimiter)
    if found is None or other is None:
        return
    (input_shape, input_kind), (weight_shape, weight_kind) = found, other
    layer_plan = plan_layer(input_shape, weight_shape, None, spec)
    kind = "c" if "c" in (input_kind, weight_kind) else "f"
    limits.check_layer(layer_plan, kind, *shown)


def _declared(source: str, role: str, delimiter: str | None) -> tuple[tuple[int, ...], str] | None:
    """The shape and dtype kind of a layer's array, from a regular .npy file's header or
    from numbers typed inline; None for any other source."""
    from convcli.formats import npy

    path = inputs.split_source(source)[0]
    if path is None:
        values = inputs.load_tensor(source, role, **_csv_dialect(delimiter))[0]
        return values.shape, values.dtype.kind
    if not (path.lower().endswith(".npy") and os.path.isfile(path)):
        return None
    try:
        with open(path, "rb") as stream:
            header = npy.read_header(stream.read(1 << 16))
    except OSError:
        return None  # reading it says what is wrong
    return None if header is None else (header.shape, header.dtype.kind)


def _kind(*arrays: np.ndarray | None) -> str:
    """The dtype kind the arrays' results take: i, f or c (O for Python ints)."""
    import numpy as np  # loaded already, through engine

    return np.result_type(*(a for a in arrays if a is not None)).kind


def _read_layer(
    input_source: str, weights: str, bias: str | None, delimiter: str | None, layout: str
) -> tuple[tuple[np.ndarray, list[str] | None], np.ndarray, np.ndarray | None]:
    """A layer's INPUT (and its channels' names, if its source names them), WEIGHTS and
    --bias, numbers typed inline read first, so that a mistake there never waits for
    standard input. A CSV's channels (its columns) are read as (C, L), or as (L, C) for
    the channels-last layout."""
    sources = {"INPUT": input_source, "WEIGHTS": weights, "--bias": bias}
    inputs.check_one_stdin(sources)
    dialect = _csv_dialect(delimiter)
    roles = {"INPUT": "input", "WEIGHTS": "weights", "--bias": "bias"}
    order = sorted(
        (name for name, source in sources.items() if source is not None),
        key=lambda name: inputs.reads_data(sources[name] or ""),
    )
    read: dict[str, tuple[np.ndarray, list[str] | None]] = {}
    for name in order:
        source = sources[name] or ""
        if name == "--bias":  # a vector: a CSV file's one column or row, not a channel
            read[name] = (inputs.read_array(source, roles[name], **dialect), None)
        else:
            read[name] = inputs.load_tensor(source, roles[name], **dialect)
    for name in order:
        _note_nonfinite(roles[name], read[name][0])
    offsets = read["--bias"][0] if "--bias" in read else None
    values, names = read["INPUT"]
    if layout == "nhwc" and names is not None:
        values = values.T.copy()
    return (values, names), read["WEIGHTS"][0], offsets


def _layer_backward(
    sources: tuple[str, str, str | None, str | None],
    delimiter: str | None,
    shown: tuple[str, str | None, bool],
    spec: Any,
) -> None:
    """``backward --layer``: read INPUT, WEIGHTS, --bias and --grad, compute the layer's
    gradients and show them. ``sources`` are those four arguments, ``shown`` the --format,
    -o and --all values."""
    from convcli.analysis import layers
    from convcli.analysis.layer_gradients import layer_backward_of
    from convcli.cli import limits

    _refuse_given(("forward",), "does not go with --layer", "do not go with --layer")
    signal, kernel, bias, upstream = sources
    output_format, output, show_all = shown
    inputs.check_one_stdin({"INPUT": signal, "WEIGHTS": kernel, "--bias": bias, "--grad": upstream})
    dialect = _csv_dialect(delimiter)
    grad = None
    if upstream is not None and not inputs.reads_data(upstream):  # typed: checked before reading
        grad = inputs.load_tensor(upstream, "gradient", **dialect)[0]
    chosen = outputs.choose_format(output_format, output, screen="table", plain="table")
    _check_declared_layer((signal, kernel), delimiter, spec, (chosen, show_all))
    (x, _), w, b = _read_layer(signal, kernel, bias, delimiter, spec.layout)
    layer_plan = layers.plan_layer(x.shape, w.shape, None if b is None else b.shape, spec)
    # the forward output, G, dL/dx and dL/dw and their checks: about three layers' arrays
    limits.check_layer(layer_plan, _kind(x, w, b), chosen, show_all, terms=True)
    if upstream is not None and grad is None:
        grad = inputs.load_tensor(upstream, "gradient", **dialect)[0]
    gradients = layer_backward_of(x, w, grad, b, spec)
    _emit(
        chosen,
        output,
        lambda: _render_layers().layer_backward_view(gradients, show_all),
        wide=True,
        json=lambda: serialise.layer_backward_json(gradients),
    )


def _render_layers() -> Any:
    """The rich views of layers, imported on first use."""
    from convcli.render import layers as render_layers

    return render_layers


@cli.command()
@output_options(
    KERNELS_FORMATS, "auto: a table on a terminal, JSON in a pipe or a file.", reads_files=False
)
def kernels(output_format: str, output: str | None, show_all: bool) -> None:
    """List the named kernels, with their values and symmetry verdicts.

    A name works anywhere a KERNEL goes; box, gaussian and identity take the
    signal's dimensions, the 1-D kernels act along rows of a 2-D signal.

    \b
    Example:
        convcli kernels
        convcli compare 0,0,0,1,1,1 diff
    """
    from convcli.analysis.kernels import catalogue

    listing = catalogue()
    _emit(
        outputs.choose_format(output_format, output, plain="json"),
        output,
        lambda: _render().kernels_view(listing),
        json=lambda: serialise.kernels_json(listing),
    )


@cli.command(cls=NumbersCommand, epilog=INPUTS_HELP)
@source_argument("signal")
@source_argument("kernel")
@constant_geometry_options
@method_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    required=True,
    help="The figure file: .png, .svg, .pdf or .jpg.",
)
@click.option("--title", default=None, help="A title over the figure.")
@click.option("--lags", is_flag=True, help="Label the results' axes with lags, not indices.")
@click.option(
    "--style",
    type=click.Choice(PLOT_STYLES),
    default="default",
    show_default=True,
    help="projector: larger type and thicker lines, 1280x720 pixels unless --size says.",
)
@click.option(
    "--size",
    type=_Checked("size", _pixel_size, keep_text=False),
    default=None,
    help="The figure's size in pixels, WIDTHxHEIGHT (each 100 to 8000): 1280x720.",
)
@click.option(
    "--dpi",
    type=click.FloatRange(min=20, max=600),
    default=100,
    show_default=True,
    help="Pixels per inch (20 to 600). Type is in points: with --size, a higher dpi makes it "
    "larger; without, the figure gets more pixels.",
)
@click.option(
    "--font-scale",
    type=click.FloatRange(min=0.25, max=4),
    default=1.0,
    show_default=True,
    help="Multiply the size of all type (0.25 to 4).",
)
@force_option
@_with_options
def plot(
    signal: str,
    kernel: str,
    delimiter: str | None,
    output: str,
    title: str | None,
    lags: bool,
    style: str,
    size: tuple[int, int] | None,
    dpi: float,
    font_scale: float,
    options: Options,
) -> None:
    """Draw the signal, kernel, flipped kernel, convolution and correlation in one figure.

    1-D inputs give stem plots; 2-D inputs give images side by side, the two
    results on one shared colour scale. --style projector (or --size, --dpi and
    --font-scale) sizes it for a slide. Needs the plot extra:
    pip install 'convcli[plot]'.

    \b
    Example:
        convcli plot samples/f.csv samples/h.csv -o figure.png
        convcli plot samples/image32.csv sobel-x -o edges.svg
        convcli plot samples/f.csv samples/h.csv --style projector -o slide.png
    """
    from convcli.render.plot import figure_bytes, plot_format

    figure_format = plot_format(output)
    f, h = _read_inputs(signal, kernel, delimiter)
    _check_memory(f, h, options, "figure", False, comparing=True)
    comparison = engine.compare(f, h, options)
    figure = figure_bytes(
        comparison,
        figure_format,
        title,
        lags=lags,
        size=size,
        dpi=dpi,
        font_scale=font_scale,
        style=style,
    )
    outputs.write_bytes(figure, output)


_DEMO_SIGNAL = [2, 1, 3, 5, 4]
_DEMO_IMAGE = [
    [0, 0, 0, 0, 0, 0],
    [0, 9, 9, 9, 9, 0],
    [0, 9, 5, 5, 9, 0],
    [0, 9, 5, 5, 9, 0],
    [0, 9, 9, 9, 9, 0],
    [0, 0, 0, 0, 0, 0],
]
_DEMO_STEPS: list[tuple[str, str, Callable[[], Any]]] = [
    (
        "1. Convolution flips the kernel; correlation does not",
        "f = [2, 1, 3, 5, 4] and the difference kernel h = [1, -1]. Flipping h gives -h: the "
        "kernel is antisymmetric, so convolution is minus correlation at every position.",
        lambda: _render().comparison_view(engine.compare(_DEMO_SIGNAL, [1, -1]), ""),
    ),
    (
        "2. A symmetric kernel gives the same answer both ways",
        "h2 = [-1, 2, -1] reads the same backwards, so the flip changes nothing: "
        "[-3, 0, 3] for both.",
        lambda: _render().comparison_view(engine.compare(_DEMO_SIGNAL, [-1, 2, -1]), ""),
    ),
    (
        "3. The sums behind example 1",
        "Each output is a dot product of a window of f with the kernel as slid.",
        lambda: _render_steps().explanations_view(
            [
                _module("steps").explain(_DEMO_SIGNAL, [1, -1], op)
                for op in OPERATION_CHOICES["both"]
            ]
        ),
    ),
    (
        "4. In 2-D: a Gaussian blur of a small image",
        "gaussian:3 is symmetric along both axes, so blurring by convolution or by correlation "
        "(what a CNN layer computes) is the same.",
        lambda: _render().comparison_view(
            engine.compare(
                _DEMO_IMAGE,
                _module("kernels").named_kernel("gaussian:3", 2),
                Options(padding="same"),
            ),
            "image",
        ),
    ),
    (
        "5. Correlation forward, convolution backward",
        "A CNN layer computes y = corr(x, w). Its gradient with respect to x is a full "
        "convolution of the upstream gradient G with w, and with respect to w a correlation "
        "of x with G.",
        lambda: _render().backward_view(_module("gradients").backward(_DEMO_SIGNAL, [1, -1])),
    ),
]


#: Keys of the demo's prompt: back a step (b, p or the left arrow), quit (q or Escape).
_BACK_KEYS = ("b", "B", "p", "P", "\x1b[D", "\x1bOD")
_QUIT_KEYS = ("q", "Q", "\x1b")


@cli.command()
@outputs.standard_output_errors()
def demo() -> None:
    """Walk through the classic explanation, step by step.

    On a terminal it waits for a key between steps: any key goes on, b (or p, or
    the left arrow) goes back a step, q quits; in a pipe it runs straight through.

    \b
    Example:
        convcli demo
    """
    render = _render()
    interactive = inputs.stdin_is_terminal() and outputs.stdout_is_terminal()
    number = 0
    with _display():
        while number < len(_DEMO_STEPS):
            title, story, view = _DEMO_STEPS[number]
            heading = render.heading(f"{title} ({number + 1}/{len(_DEMO_STEPS)})", story)
            render.print_view(heading, file=outputs.standard_output())
            render.print_view(view(), file=outputs.standard_output())
            number = _demo_key(number, render.glyph) if interactive else number + 1


def _demo_key(number: int, glyph: Callable[[str], str]) -> int:
    """Wait for a key after step ``number`` (counted from 0) and return the step to show
    next: one on, one back, or past the end to quit."""
    last = number == len(_DEMO_STEPS) - 1
    moves = "b: back · any other key: end" if last else "any key: next · b: back · q: quit"
    click.echo(glyph(f"Press a key ({moves})… "), nl=False)
    key = click.getchar()  # raises KeyboardInterrupt on Ctrl-C: the demo stops (exit 130)
    click.echo()
    if key in _QUIT_KEYS:
        return len(_DEMO_STEPS)
    if key in _BACK_KEYS:
        return max(number - 1, 0)
    return len(_DEMO_STEPS) if last else number + 1


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "fish", "zsh"]))
@outputs.standard_output_errors()
def completion(shell: str) -> None:
    """Print the script that lets SHELL complete convcli's commands, options, files and
    kernel names.

    \b
    Example:
        eval "$(convcli completion bash)"      # in ~/.bashrc
    """
    from click.shell_completion import BashComplete, get_completion_class

    class FilesToo(BashComplete):
        """click's bash script, with files added to other suggestions rather than instead
        of them (a SIGNAL may be a file or a kernel name)."""

        source_template = BashComplete.source_template.replace(
            "COMPREPLY=()\n            compopt -o default",
            'compopt -o filenames\n            COMPREPLY+=($(compgen -f -- "$value"))',
        )

    complete = FilesToo if shell == "bash" else get_completion_class(shell)
    assert complete is not None  # click knows all three shells
    click.echo(complete(cli, {}, "convcli", "_CONVCLI_COMPLETE").source())


def _render_steps() -> Any:
    """The rich views of explain, imported on first use."""
    from convcli.render import explain as render_steps

    return render_steps


def _module(name: str) -> Any:
    """An analysis module (steps, kernels, gradients) imported on first use, for the demo."""
    from importlib import import_module

    return import_module(f"convcli.analysis.{name}")


def main() -> None:
    """Console entry point: click's errors as one line, Ctrl-C as exit 130 and SIGTERM or
    SIGHUP as 128 + the signal, never a traceback."""
    outputs.drop_messages_if_stderr_closed()
    for stream in (sys.stdout, sys.stderr):
        glyphs.protect(stream)  # ASCII stand-ins on streams that cannot encode the glyphs
    with signals.stopping_signals():
        code = _run()
    # a --stream reader still blocked on standard input, or a thread still in polars
    if inputs.background_reader_alive() or outputs.background_writer_alive():
        signals.exit_now(code)
    sys.exit(code)


def _stopped(number: int) -> int:
    """The exit code of a run stopped by signal ``number`` (Ctrl-C quietly, others said)."""
    if number == signal.SIGINT:
        return _INTERRUPTED
    click.echo(f"Error: stopped by {signal.Signals(number).name}", err=True)
    return 128 + number


def _run() -> int:
    """Run the command line; the exit code, with any error already reported on stderr."""
    try:
        code = cli.main(prog_name="convcli", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except (click.Abort, KeyboardInterrupt):
        return _INTERRUPTED
    except signals.Stopped as stop:
        return _stopped(stop.number)
    except MemoryError:
        click.echo("Error: not enough memory for this computation", err=True)
        return 1
    except Exception as error:
        number = signals.first_signal()
        if number is not None:  # a library swallowed the signal's exception, raised its own
            return _stopped(number)
        if os.environ.get("CONVCLI_DEBUG"):
            raise
        click.echo(
            f"Error: internal error ({type(error).__name__}: {error}); please report it "
            "with the command that caused it (CONVCLI_DEBUG=1 shows the traceback)",
            err=True,
        )
        return _INTERNAL_ERROR
    return code if isinstance(code, int) else 0
