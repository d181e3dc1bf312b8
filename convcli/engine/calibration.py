"""Measured costs of the engine's sums, in nanoseconds, for the cost model (convcli.engine.cost).

Written by ``python benchmarks/calibrate.py``; each figure the least of several runs.
Machine: AMD EPYC, 2 cores. Date: 2026-12-02.
"""

#: Kernel lengths at which numpy.convolve's cost per output was measured.
COMPILED_TAPS = (3, 8, 11, 12, 15, 16, 24, 31, 32, 47, 48, 63, 64, 128, 256, 512)
# fmt: off
NS_COMPILED_OUTPUT = {
    "i": (2.249, 4.381, 5.985, 6.437, 8.088, 8.485, 12.728, 16.774, 16.977, 25.171, 25.592,
          34.121, 34.597, 70.41, 140.402, 283.995),
    "f": (0.496, 1.389, 2.739, 8.022, 8.94, 6.595, 8.692, 11.774, 7.866, 14.795, 10.655,
          14.985, 10.764, 16.638, 28.033, 62.156),
    "c": (18.931, 20.981, 21.233, 21.539, 22.414, 21.175, 21.716, 41.277, 22.829, 47.38, 25.533,
          50.663, 38.459, 54.062, 75.006, 119.957),
}
# fmt: on
#: A stride or a dilation splits the 1-D sum into phases: strided copies of the signal in,
#: strided writes out. What that adds per output at these splits (interpolated between).
PHASE_SPLITS = (2, 8)
NS_PHASE_EXTRA = {"i": (0.531, 5.04), "f": (1.79, 4.166), "c": (3.92, 9.277)}
NS_PER_VECTOR_MAC = {"i": 1.09, "f": 1.03, "c": 2.716, "O": 200.0}  # "O": timed by hand
NS_PER_FFT_UNIT_1D = {"i": 0.356, "f": 0.334, "c": 0.866}
NS_PER_FFT_UNIT_ND = {"i": 1.15, "f": 0.809, "c": 1.987}
#: What an FFT sum costs besides its transforms' work: the set-up, the calls into numpy
#: and the guard's checks (measured on a tiny signal). It decides short signals.
NS_FFT_CALL = {"i": 50876.0, "f": 49293.0, "c": 53319.0}
