"""The ``convcli`` console script: the command line, started the way a one-shot process should be.

Importing numpy, click and convcli creates about a hundred thousand objects that live until
the process exits; the cyclic garbage collector would scan them again and again while they
load (about a tenth of a small command's run time). So the collector is paused while the
modules load, the loaded objects are frozen out of its reach (``gc.freeze``), and it runs
as usual for the command itself. Only the console script and ``python -m convcli`` do this:
``import convcli`` in a program leaves the collector alone.
"""

from __future__ import annotations

import gc
import sys

#: The exit code of a run stopped by Ctrl-C (128 + SIGINT), as convcli.cli.main's.
_INTERRUPTED = 130


def main() -> None:
    """Load the command line with the collector paused, then run it (convcli.cli.main).
    Ctrl-C while the modules load, before the command line handles it, exits 130 quietly
    too (Python would print a traceback)."""
    try:
        gc.disable()
        try:
            from convcli.cli.main import main as run_command_line
        finally:
            gc.freeze()
            gc.enable()
        run_command_line()
    except KeyboardInterrupt:
        sys.exit(_INTERRUPTED)
