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


def main() -> None:
    """Load the command line with the collector paused, then run it (convcli.cli.main)."""
    gc.disable()
    try:
        from convcli.cli.main import main as run_command_line
    finally:
        gc.freeze()
        gc.enable()
    run_command_line()
