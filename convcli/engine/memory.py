"""How the engine uses the machine: freed memory kept for the next work arrays, and
BLAS calls kept on one thread.

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

__all__ = ["BLAS_ROW", "LARGE_WORK", "reuse_freed_memory"]

#: Taps per numpy.convolve call: numpy takes each window's dot product by BLAS, and
#: OpenBLAS splits one of more than 10**4 values over threads, which on a busy or pinned
#: machine fight for the cores.
BLAS_ROW = 8192

#: Values in a work array from which keeping freed memory pays.
LARGE_WORK = 4096


@cache
def reuse_freed_memory() -> None:
    """Raise malloc's thresholds once per process by freeing one untouched 16 MiB array.

    >>> reuse_freed_memory()
    """
    np.empty(1 << 24, np.uint8)
