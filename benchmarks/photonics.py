"""Benchmark the exact photonic backend against Perceval (SLOS, Clifford–Clifford) and cudaq-sim."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from importlib import metadata

import numpy as np
import torch

from qnn.photonics import ProbabilityBackend, TBICircuit, fock_rank, get_backend, random_tbi

SEED = 2024
PROB_ATOL = 1e-9  # every simulator must give every output probability to this accuracy
MOMENT_SIGMAS = 6.0  # sampled mean photon numbers must lie within this many standard errors
LOOPS = ((1,), (1, 2))  # section 1; the other sections use SAMPLE_LOOPS
SAMPLE_LOOPS = (1, 2)
BATCH = 64
FULL_MODES, QUICK_MODES = (8, 12, 16), (8, 12)  # N = M / 2 photons, input 1, 0, 1, 0, ...
SAMPLE_MODES = (16, 30)
FULL_SHOTS, QUICK_SHOTS = 10_000, 1_000
CUDAQ_MAX_MODES = 8  # dense (N + 1)^M state: 5^8 = 3.9e5 amplitudes; 7^12 = 1.4e10 does not fit
FULL_BUDGET_S, QUICK_BUDGET_S = 1.0, 0.2  # warm repeats per contender stop after about this long
MAX_ROUNDS = 50
TARGET_ONE_SET = ("<=", 1.0)  # ours / Perceval SLOS at 12/6 and 16/8
TARGET_SMALL = ("<=", 0.5)  # ours / Perceval SLOS at 8/4, the Quantum-Train QPUs' size
TARGET_SAMPLER = ("<=", 1.0)  # ours / Perceval Clifford–Clifford at 30/15
# Per-set cost of 64 single calls / per-set cost of one batch: at 12/6 a batch must amortise
# the per-call overhead; at 16/8 it must at least not cost more than the single calls.
TARGET_BATCH = {12: (">=", 10.0), 16: (">=", 1.0)}
TARGET_BATCH_MEMORY = ("<=", 12 * 2**30)  # peak resident bytes around the 16/8 batch
TARGET_BACKWARD = ("<=", 3.0)  # backward time / forward time
TARGET_FORWARD_16 = ("<=", 0.030)  # 16/8, one parameter set, no gradient: seconds
TARGET_FORWARD_BACKWARD_16 = ("<=", 0.090)  # 16/8, forward with graph + backward: seconds
COMPILE_SNIPPET = """
import time, numpy as np
from qnn.photonics import random_tbi
from qnn.photonics.clifford import clifford_sample
u = random_tbi(6, [1], rng=0).unitary().numpy()
start = time.perf_counter()
clifford_sample(u, [1, 0] * 3, 10, rng=np.random.default_rng(0))
print(time.perf_counter() - start)
"""
SECTIONS = {
    "1": "Full output distribution, one parameter set (ratio = ours / peer; < 1: ours faster;"
         " cold = first call for this M/N)",
    "2": f"Batch of {BATCH} parameter sets vs {BATCH} single calls (times per set;"
         " ratio = single / batched = x cheaper per set)",
    "3": "Backward of sum(probs * w) w.r.t. bs_angles and ps_angles (ours = backward,"
         " reference = forward with graph; ratio = backward / forward)",
    "4": "Sampling (ratio = ours / Perceval Clifford-Clifford; < 1: ours faster)",
    "5": "Absolute targets at 16/8 (ours = the time or bytes; ratio = ours / limit)",
}


class DisagreementError(RuntimeError):
    """Two simulators gave different results for the same circuit."""


@dataclass(frozen=True)
class Config:
    """What one run measures, from the command line."""

    device: torch.device
    modes: tuple[int, ...]
    shots: int
    budget_s: float
    quick: bool
    threads: int | None = None
    sections: str = "1234"


@dataclass(frozen=True)
class Timing:
    """Seconds of one operation: its first (cold) call and the best and median of the pool.

    The pool is the warm repeats, plus the first call where ``count_first`` (slow peers,
    in their favour) or where there were no repeats.
    """

    first_s: float
    best_s: float
    median_s: float
    calls: int


@dataclass(frozen=True)
class Row:
    """One line of the result table; ``ratio`` is defined per section (see :data:`SECTIONS`)."""

    section: str
    case: str
    comparison: str
    ours_s: float | None
    reference_s: float | None
    ratio: float | None
    target: str = ""
    verdict: str = ""
    note: str = ""
    ours_median_s: float | None = None
    reference_median_s: float | None = None
    unit: str = "s"  # what ours and reference hold: seconds, or "B" for bytes


# --------------------------------------------------------------------------- timing
def no_sync() -> None:
    """Synchronisation for CPU work: nothing to wait for."""


def sync_for(device: torch.device) -> Callable[[], None]:
    return torch.cuda.synchronize if device.type == "cuda" else no_sync


def first_call(fn: Callable[[], object], sync: Callable[[], None] = no_sync
               ) -> tuple[float, object]:
    """Seconds and result of one call (the cold one, whose result gets checked)."""
    sync()
    start = time.perf_counter()
    result = fn()
    sync()
    return time.perf_counter() - start, result


def _once(fn: Callable, setup: Callable | None, sync: Callable[[], None]) -> float:
    args = () if setup is None else (setup(),)  # setup is not timed
    sync()
    start = time.perf_counter()
    fn(*args)
    sync()
    return time.perf_counter() - start


def interleave(calls: Sequence[Callable], *, budget_s: float, min_rounds: int,
               setups: Sequence[Callable | None] | None = None,
               sync: Callable[[], None] = no_sync) -> list[list[float]]:
    """Warm repeats of several calls in round-robin, so background load hits all alike.

    Rounds go on until about ``budget_s`` per call is spent and ``min_rounds`` ran (at most
    :data:`MAX_ROUNDS`): cheap calls get many samples, slow ones few. ``setups[i]()``
    runs untimed before each call ``i`` and its result is passed to it.
    """
    setups = setups or [None] * len(calls)
    times: list[list[float]] = [[] for _ in calls]
    while len(times[0]) < MAX_ROUNDS and (
            len(times[0]) < min_rounds or sum(map(sum, times)) < budget_s * len(calls)):
        for fn, setup, spent in zip(calls, setups, times, strict=True):
            spent.append(_once(fn, setup, sync))
    return times


def summarize(first: float, times: list[float], *, count_first: bool = False) -> Timing:
    pool = [first, *times] if count_first or not times else times
    return Timing(first, min(pool), statistics.median(pool), len(pool))


def verdict(ratio: float | None, target: tuple[str, float]) -> tuple[str, str]:
    """``(target text, "PASS" / "MISS")``; a missing ratio is "n/a"."""
    op, value = target
    if ratio is None:
        return f"{op} {value:g}", "n/a"
    ok = ratio <= value if op == "<=" else ratio >= value
    return f"{op} {value:g}", "PASS" if ok else "MISS"


# --------------------------------------------------------------------------- checks
def check_close(name: str, ours: np.ndarray, theirs: np.ndarray, atol: float = PROB_ATOL) -> float:
    """Largest difference; raises :class:`DisagreementError` above ``atol`` (NaN included)."""
    if ours.shape != theirs.shape:
        raise DisagreementError(f"{name}: shapes differ, {ours.shape} vs {theirs.shape}")
    diff = float(np.max(np.abs(ours - theirs), initial=0.0))
    if not diff <= atol:
        raise DisagreementError(f"{name}: probabilities differ by {diff:.3g} > {atol:g}")
    return diff


def expected_means(unitary: np.ndarray, input_state: Sequence[int]) -> np.ndarray:
    """Exact mean photon number per output mode: ``<n_i> = sum_j |U_ij|^2 m_j``."""
    return (np.abs(unitary) ** 2) @ np.asarray(input_state, dtype=np.float64)


def check_moments(name: str, samples: np.ndarray, expected: np.ndarray) -> None:
    """Raise if samples lose photons or their mean photon numbers are off by > MOMENT_SIGMAS."""
    shots, n_photons = samples.shape[0], int(round(expected.sum()))
    if not (samples.sum(axis=1) == n_photons).all():
        raise DisagreementError(f"{name}: a sample does not hold {n_photons} photons")
    error = samples.std(axis=0) / np.sqrt(shots) + 1.0 / shots
    worst = float(np.max(np.abs(samples.mean(axis=0) - expected) / error))
    if worst > MOMENT_SIGMAS:
        raise DisagreementError(f"{name}: mean photon numbers {worst:.1f} standard errors off")


# --------------------------------------------------------------------------- Perceval
def perceval_slos(unitary: np.ndarray, input_state: Sequence[int]) -> Callable[[], list]:
    """A call that gives Perceval's SLOS every output probability of a new unitary.

    What is timed: wrapping ``U`` as a ``pcvl.Unitary`` circuit, ``set_circuit`` (which hands
    the unitary to exqalibur's C++ ``SLOS_V3``), ``set_input_state`` and ``all_prob()``: the
    cheapest full-distribution call (a list of floats in ``allstate_iterator`` order;
    ``prob_distribution()`` also builds a dictionary of Fock states, drops zeros, and is
    several times slower at 16/8).
    """
    import perceval as pcvl

    backend = pcvl.BackendFactory.get_backend("SLOS")
    state = pcvl.BasicState(list(input_state))

    def run() -> list:
        backend.set_circuit(pcvl.Unitary(pcvl.Matrix(unitary)))
        backend.set_input_state(state)
        return backend.all_prob()

    return run


def perceval_in_our_order(probs: Sequence[float], input_state: Sequence[int]) -> np.ndarray:
    """Perceval's ``all_prob()`` list re-indexed pattern by pattern into ``fock_basis`` order.

    ``all_prob`` lists every state (zeros included) in the order of Perceval's documented
    ``allstate_iterator``; a wrong order or pattern fails the comparison that follows.
    """
    import perceval as pcvl

    states = pcvl.utils.allstate_iterator(pcvl.BasicState(list(input_state)))
    patterns = np.array([list(state) for state in states], dtype=np.int64)
    if len(patterns) != len(probs):
        raise DisagreementError(f"Perceval SLOS gave {len(probs)} probabilities for"
                                f" {len(patterns)} states")
    out = np.full(len(probs), np.nan)
    out[fock_rank(patterns)] = np.asarray(probs, dtype=np.float64)
    return out


def perceval_cc(unitary: np.ndarray, input_state: Sequence[int], shots: int) -> Callable:
    """A call that draws ``shots`` samples with Perceval's exqalibur Clifford–Clifford 2017.

    What is timed: wrapping ``U``, ``set_circuit``, ``set_input_state`` and ``samples(shots)``.
    """
    import perceval as pcvl

    backend = pcvl.BackendFactory.get_backend("CliffordClifford2017")
    state = pcvl.BasicState(list(input_state))

    def run():
        backend.set_circuit(pcvl.Unitary(pcvl.Matrix(unitary)))
        backend.set_input_state(state)
        return backend.samples(shots)

    return run


def check_perceval_convention() -> str:
    """Check that ``pcvl.Unitary(pcvl.Matrix(U))`` with our ``U[out, in]`` gives our probabilities.

    A 2-mode HOM circuit (P(1,1) = 0), and a 3-mode circuit with phases and input (2, 1, 0)
    where ``U^T`` gives other probabilities: with 2 modes ``U`` and ``U^T`` differ only by
    mode phases, so the 2-mode check alone could not catch a transposed convention.
    """
    exact = get_backend("exact")
    hom = TBICircuit((1, 1), (1,), [np.pi / 4])
    odd = TBICircuit((2, 1, 0), (1, 2), [0.3, 1.1, 0.7], [0.5, -1.0, 2.0])
    for circuit in (hom, odd):
        theirs = perceval_slos(circuit.unitary().numpy(), circuit.input_state)()
        check_close(f"Perceval convention, {case_name(circuit)}",
                    exact.probabilities(circuit)[1].numpy(),
                    perceval_in_our_order(theirs, circuit.input_state))
    transposed = perceval_slos(odd.unitary().numpy().T, odd.input_state)()
    gap = float(np.max(np.abs(exact.probabilities(odd)[1].numpy()
                              - perceval_in_our_order(transposed, odd.input_state))))
    if gap < 1e-3:
        raise DisagreementError("the 3-mode convention check cannot tell U from U^T")
    p11 = exact.probabilities(hom)[1][1].item()
    return (f"Convention: pcvl.Unitary(pcvl.Matrix(U)) takes our U[out, in] as is (HOM"
            f" P(1,1) = {p11:.1e}; 3-mode asymmetric agrees to {PROB_ATOL:g}, U^T would"
            f" differ by {gap:.2f})")


# --------------------------------------------------------------------------- helpers
def case_name(circuit: TBICircuit, extra: str = "") -> str:
    loops = ",".join(map(str, circuit.loop_lengths))
    return f"{circuit.n_modes}/{circuit.n_photons} loops [{loops}]{extra}"


def error_note(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"n/a: {type(err).__name__}: {text[0][:100] if text else ''}"


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def make_cudaq() -> ProbabilityBackend | Exception:
    """The cudaq-sim backend, or the exception that says why it is not available."""
    try:
        return get_backend("cudaq-sim")
    except Exception as err:  # an optional backend: its rows say n/a instead
        return err


# --------------------------------------------------------------------------- 1. distributions
def cudaq_row(cudaq: ProbabilityBackend | Exception, circuit: TBICircuit, ours: np.ndarray,
              ours_s: float, config: Config) -> Row:
    """ours vs cudaq-sim (``orca-photonics``), or a row saying why not.

    Its calls take seconds: the first call (checked) counts, and ``--quick`` makes only that.
    """
    case, comparison = case_name(circuit), "ours / cudaq-sim"
    amplitudes = (circuit.n_photons + 1) ** circuit.n_modes
    if circuit.n_modes > CUDAQ_MAX_MODES:
        note = f"skipped: dense state of (N+1)^M = {amplitudes:.2g} amplitudes"
        return Row("1", case, comparison, ours_s, None, None, note=note)
    if isinstance(cudaq, Exception):
        return Row("1", case, comparison, ours_s, None, None, note=error_note(cudaq))
    run = partial(cudaq.probabilities, circuit)
    try:
        first, (_, probs) = first_call(run)
    except Exception as err:  # an optional backend, still being finished: report, go on
        return Row("1", case, comparison, ours_s, None, None, note=error_note(err))
    diff = check_close(f"cudaq-sim vs ours, {case}", ours, probs.numpy())
    times = [] if config.quick else interleave([run], budget_s=config.budget_s, min_rounds=1)[0]
    timing = summarize(first, times, count_first=True)
    note = f"{amplitudes:,} amplitudes; max |dp| {diff:.1e}; best of {timing.calls}"
    return Row("1", case, comparison, ours_s, timing.best_s, ours_s / timing.best_s, note=note,
               reference_median_s=timing.median_s)


def distribution_pair(circuit: TBICircuit, config: Config) -> tuple[Timing, Timing, np.ndarray,
                                                                     float]:
    """Timings of ours and Perceval SLOS on one circuit, checked pattern by pattern first.

    Returns ``(ours, perceval, our probabilities, max difference)``.
    """
    exact, sync = get_backend("exact", device=config.device), sync_for(config.device)
    ours_fn = partial(exact.probabilities, circuit)
    peer_fn = perceval_slos(circuit.unitary().numpy(), circuit.input_state)
    ours_first, (_, probs) = first_call(ours_fn, sync)
    peer_first, listed = first_call(peer_fn)
    ours = probs.cpu().numpy()
    diff = check_close(f"Perceval SLOS vs ours, {case_name(circuit)}", ours,
                       perceval_in_our_order(listed, circuit.input_state))
    ours_times, peer_times = interleave([ours_fn, peer_fn], budget_s=config.budget_s,
                                        min_rounds=3, sync=sync)
    return summarize(ours_first, ours_times), summarize(peer_first, peer_times), ours, diff


def distribution_rows(config: Config, cudaq: ProbabilityBackend | Exception) -> list[Row]:
    """Section 1: every output probability for one parameter set."""
    rows, seen = [], set()
    for m in config.modes:
        for loops in LOOPS:
            circuit = random_tbi(m, loops, rng=SEED)
            case = case_name(circuit)
            progress(f"distribution {case}")
            ours_t, peer_t, ours, diff = distribution_pair(circuit, config)
            cold = "" if m in seen else f"cold {format_time(ours_t.first_s)}; "
            seen.add(m)
            ratio = ours_t.best_s / peer_t.best_s
            target, mark = verdict(ratio, TARGET_ONE_SET if m >= 12 else TARGET_SMALL)
            note = f"{cold}max |dp| {diff:.1e}; S = {len(ours):,}; best of {ours_t.calls}"
            rows.append(Row("1", case, "ours / Perceval SLOS", ours_t.best_s, peer_t.best_s,
                            ratio, target, mark, note, ours_t.median_s, peer_t.median_s))
            rows.append(cudaq_row(cudaq, circuit, ours, ours_t.best_s, config))
    return rows


# --------------------------------------------------------------------------- 2. batches
def batch_row(m: int, config: Config) -> Row:
    """Section 2: one call with 64 parameter sets vs 64 single calls, time per set (at 16/8
    also the process's peak resident memory, section 5)."""
    exact, sync = get_backend("exact", device=config.device), sync_for(config.device)
    circuit = random_tbi(m, SAMPLE_LOOPS, rng=SEED, batch=(BATCH,))
    case = case_name(circuit, f", {BATCH} sets")
    progress(f"batch {case}")
    singles = circuit.unbatched()
    batched_fn = partial(exact.probabilities, circuit)

    def singles_fn() -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [exact.probabilities(c) for c in singles]

    batched_first, (_, batched) = first_call(batched_fn, sync)
    singles_first, one_by_one = first_call(singles_fn, sync)
    diff = check_close(f"batched vs single calls, {case}", batched.cpu().numpy(),
                       torch.stack([p for _, p in one_by_one]).cpu().numpy())
    times = interleave([batched_fn, singles_fn], budget_s=config.budget_s,
                       min_rounds=1 if config.quick else 2, sync=sync)
    # The loop of single calls runs after the batched call has built every table: warm.
    batched_t = summarize(batched_first, times[0])
    singles_t = summarize(singles_first, times[1], count_first=True)
    ratio = singles_t.best_s / batched_t.best_s
    target, mark = verdict(ratio, TARGET_BATCH[m]) if m in TARGET_BATCH else ("", "")
    note = (f"max |dp| {diff:.1e}; batch call {format_time(batched_t.best_s)};"
            f" best of {batched_t.calls}")
    rows = [Row("2", case, "64 single / 1 batched, per set", batched_t.best_s / BATCH,
                singles_t.best_s / BATCH, ratio, target, mark, note,
                batched_t.median_s / BATCH, singles_t.median_s / BATCH)]
    if m == 16:
        # ru_maxrss is the whole process's peak (KiB on Linux): an upper bound for the batch.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        limit = TARGET_BATCH_MEMORY[1]
        target, mark = verdict(peak / limit, ("<=", 1.0))
        rows.append(Row("5", case, "peak resident memory", peak, limit, peak / limit,
                        f"<= {limit / 2**30:.0f} GiB", mark,
                        "the process's peak so far (an upper bound)", unit="B"))
    return rows


# --------------------------------------------------------------------------- 3. gradients
def backward_row(m: int, config: Config) -> Row:
    """Section 3: backward of ``sum(probs * w)`` w.r.t. both angle sets vs the forward pass.

    The forward is timed as in training (autograd graph built); the backward alone is timed
    on a graph built, untimed, just before it.
    """
    exact, sync = get_backend("exact", device=config.device), sync_for(config.device)
    base = random_tbi(m, SAMPLE_LOOPS, rng=SEED)
    progress(f"backward {case_name(base)}")
    bs = base.bs_angles.to(config.device).clone().requires_grad_(True)
    ps = base.ps_angles.to(config.device).clone().requires_grad_(True)
    circuit = base.with_angles(bs, ps)
    rng = np.random.default_rng(SEED)
    weights = torch.as_tensor(rng.standard_normal(base.n_fock_states), device=config.device)

    def loss() -> torch.Tensor:
        return (exact.probabilities(circuit)[1] * weights).sum()

    def backward(value: torch.Tensor) -> None:
        bs.grad = ps.grad = None
        value.backward()

    def forward_no_grad() -> torch.Tensor:
        with torch.no_grad():
            return loss()

    first, _ = first_call(loss, sync)
    backward(loss())
    if not all(g is not None and bool(torch.isfinite(g).all()) for g in (bs.grad, ps.grad)):
        raise DisagreementError(f"no finite gradient for {case_name(base)}")
    forward_ts, backward_ts, no_grad_ts = interleave(
        [loss, backward, forward_no_grad], setups=[None, loss, None], budget_s=config.budget_s,
        min_rounds=3, sync=sync)
    forward_t, backward_t = summarize(first, forward_ts), summarize(first, backward_ts)
    ratio = backward_t.best_s / forward_t.best_s
    target, mark = verdict(ratio, TARGET_BACKWARD)
    note = f"forward under no_grad {format_time(min(no_grad_ts))}; best of {forward_t.calls}"
    rows = [Row("3", case_name(base), "backward / forward", backward_t.best_s, forward_t.best_s,
                ratio, target, mark, note, backward_t.median_s, forward_t.median_s)]
    if m == 16:
        for what, seconds, limit in (
                ("forward, no grad", min(no_grad_ts), TARGET_FORWARD_16),
                ("forward + backward", forward_t.best_s + backward_t.best_s,
                 TARGET_FORWARD_BACKWARD_16)):
            target, mark = verdict(seconds / limit[1], ("<=", 1.0))
            rows.append(Row("5", case_name(base), what, seconds, limit[1], seconds / limit[1],
                            f"<= {format_time(limit[1])}", mark, "best of warm calls"))
    return rows


# --------------------------------------------------------------------------- 4. sampling
def numba_compile_row(config: Config) -> Row:
    """First call of the Clifford–Clifford sampler in a fresh process with an empty numba cache."""
    case = "numba compile (clifford, 1st call)"
    if config.quick:
        return Row("4", case, "ours", None, None, None, note="skipped under --quick (~10 s)")
    progress("numba compile time of the Clifford-Clifford sampler")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        try:
            done = subprocess.run([sys.executable, "-c", COMPILE_SNIPPET], env=env, check=True,
                                  capture_output=True, text=True, timeout=600)
            seconds, note = float(done.stdout.split()[-1]), "fresh process, empty NUMBA_CACHE_DIR"
        except subprocess.CalledProcessError as err:
            lines = (err.stderr or "?").strip().splitlines()
            seconds, note = None, f"n/a: compile run failed: {lines[-1][:100]}"
        except (subprocess.SubprocessError, ValueError, IndexError) as err:
            seconds, note = None, error_note(err)
    return Row("4", case, "ours", seconds, None, None, note=note)


def sampler_calls(circuit: TBICircuit, config: Config) -> dict[str, Callable]:
    """Perceval CC and our two sampler settings, each drawing ``config.shots`` samples."""
    calls = {"Perceval CC": perceval_cc(circuit.unitary().numpy(), circuit.input_state,
                                        config.shots)}
    for sampler in ("auto", "clifford"):
        exact = get_backend("exact", device=config.device, sampler=sampler)
        calls[sampler] = partial(exact.sample, circuit, config.shots, seed=SEED)
    return calls


def as_samples(result) -> np.ndarray:
    """``(shots, M)`` int64 from a Perceval ``BSSamples`` or one of our histograms."""
    if hasattr(result, "patterns"):
        return np.repeat(np.asarray(result.patterns, dtype=np.int64), result.counts, axis=0)
    return np.array([list(state) for state in result], dtype=np.int64)


def sampler_used(sampler: str, circuit: TBICircuit, shots: int) -> str:
    return get_backend("exact", sampler=sampler).sampling_method(circuit, shots)


def sampler_rows(m: int, config: Config) -> list[Row]:
    """Section 4: samples from ours (auto, clifford) and Perceval CC on the same unitary."""
    circuit = random_tbi(m, SAMPLE_LOOPS, rng=SEED)
    case = case_name(circuit, f", {config.shots:,} shots")
    progress(f"sampling {case}")
    expected = expected_means(circuit.unitary().numpy(), circuit.input_state)
    calls = sampler_calls(circuit, config)
    firsts = {}
    for name, call in calls.items():
        firsts[name], result = first_call(call)
        check_moments(f"{name}, {case}", as_samples(result), expected)
    times = dict(zip(calls, interleave(list(calls.values()), budget_s=config.budget_s,
                                       min_rounds=1), strict=True))
    peer = summarize(firsts["Perceval CC"], times["Perceval CC"], count_first=True)
    rows = []
    for sampler in ("auto", "clifford"):
        ours = summarize(firsts[sampler], times[sampler])
        ratio = ours.best_s / peer.best_s
        target, mark = verdict(ratio, TARGET_SAMPLER) if m >= 30 else ("", "")
        note = (f"uses {sampler_used(sampler, circuit, config.shots)}; first call"
                f" {format_time(ours.first_s)}; best of {ours.calls} (peer {peer.calls})")
        rows.append(Row("4", case, f"ours ({sampler}) / Perceval CC", ours.best_s, peer.best_s,
                        ratio, target, mark, note, ours.median_s, peer.median_s))
    return rows


# --------------------------------------------------------------------------- report
def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def format_row(row: Row) -> str:
    ratio = "n/a" if row.ratio is None else f"{row.ratio:.3g}"
    show = format_time if row.unit == "s" else (lambda b: f"{b / 2**30:.2f} GiB")
    return (f"  {row.case:<34} {row.comparison:<30} {show(row.ours_s):>9}"
            f" {show(row.reference_s):>9} {ratio:>8} {row.target:>6} {row.verdict:<4}"
            f"  {row.note}")


def print_table(rows: list[Row]) -> None:
    header = (f"  {'case':<34} {'comparison':<30} {'ours':>9} {'reference':>9} {'ratio':>8}"
              f" {'target':>6} {'':<4}  note")
    for section, title in SECTIONS.items():
        if not any(row.section == section for row in rows):
            continue  # not run (--sections)
        print(f"\n{section}. {title}\n{header}")
        for row in rows:
            if row.section == section:
                print(format_row(row))


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment(device: torch.device) -> dict[str, str]:
    """Versions, thread counts and load: what the numbers depend on."""
    import numba

    gpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
    return {
        "cpus": f"{os.cpu_count()} (usable {len(os.sched_getaffinity(0))})",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": f"{torch.__version__} (threads {torch.get_num_threads()},"
                 f" interop {torch.get_num_interop_threads()})",
        "numba": f"{numba.__version__} (threads {numba.get_num_threads()})",
        "perceval": f"{package_version('perceval-quandela')} (exqalibur"
                    f" {package_version('exqalibur')})",
        "cudaq": package_version("cudaq"),
        "device": f"{device}{gpu}",
    }


def set_threads(n_threads: int) -> None:
    """Thread counts of torch and numba (process-wide: set once, before anything is timed)."""
    import numba

    torch.set_num_threads(n_threads)
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))


def run(config: Config) -> tuple[dict[str, str], list[Row]]:
    if config.threads is not None:
        set_threads(config.threads)
    env = environment(config.device)
    print("Environment: " + "; ".join(f"{k} {v}" for k, v in env.items()), flush=True)
    print(check_perceval_convention(), flush=True)
    rows = distribution_rows(config, make_cudaq()) if "1" in config.sections else []
    if "2" in config.sections:  # with section 5's memory row
        rows += [row for m in config.modes for row in batch_row(m, config)]
    if "3" in config.sections:  # with section 5's time rows
        rows += [row for m in config.modes for row in backward_row(m, config)]
    if "4" in config.sections:
        rows.append(numba_compile_row(config))
        for m in SAMPLE_MODES:
            rows += sampler_rows(m, config)
    return env, rows


def parse_args(argv: Sequence[str] | None = None) -> tuple[Config, str | None]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="8/4 and 12/6 only, 1,000 samples, shorter timing budgets")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="where our exact backend runs (the peers run on the CPU)")
    parser.add_argument("--json", metavar="PATH", help="also write environment and rows here")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="torch and numba threads for our backend (default: as installed)")
    parser.add_argument("--sections", default="1234", metavar="DIGITS",
                        help="which sections to run, e.g. 123 (default: all; 5 comes with 2 and "
                             "3; 4, the samplers, runs on the CPU whatever --device)")
    args = parser.parse_args(argv)
    if not args.sections or set(args.sections) - set("1234"):
        parser.error(f"--sections={args.sections!r}: give digits from 1234")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads={args.threads} must be at least 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but torch sees no CUDA device")
    try:
        import perceval  # noqa: F401
    except ImportError:
        parser.error("Perceval, the peer, is not installed: pip install -e .[bench]")
    return Config(device=torch.device(args.device),
                  modes=QUICK_MODES if args.quick else FULL_MODES,
                  shots=QUICK_SHOTS if args.quick else FULL_SHOTS,
                  budget_s=QUICK_BUDGET_S if args.quick else FULL_BUDGET_S,
                  quick=args.quick, threads=args.threads, sections=args.sections), args.json


def main(argv: Sequence[str] | None = None) -> None:
    config, json_path = parse_args(argv)
    start = time.perf_counter()
    env, rows = run(config)
    print_table(rows)
    print(f"\nTotal {time.perf_counter() - start:.0f} s. Times are the best of k warm calls,"
          " ours and the peer interleaved; targets are reported, never enforced.")
    if json_path:
        with open(json_path, "w") as f:
            settings = {**asdict(config), "device": str(config.device)}
            json.dump({"environment": env, "config": settings, "rows": [asdict(r) for r in rows]},
                      f, indent=1)


if __name__ == "__main__":
    main()
