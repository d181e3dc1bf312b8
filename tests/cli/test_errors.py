"""convcli.cli.errors: the library's Python wording becomes the command line's flag wording.

Each library message that names a parameter is checked twice: as the library says it
(``padding='full'``) and as the command line prints it (``--padding full``), word for
word what the command line printed before the library learned to speak Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from convcli import compare, convolve, correlate
from convcli.cli.errors import FLAG_PARAMETERS, flag_words
from convcli.cli.main import cli
from convcli.engine.streaming import Stream
from convcli.errors import ConvcliError, OptionError
from convcli.options import Options
from tests.cli.runner import invoke
from tests.cli.test_main import error_table

#: A parameter written as Python writes it: name=value.
PYTHON_PARAMETER = re.compile(r"\b[a-z_]+=['\"\d-]")


def _switch_to_decimals() -> None:
    stream = Stream([1, 1], "convolution")
    stream.feed(np.arange(200_000))
    stream.feed(np.array([1.5]))


# (the library call, its message, the command line, the command line's message)
MESSAGES: list[tuple[Callable[[], object], str, list[str] | None, str]] = [
    (
        lambda: convolve(np.ones((2, 3)), np.ones((3, 2)), axes=1),
        "signal shape (2, 3) and kernel shape (3, 2) cannot broadcast along axis 0 (not in "
        "axes=(1,)): sizes must match or one be 1",
        ["conv", "1,2,3;4,5,6", "1,1;1,-1;3,3", "--axes", "1"],
        "signal shape (2, 3) and kernel shape (3, 2) cannot broadcast along axis 0 (not in "
        "--axes 1): sizes must match or one be 1",
    ),
    (
        lambda: convolve(np.ones((2, 3)), np.ones((2, 2)), axes=(0, -2)),
        "axes=(0, -2) lists axis 0 twice",
        ["conv", "1,2,3;4,5,6", "1,1;1,-1", "--axes", "0,-2"],
        "--axes 0,-2 lists axis 0 twice",
    ),
    (
        lambda: convolve([1, 2], [1], pad_value=-2.5, pad_mode="reflect"),
        "pad_value=-2.5 is what constant padding holds; pad_mode='reflect' takes its cells "
        "from the signal (give pad_mode='constant' or leave pad_value out)",
        ["conv", "1,2", "1", "--pad-value", "-2.5", "--pad-mode", "reflect"],
        "--pad-value -2.5 is what constant padding holds; --pad-mode reflect takes its cells "
        "from the signal (give --pad-mode constant or leave out --pad-value)",
    ),
    (
        lambda: Stream([1, 1], "convolution", Options.parse(axes=0)),
        "Stream slides a 1-D kernel along its one axis; axes= does not apply (leave it out, "
        "or use convolve or correlate on the whole signal)",
        ["conv", "1,2,3", "1,1", "--stream", "--axes", "0"],
        "--stream slides a 1-D kernel along its one axis; --axes does not apply (leave it "
        "out, or drop --stream)",
    ),
    (
        lambda: convolve([1, 2], [1, 2, 3]),
        "the kernel spans 3 cells on axis 0 but the padded signal has only 2; "
        "use a larger padding (e.g. padding='full') or a smaller kernel",
        ["conv", "1,2", "1,2,3"],
        "the kernel spans 3 cells on axis 0 but the padded signal has only 2; "
        "use a larger padding (e.g. --padding full) or a smaller kernel",
    ),
    (
        lambda: convolve([1, 2, 3], [1], stride=2, convention="numpy"),
        "numpy.convolve has no stride or dilation "
        "(they are neural-network options: try convention='torch')",
        ["conv", "1,2,3", "1", "--convention", "numpy", "--stride", "2"],
        "numpy.convolve has no stride or dilation "
        "(they are neural-network options: try --convention torch)",
    ),
    (
        lambda: convolve([[1, 2], [3, 4]], [[1, 1], [1, 1]], convention="numpy"),
        "numpy.convolve takes 1-D arrays only; numpy has no 2-D convolution "
        "(try convention='scipy')",
        ["conv", "1,2;3,4", "1,1;1,1", "--convention", "numpy"],
        "numpy.convolve takes 1-D arrays only; numpy has no 2-D convolution "
        "(try --convention scipy)",
    ),
    (
        lambda: convolve([1, 2, 3], [1], padding=1, pad_mode="reflect", convention="scipy"),
        "scipy.signal.convolve pads with zeros only, not reflect; "
        "convolve2d's boundary= can wrap or mirror: convention='scipy2d'",
        ["conv", "1,2,3", "1", "--convention", "scipy", "--padding", "1", "--pad-mode", "reflect"],
        "scipy.signal.convolve pads with zeros only, not reflect; "
        "convolve2d's boundary= can wrap or mirror: --convention scipy2d",
    ),
    (
        lambda: convolve([1, 2, 3], [1], convention="scipy2d"),
        "scipy.signal.convolve2d takes 2-D arrays only (try convention='scipy')",
        ["conv", "1,2,3", "1", "--convention", "scipy2d"],
        "scipy.signal.convolve2d takes 2-D arrays only (try --convention scipy)",
    ),
    (
        lambda: correlate([2, 1, 3], [1, 1], convention="matlab"),
        "MATLAB's xcorr has no shape argument: it returns every lag; use padding='full'",
        ["corr", "2,1,3", "1,1", "--convention", "matlab"],
        "MATLAB's xcorr has no shape argument: it returns every lag; use --padding full",
    ),
    (  # PyTorch's own words about its own padding=, quoted as PyTorch says them
        lambda: convolve([1, 2, 3, 4, 5], [1, 1], padding="same", stride=2, convention="torch"),
        "torch.nn.functional.conv1d: padding='same' is not supported for strided convolutions",
        ["conv", "1,2,3,4,5", "1,1", "--convention", "torch", "--padding", "same", "--stride", "2"],
        "torch.nn.functional.conv1d: padding='same' is not supported for strided convolutions",
    ),
    (
        lambda: compare([1, 2, 3], [1, 1], padding="full", convention="matlab"),
        "the convolution has shape (4,) and the correlation (5,), so they cannot be compared "
        "position by position; call convolve and correlate separately",
        ["compare", "1,2,3", "1,1", "--convention", "matlab", "--padding", "full"],
        "the convolution has shape (4,) and the correlation (5,), so they cannot be compared "
        "position by position; run conv and corr separately",
    ),
    (
        lambda: Stream([[1, 1], [1, 1]], "convolution"),
        "Stream takes a 1-D kernel, got 2 dimensions",
        ["conv", "1,2,3", "1,1;1,1", "--stream"],
        "--stream takes a 1-D kernel, got 2 dimensions",
    ),
    (
        lambda: Stream([1, 1], "convolution", Options.parse(padding=1, pad_mode="circular")),
        "Stream cannot pad circularly before the signal: that padding is the signal's end; "
        "pad after only (e.g. padding='0:2') or use convolve or correlate on the whole signal",
        ["conv", "1,2,3", "1,1", "--stream", "--padding", "1", "--pad-mode", "circular"],
        "--stream cannot pad circularly before the signal: that padding is the signal's end; "
        "pad after only (e.g. --padding 0:2) or drop --stream",
    ),
    (
        lambda: Stream([1, 1], "convolution", Options.parse(padding="same", stride=2)),
        "Stream cannot use padding='same' with a stride: its split depends on the signal's "
        "length; give the padding as BEFORE:AFTER instead",
        ["conv", "1,2,3", "1,1", "--stream", "--padding", "same", "--stride", "2"],
        "--stream cannot use --padding same with a stride: its split depends on the signal's "
        "length; give the padding as BEFORE:AFTER instead",
    ),
    (  # the command line's reader refuses this first, with its own message
        _switch_to_decimals,
        "the signal changed from integers to decimals after 200000 values; Stream needs one "
        "number type throughout (feed floats from the start, or use convolve or correlate on "
        "the whole signal)",
        None,
        "the signal changed from integers to decimals after 200000 values; --stream needs one "
        "number type throughout (write 1.0 rather than 1 from the start, or drop --stream)",
    ),
]


@pytest.mark.parametrize(
    ("call", "library", "command", "flags"), MESSAGES, ids=lambda v: str(v)[:40]
)
def test_library_wording_becomes_flag_wording(call, library, command, flags):
    with pytest.raises(ConvcliError) as caught:
        call()
    assert str(caught.value) == library
    assert "--" not in library
    assert flag_words(library) == flags
    if command is not None:
        result = invoke(*command)
        assert result.stderr == f"Error: {flags}\n"
        assert result.exit_code == (2 if isinstance(caught.value, OptionError) else 1)


@pytest.mark.parametrize(
    ("library", "flags"),
    [
        ("give delimiter=';' and decimal=','", "give --delimiter ';' and --decimal ,"),
        ("give delimiter=' '", "give --delimiter ' '"),
        ("(pad_mode='circular', max_lag='3')", "(--pad-mode circular, --max-lag 3)"),
        ("use normalize='coeff'; method='fft'", "use --normalize coeff; --method fft"),
        ("try forward='conv'", "try --forward conv"),
        ("pad_value=(1+2j) is", "--pad-value 1+2j is"),
        ("(not in axes=(0, 2)):", "(not in --axes 0,2):"),
        # not convcli's parameters, or not a Python string, or a quoted library's own words
        ("boundary='fill' and xpadding='full'", "boundary='fill' and xpadding='full'"),
        ("(padding=int or one per axis)", "(padding=int or one per axis)"),
        ("try stride=2 or dilation=1", "try stride=2 or dilation=1"),
        ("F.conv1d: padding='same' is not", "F.conv1d: padding='same' is not"),
        ("padding 'wide' is not valid", "padding 'wide' is not valid"),
        # text a user gave, shown bare or quoted: a file name, an inline kernel
        ("stride=2.csv, line 2", "stride=2.csv, line 2"),
        ("no such file: padding='7'.csv", "no such file: padding='7'.csv"),
        ("the kernel 'delimiter=3' is not", "the kernel 'delimiter=3' is not"),
        ("the kernel 'x padding='full'' is not", "the kernel 'x padding='full'' is not"),
    ],
)
def test_flag_words(library, flags):
    assert flag_words(library) == flags


@pytest.mark.parametrize(
    ("files", "arguments", "message"),
    [
        ({"stride=2.csv": "1\n2,x\n"}, ["stride=2.csv", "1"], "stride=2.csv, line 2"),
        ({}, ["padding=7.csv", "1"], "no such file: padding=7.csv"),
        ({}, ["1,2,3", "delimiter=3"], "the kernel 'delimiter=3' is not"),
    ],
)
def test_names_the_user_gave_are_shown_as_typed(tmp_path, monkeypatch, files, arguments, message):
    """A file name or a kernel that looks like a library parameter is not turned into a flag."""
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = invoke("conv", *arguments)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {message}")
    assert "--" not in result.stderr.split(message)[0] + message


def test_flag_parameters_are_options_of_the_command_line():
    options = {
        option
        for command in cli.commands.values()
        for parameter in command.params
        for option in parameter.opts
    }
    for name in FLAG_PARAMETERS:
        assert f"--{name.replace('_', '-')}" in options


@pytest.mark.parametrize(("command", "message", "code"), error_table(), ids=lambda v: str(v)[:40])
def test_the_error_table_is_in_flag_words(command, message, code):
    """docs/errors.md's messages, as the command line prints them, hold no Python wording."""
    assert flag_words(message) == message
    assert not PYTHON_PARAMETER.search(message), message
