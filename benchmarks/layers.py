"""Benchmark PhotonicLayer: forward+backward time per batch of 256 on the exact backend.

For each layer size (``M`` bins, ``1,0,1,0,…`` input, loops ``1, 2``, ``F = M - 1`` input
features on the first splitters, the rest trained), prints the median wall time of

1. exact autograd, forward + backward (the training path on a simulator), and forward alone;
2. the peer: a linear layer of the same widths ``F -> K`` (+ tanh) in torch, as ratio;
3. the shift rule on exact probabilities (what a sampling backend's estimator costs in
   circuit evaluations, without the sampling), with its evaluation count per step, as ratio;
4. (``--shots``) the shift rule on ``shots`` samples per evaluation from the exact sampler.

``python benchmarks/layers.py [--quick] [--observable mean_photons] [--shots 1000]``
(set ``OMP_NUM_THREADS`` to pin the thread count; results are per process).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from qnn.layers import PhotonicLayer
from qnn.layers.baselines import MatchedLinear

BATCH = 256


def median_time(step: Callable[[], None], *, budget: float, min_repeats: int = 3) -> float:
    """Median seconds of ``step`` after one warm-up, repeated until ``budget`` seconds."""
    step()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_repeats or time.perf_counter() - start < budget:
        begin = time.perf_counter()
        step()
        times.append(time.perf_counter() - begin)
        if len(times) >= 200:
            break
    return statistics.median(times)


def forward_backward(module: torch.nn.Module, x: torch.Tensor) -> Callable[[], None]:
    def step() -> None:
        module.zero_grad()
        inputs = x.detach().requires_grad_()
        module(inputs).square().sum().backward()
    return step


def forward_only(module: torch.nn.Module, x: torch.Tensor) -> Callable[[], None]:
    def step() -> None:
        with torch.no_grad():
            module(x)
    return step


def bench_size(n_modes: int, observable: str, shots: int | None, budget: float) -> dict:
    rng = np.random.default_rng(n_modes)
    features = n_modes - 1
    x = torch.as_tensor(rng.normal(size=(BATCH, features)), dtype=torch.float32)
    exact = PhotonicLayer(n_modes, None, (1, 2), n_features=features, observable=observable)
    shifted = PhotonicLayer(n_modes, None, (1, 2), n_features=features, observable=observable,
                            gradient="multi_frequency_shift")
    n_out = exact.n_outputs
    peer = MatchedLinear(features, n_out, features * n_out + n_out)
    row = {"modes": n_modes, "photons": exact.n_photons, "outputs": n_out,
           "trained": exact.n_trainable,
           "autograd": median_time(forward_backward(exact, x), budget=budget),
           "forward": median_time(forward_only(exact, x), budget=budget),
           "linear": median_time(forward_backward(peer, x), budget=budget),
           "shift": median_time(forward_backward(shifted, x), budget=budget, min_repeats=1),
           "shift_evals": shifted.evaluations_per_step(BATCH)}
    if shots is not None:
        sampled = PhotonicLayer(n_modes, None, (1, 2), n_features=features,
                                observable=observable, shots=shots,
                                gradient="multi_frequency_shift")
        row["sampled"] = median_time(forward_backward(sampled, x), budget=0, min_repeats=1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 4 and 8 only, short budget")
    parser.add_argument("--observable", default="mean_photons")
    parser.add_argument("--shots", type=int, default=None,
                        help="also time the shift rule on this many samples per evaluation")
    args = parser.parse_args()
    sizes, budget = ((4, 8), 0.5) if args.quick else ((4, 6, 8, 10, 12), 2.0)
    cpu = platform.processor() or platform.machine()
    print(f"PhotonicLayer, batch {BATCH}, loops 1,2, observable {args.observable}; torch "
          f"{torch.__version__}, {torch.get_num_threads()} thread(s), {cpu}")
    header = (f"{'M/N':>6} {'K':>6} {'trained':>7} {'fwd+bwd':>10} {'fwd':>10} "
              f"{'linear peer':>11} {'ratio':>7} {'shift rule':>11} {'evals':>7} {'ratio':>7}")
    if args.shots is not None:
        header += f" {f'{args.shots} shots':>11}"
    print(header)
    for n_modes in sizes:
        r = bench_size(n_modes, args.observable, args.shots, budget)
        line = (f"{r['modes']:>3}/{r['photons']:<2} {r['outputs']:>6} {r['trained']:>7} "
                f"{1e3 * r['autograd']:>8.2f}ms {1e3 * r['forward']:>8.2f}ms "
                f"{1e3 * r['linear']:>9.3f}ms {r['autograd'] / r['linear']:>6.0f}x "
                f"{1e3 * r['shift']:>9.1f}ms {r['shift_evals']:>7} "
                f"{r['shift'] / r['autograd']:>6.1f}x")
        if "sampled" in r:
            line += f" {r['sampled']:>10.2f}s"
        print(line, flush=True)
    print("ratio: fwd+bwd over the linear peer's; shift rule (exact probabilities) over "
          "autograd. evals: circuit evaluations of one shift-rule step.")


if __name__ == "__main__":
    main()
