"""Let malloc keep freed work arrays for the next ones.

glibc hands every freed block above its mmap threshold (128 KiB at first) back
to the system at once, so the next array of that size is faulted in afresh, page
by page: on arrays of 10^5 to 10^6 values that costs more than the arithmetic.
glibc raises the threshold itself to the size of any large block freed, so
freeing one untouched 16 MiB array keeps later work arrays up to that size in
reused memory, as in any long-running numpy program. Elsewhere this does nothing.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["LARGE_WORK", "reuse_freed_memory"]

#: Values in a work array from which keeping freed memory pays.
LARGE_WORK = 4096


@cache
def reuse_freed_memory() -> None:
    """Raise malloc's thresholds once per process by freeing one untouched 16 MiB array.

    >>> reuse_freed_memory()
    """
    np.empty(1 << 24, np.uint8)
