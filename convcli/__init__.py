"""convcli: convolution and cross-correlation side by side, exactly.

>>> from convcli import convolve, correlate
>>> convolve([2, 1, 3, 5, 4], [1, -1]), correlate([2, 1, 3, 5, 4], [1, -1])
(array([-1,  2,  2, -1]), array([ 1, -2, -2,  1]))
"""

from convcli.engine import Comparison, compare, convolve, correlate, kernel_symmetry
from convcli.errors import ConvcliError, InputError
from convcli.gradients import Backward, backward

__all__ = [
    "Backward",
    "Comparison",
    "ConvcliError",
    "InputError",
    "backward",
    "compare",
    "convolve",
    "correlate",
    "kernel_symmetry",
]
