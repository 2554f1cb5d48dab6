"""Test settings for minigrad-nn.

The training tests multiply matrices large enough for OpenBLAS or MKL to start worker
threads; on a small shared CI machine running several test sessions at once those
threads fight over the cores and a one-second test can take fifteen. One BLAS thread
per test process keeps the suite fast and its run time predictable. The variables only
take effect if NumPy has not been imported yet, which is the case when pytest loads
this file; an explicit setting in the environment wins.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
