"""Errors as the command line shows them: one line on stderr, in the words of its flags.

The library names parameters as Python does (``padding='full'``, the ``Stream``
class); :func:`flag_words` turns them into what a command line user types
(``--padding full``, ``--stream``). Usage errors exit 2, bad data 1 (docs/errors.md).
"""

from __future__ import annotations

import dataclasses
import re
import sys
from typing import TYPE_CHECKING, Any

import click

from convcli.errors import ConvcliError, OptionError
from convcli.render import glyphs

if TYPE_CHECKING:
    from convcli.analysis.conventions import Lineup

#: Library parameters that are options of the command line too (``pad_mode`` is --pad-mode).
FLAG_PARAMETERS = (
    "padding",
    "stride",
    "dilation",
    "pad_mode",
    "method",
    "convention",
    "normalize",
    "forward",
    "max_lag",
    "delimiter",
    "decimal",
    "axes",
    "pad_value",
    "steps",
    "size",
    "delay",
)
#: ``name='value'`` as the library writes a parameter into a message: after a space or an
#: opening parenthesis, the value a quoted string, then a space, a closing parenthesis, a
#: comma, a semicolon or the end. Text a user gave (a file name, a cell, an inline kernel)
#: is shown bare or in quotes, so ``stride=2.csv`` or ``'delimiter=3'`` stays as typed.
#: After a library function's name and a colon (``torch.nn.functional.conv1d: padding='same'
#: is ...``) it quotes that library's own message, about its own parameter, and stays too.
#: (Text: re compiles it on the first error, not at every start.)
_PARAMETER = (
    r"(?:(?P<quoted>\b\w+(?:\.\w+)+: )|(?<=[( ])|^)"
    rf"(?P<name>{'|'.join(FLAG_PARAMETERS)})="
    r"(?P<value>'(?:[^'\\]|\\.)*')(?=[ ),;]|$)"
)
#: ``axes=(0, 2)``, ``pad_value=2.5``, ``groups=2``, ``output_padding=(1, 0)`` and ``delay=2``: the
#: parameters the library writes unquoted (a number, a tuple of ints), after a space or an
#: opening parenthesis.
_UNQUOTED = (
    r"(?:(?<=[( ])|^)(?P<name>axes|pad_value|groups|output_padding|delay)=(?P<value>\((?:[-+\d.j]+,? ?)*\)|[-+\w.]+)"
    r"(?=[ ),;:]|$)"
)
#: What the library's messages say in Python's terms (the Stream class, engine.core's
#: compare) and the command line says with its flags and commands.
_PHRASES = (
    ("Stream takes a 1-D kernel", "--stream takes a 1-D kernel"),
    ("Stream cannot ", "--stream cannot "),
    ("Stream slides ", "--stream slides "),
    ("axes= does not apply", "--axes does not apply"),
    ("leave pad_value out", "leave out --pad-value"),
    ("Stream needs one number type", "--stream needs one number type"),
    ("feed floats from the start", "write 1.0 rather than 1 from the start"),
    ("use convolve or correlate on the whole signal", "drop --stream"),
    ("call convolve and correlate separately", "run conv and corr separately"),
    ("(transposed=True)", "(--transposed)"),
    ("output_padding applies to", "--output-padding applies to"),
    (
        "JSON, Markdown or LaTeX instead",
        "JSON, Markdown or LaTeX (--format json, markdown or latex)",
    ),
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # escaped in messages, which stay one line
#: Since click 8.2, what a group without a command raises to show its help (exit 2).
_HELP_AS_ERROR: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


def flag_words(message: str) -> str:
    """A library message in the command line's words: each ``name=value`` of a parameter
    the command line has becomes ``--name value`` (quoted only where a shell needs it), and
    the Python words of a few messages (the Stream class, ``compare``'s) become flags.

    >>> flag_words("use a larger padding (e.g. padding='full') or a smaller kernel")
    'use a larger padding (e.g. --padding full) or a smaller kernel'
    >>> flag_words("give delimiter=';' and decimal=','")
    "give --delimiter ';' and --decimal ,"
    """
    for library, command_line in _PHRASES:
        message = message.replace(library, command_line)
    return re.sub(_UNQUOTED, _unquoted_flag, re.sub(_PARAMETER, _flag, message))


def _flag(match: re.Match[str]) -> str:
    """One ``name=value`` as the flag and value a shell takes."""
    import ast  # here, on the way out of a failed run: ast takes milliseconds to import
    import shlex

    if match["quoted"]:
        return match[0]
    value = str(ast.literal_eval(match["value"]))
    return f"--{match['name'].replace('_', '-')} {shlex.quote(value)}"


def _unquoted_flag(match: re.Match[str]) -> str:
    """``axes=(0, 2)`` as ``--axes 0,2``, ``pad_value=-1.5`` as ``--pad-value -1.5``.

    >>> flag_words("groups=2 must divide both; output_padding=(1, 0) must be smaller")
    '--groups 2 must divide both; --output-padding 1,0 must be smaller'
    """
    import ast
    import shlex

    value = match["value"]
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):  # nan, inf: as written
        parsed = value
    if isinstance(parsed, tuple):
        value = ",".join(map(str, parsed))
    elif isinstance(parsed, complex):
        value = str(parsed).strip("()")  # 1+2j, as --pad-value takes it
    return f"--{match['name'].replace('_', '-')} {shlex.quote(value)}"


