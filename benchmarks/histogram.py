"""Benchmark tallying samples into a Histogram: every sampled circuit in every run does it.

For batches shaped like the samplers' output (shots x modes, photon counts 0-2), prints the
median wall time of

1. ``Histogram.from_samples`` (sort rows with ``np.lexsort``, merge equal neighbours);
2. the peer: ``np.unique(axis=0, return_inverse=True)`` with ``np.add.at``, numpy's own way
   to tally rows (what the histogram used before), as ratio;
3. ``collections.Counter`` over row tuples, the plain-Python way, as ratio.

All three are checked to give the same tally. ``python benchmarks/histogram.py [--quick]``
(one thread: set ``OMP_NUM_THREADS=1``; numbers are per process).
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from qnn.photonics import Histogram

SHAPES = [(1_000, 8), (10_000, 12), (10_000, 30), (100_000, 16)]


def median_time(step: Callable[[], object], budget: float) -> float:
    step()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < budget:
        begin = time.perf_counter()
        step()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def numpy_unique(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, inverse = np.unique(samples, axis=0, return_inverse=True)
    counts = np.zeros(rows.shape[0], dtype=np.int64)
    np.add.at(counts, inverse.ravel(), 1)
    return rows, counts


def as_dict(rows: np.ndarray, counts: np.ndarray) -> dict[tuple[int, ...], int]:
    return dict(zip(map(tuple, rows.tolist()), counts.tolist(), strict=True))


def python_counter(samples: np.ndarray) -> dict[tuple[int, ...], int]:
    return collections.Counter(map(tuple, samples.tolist()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="0.2 s per timing instead of 1 s")
    args = parser.parse_args()
    budget = 0.2 if args.quick else 1.0
    print(f"# {platform.processor() or platform.machine()}, numpy {np.__version__}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print("| shots x modes | distinct | Histogram | np.unique | ratio | Counter | ratio |")
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for shots, modes in SHAPES:
        samples = rng.integers(0, 3, size=(shots, modes)).astype(np.uint8)
        ours = Histogram.from_samples(samples).to_dict()
        if not ours == as_dict(*numpy_unique(samples)) == python_counter(samples):
            raise SystemExit(f"{shots}x{modes}: the three tallies disagree")
        times = [median_time(partial(f, samples), budget)
                 for f in (Histogram.from_samples, numpy_unique, python_counter)]
        print(f"| {shots} x {modes} | {len(ours)} | {times[0] * 1e3:.2f} ms | "
              f"{times[1] * 1e3:.2f} ms | {times[1] / times[0]:.1f} | "
              f"{times[2] * 1e3:.2f} ms | {times[2] / times[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
