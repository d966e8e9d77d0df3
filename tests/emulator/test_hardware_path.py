"""The hardware path end to end: the real CUDA-Q ``orca`` client against emulator processes."""

import threading

import numpy as np
import pytest

pytest.importorskip("cudaq")

from qnn.emulator import EmulatorProcess, FaultModel  # noqa: E402
from qnn.photonics import NoiseModel, TBICircuit, get_backend, random_tbi  # noqa: E402
from qnn.photonics.pool import Job, PoolError, orca_pool  # noqa: E402

TOKEN = "pt-test-token"


@pytest.fixture(scope="module")
def two_qpus():
    with EmulatorProcess(token=TOKEN, seed=1) as qpu0, EmulatorProcess(token=TOKEN, seed=2) as qpu1:
        yield [qpu0.url, qpu1.url]


def tvd(hist, patterns, probs):
    freq = {k: v / hist.shots for k, v in hist.to_dict().items()}
    exact = {tuple(p): q for p, q in zip(patterns.tolist(), probs.tolist(), strict=True)}
    return 0.5 * sum(abs(freq.get(k, 0.0) - exact.get(k, 0.0)) for k in exact.keys() | freq.keys())


def tvd_bound(probs, shots):
    """Three times the expected TVD of an exact sampler: a failure is a real disagreement."""
    p = probs.numpy()
    return 1.5 * np.sqrt(p * (1 - p) / shots).sum()


@pytest.mark.parametrize("detection", ["pnr", "threshold"])
def test_two_emulated_qpus_agree_with_the_exact_backend(two_qpus, detection):
    circuit = random_tbi(6, (1, 2), rng=3)
    patterns, probs = get_backend("exact").probabilities(circuit, detection)
    orca = get_backend("orca", urls=two_qpus, token=TOKEN)
    jobs = [orca.sample_async(circuit, 8000, qpu_id=q, detection=detection) for q in (0, 1)]
    for job in jobs:  # both QPUs were submitted to before either is awaited: they run in parallel
        hist = job.get()
        assert hist.shots == 8000
        assert tvd(hist, patterns, probs) < tvd_bound(probs, 8000)


def test_a_noisy_emulator_matches_the_noisy_exact_distribution():
    noise = NoiseModel(transmission=0.7, dark_count_prob=0.02, indistinguishability=0.9)
    circuit = random_tbi(4, (1, 2), rng=4)
    patterns, probs = get_backend("exact", noise=noise).probabilities(circuit)
    with EmulatorProcess(noise=noise, seed=5) as qpu:
        hist = get_backend("orca", urls=qpu.url).sample(circuit, 20_000)
    # Dark counts add patterns beyond the lossy space; their mass is in the bound via probs.
    assert tvd(hist, patterns, probs) < tvd_bound(probs, 20_000)


def routed(mode, n_modes=8):
    """One photon from bin 0 to bin ``mode``: θ = π/2 swaps a photon on, θ = 0 keeps it."""
    angles = [np.pi / 2] * mode + [0.0] * (n_modes - 1 - mode)
    return TBICircuit([1] + [0] * (n_modes - 1), [1], angles)


def test_faults_and_latency_never_lose_duplicate_or_misattribute_a_result():
    """200 jobs, 8 client threads, 20% injected faults and random latency on two QPUs: every
    job's histogram arrives once, with its own shot count, on its own output mode."""
    faults = FaultModel(
        fail_rate=0.2, kinds=("submit", "job", "malformed", "hang"), latency=(0.0, 0.02)
    )
    with (
        EmulatorProcess(token=TOKEN, faults=faults, seed=6) as a,
        EmulatorProcess(token=TOKEN, faults=faults, seed=7) as b,
    ):
        pool = orca_pool([a.url, b.url], token=TOKEN, retries=10, backoff=0.01, timeout=3.0)
        jobs = [Job(routed(k % 8), shots=20 + k) for k in range(200)]
        results: dict[int, object] = {}

        def client(indices):
            for index, hist in zip(indices, pool.run([jobs[i] for i in indices]), strict=True):
                assert index not in results
                results[index] = hist

        threads = [
            threading.Thread(target=client, args=(list(range(t, 200, 8)),)) for t in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(240)
    assert sorted(results) == list(range(200))
    for k, hist in results.items():
        expected = tuple(int(m == k % 8) for m in range(8))
        assert hist.to_dict() == {expected: 20 + k}


def test_a_qpu_that_is_down_is_named_and_the_other_results_are_kept(two_qpus):
    with EmulatorProcess(token=TOKEN) as doomed:
        dead_url = doomed.url
    pool = orca_pool([two_qpus[0], dead_url], token=TOKEN, retries=1, backoff=0.01)
    jobs = [Job(routed(1), 30, qpu_id=0), Job(routed(2), 40, qpu_id=1)]
    with pytest.raises(PoolError, match=r"QPU 1 failed job 1 after 2 attempts") as info:
        pool.run(jobs)
    assert sorted(info.value.results) == [0] and info.value.results[0].shots == 30
    assert TOKEN not in str(info.value)


def test_wrong_token_is_a_clear_error(two_qpus):
    orca = get_backend("orca", urls=two_qpus, token="not-the-token")
    with pytest.raises(Exception, match="authorization refused: wrong token") as info:
        orca.sample(routed(0), 10)
    assert "not-the-token" not in str(info.value)

