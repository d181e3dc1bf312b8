"""Exceptions for mistakes in the user's data or options.

They subclass ValueError, as numpy's and scipy's argument errors do, so library
users can catch them the usual way; the CLI prints their message as one line.
"""


class ConvcliError(ValueError):
    """Bad data or a bad option: the message says which and why, in one line."""


class InputError(ConvcliError):
    """Text, a file or a stream that cannot be read as a signal or a kernel."""


class OutputError(ConvcliError):
    """A result that cannot be written: a folder that is not there, a full disk, a closed
    standard output."""


class OptionError(ConvcliError):
    """Options that cannot go together whatever the data (the CLI's usage error, exit 2)."""


class LayerError(ConvcliError):
    """A CNN layer's shapes or options that do not fit together (channels, groups, bias)."""