def refusals_in_flag_words(table: Lineup) -> Lineup:
    """A lineup whose refused rows give their reason (the library's error message) in the
    command line's words; the other rows' reasons are notes, kept as they are."""
    rows = tuple(
        row if row.values is not None else dataclasses.replace(row, reason=flag_words(row.reason))
        for row in table.rows
    )
    return dataclasses.replace(table, rows=rows)


def _escaped(match: re.Match[str]) -> str:
    """A control character as repr() writes it (a file name's newline becomes \\n)."""
    return repr(match.group())[1:-1]


def one_line_text(message: str) -> str:
    """A message as one line that stderr can show: control characters escaped, glyphs as
    ASCII stand-ins and other characters escaped where stderr's encoding lacks them."""
    message = _CONTROL.sub(_escaped, message)
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    if glyphs.fits(encoding):
        return message
    return glyphs.ascii_text(message).encode(encoding, "backslashreplace").decode(encoding)


def one_line(error: click.UsageError) -> click.UsageError:
    """A usage error without click's usage banner, as one line stderr can show (an argument
    may hold a newline); the help that a bare command shows keeps its context."""
    if isinstance(error, _HELP_AS_ERROR):
        return error
    error.ctx = None
    text = error.format_message()
    shown = one_line_text(text)
    return error if shown == text else click.UsageError(shown)


def _bad_data(error: ConvcliError) -> click.ClickException:
    """Bad data as the one line click shows (exit 1)."""
    return click.ClickException(one_line_text(flag_words(str(error))))


class OneLineErrors(click.Command):
    """A click command (a group too, mixed in before click.Group) whose errors are one line
    on stderr in flag words: usage errors without click's usage banner (exit 2), bad data
    from the library as a ClickException (exit 1), and options that cannot go together
    whatever the data as usage errors."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        """Parse the command line; a usage error loses its banner but keeps exit code 2
        (bare ``convcli`` keeps its context, which click's help shown as an error needs)."""
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            raise one_line(error) from None
        except ConvcliError as error:
            raise _bad_data(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, turning bad data into a one-line error (exit 1) and options that
        cannot go together into a usage error (exit 2)."""
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise one_line(error) from None
        except OptionError as error:
            raise one_line(click.UsageError(flag_words(str(error)))) from None
        except ConvcliError as error:
            raise _bad_data(error) from None
