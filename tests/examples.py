"""Worked examples shared by several test modules: the classic 1-D pair and an 8x8 image."""

import numpy as np

F = [2, 1, 3, 5, 4]
IMAGE = np.array(
    [
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 9, 9, 9, 9, 0],
        [0, 0, 0, 9, 5, 5, 9, 0],
        [0, 0, 0, 9, 5, 5, 9, 0],
        [0, 0, 0, 9, 9, 9, 9, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
    ]
)
SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
