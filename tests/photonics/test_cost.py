"""One cost guard: impossible requests are refused before anything is allocated, naming the
size, the limit and how to raise it; long numba work stops on Ctrl-C."""

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from qnn.cli import main
from qnn.photonics import NoiseModel, TBICircuit, get_backend
from qnn.photonics.cost import CostLimitError, check_fock_space, limit_of, slos_bytes

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_enumeration(monkeypatch):
    """Every Fock basis is built by ``fock._basis``: make any call to it fail the test."""
    import qnn.photonics.fock as fock

    monkeypatch.setattr(fock, "_basis", lambda m, n: pytest.fail(f"enumerated {m}/{n} anyway"))


def test_a_huge_fock_space_is_refused_before_anything_is_allocated(no_enumeration):
    from qnn.photonics.fock import fock_basis

    with pytest.raises(CostLimitError, match=r"^40 modes / 20 photons: 2.79e\+15 Fock states "
                                             r"\(.*PiB as uint8 patterns\) exceed the limit "
                                             r"6.71e\+07 \(set QNN_MAX_FOCK_STATES >= 2.79e\+15"):
        fock_basis(40, 20)


def test_quantum_train_outcome_lists_go_through_the_guard(no_enumeration):
    """The dqnn path that grew to 24 GB: ``outcome_patterns`` enumerated ``fock_basis(40, 20)``."""
    from qnn.qtrain.mapping import outcome_patterns

    for outcomes in ("pnr", "no_bunching", "threshold"):
        with pytest.raises(CostLimitError, match="40 modes / 20 photons: 2.79e"):
            outcome_patterns(40, 20, outcomes)


def test_threshold_outcome_lists_go_through_the_guard(monkeypatch):
    """A photonic layer's threshold outcomes list all 2^M click patterns first."""
    from qnn.layers.observables import reference_patterns

    monkeypatch.setenv("QNN_MAX_FOCK_STATES", "1000")
    with pytest.raises(CostLimitError, match=r"^threshold outcomes of 12 modes: 4.1e\+03 click "
                                             r"patterns exceed the limit 1e\+03"):
        reference_patterns(12, 3, "threshold")
    assert reference_patterns(9, 3, "threshold").shape == (1 + 9 + 36 + 84, 9)


def test_limits_are_raised_through_their_variable(monkeypatch):
    from qnn.photonics.fock import fock_basis

    monkeypatch.setenv("QNN_MAX_FOCK_STATES", "10")
    with pytest.raises(CostLimitError,
                       match=r"exceed the limit 10 \(set QNN_MAX_FOCK_STATES >= 20 to allow it"):
        fock_basis(4, 3)
    monkeypatch.setenv("QNN_MAX_FOCK_STATES", "20")
    assert fock_basis(4, 3).shape == (20, 4)
    for bad in ("lots", "0", "-5", "nan"):
        monkeypatch.setenv("QNN_MAX_FOCK_STATES", bad)
        with pytest.raises(CostLimitError, match=f"QNN_MAX_FOCK_STATES='{bad}'"):
            limit_of("fock_states")


def test_a_caller_limit_is_checked_with_its_remedy():
    with pytest.raises(CostLimitError, match=r"2e\+07 Fock states .* exceed the limit 1e\+06 "
                                             r"\(raise max_states\)"):
        check_fock_space(20, 10, limit=1e6, remedy="raise max_states")


def test_the_exact_backend_refuses_before_simulating(monkeypatch):
    import qnn.photonics.backends.exact as exact

    monkeypatch.setattr(exact, "fock_amplitudes", lambda *a: pytest.fail("simulated anyway"))
    circuit = TBICircuit([1, 0] * 15, [1, 2], np.zeros(57))
    with pytest.raises(CostLimitError,
                       match=r"30 modes / 15 photons: 2.3e\+11 Fock.*QNN_MAX_FOCK_STATES"):
        get_backend("exact").probabilities(circuit)
    small = TBICircuit([1, 0, 1, 1], [1], np.zeros(3))  # 20 Fock states
    with pytest.raises(CostLimitError, match=r"exceed the limit 10 \(sample instead, or raise"
                                             r" max_states\)"):
        get_backend("exact", max_states=10).probabilities(small)


def test_simulation_memory_counts_every_parameter_set(monkeypatch):
    """16 modes / 8 photons is 4.9e5 states, but 5,000 parameter sets of it need ~160 GiB."""
    import qnn.photonics.slos as slos

    monkeypatch.setattr(slos, "add_photon", lambda *a: pytest.fail("simulated anyway"))
    batched = TBICircuit([1, 0] * 8, [1], np.zeros((5000, 15)))
    with pytest.raises(CostLimitError, match=r"exact simulation of 16 modes / 8 photons x 5,000 "
                                             r"parameter sets: .* GiB exceed the limit 16 GiB "
                                             r"\(set QNN_MAX_MEMORY_BYTES >= "):
        get_backend("exact").probabilities(batched)
    with pytest.raises(CostLimitError, match="x 5,000 parameter sets"):
        slos.fock_probabilities(batched.unitary(), batched.input_state)
    assert slos_bytes(16, 8, 5000) > 5000 * 16 * 490_314  # at least the last amplitude vectors


def test_partial_distinguishability_of_many_photons_is_refused(monkeypatch):
    import qnn.photonics.backends.exact as exact

    monkeypatch.setattr(exact, "fock_amplitudes", lambda *a: pytest.fail("simulated anyway"))
    circuit = TBICircuit([1] * 12 + [0, 0], [1], np.full(13, 0.3))
    backend = get_backend("exact", noise=NoiseModel(indistinguishability=0.9))
    with pytest.raises(CostLimitError, match=r"partial distinguishability of 12 photons in 14 "
                                             r"modes: 2.12e\+10 mixture terms x Fock states .*"
                                             r"QNN_MAX_MIXTURE_STATES"):
        backend.probabilities(circuit)


def test_a_refused_mixture_is_still_sampled_shot_by_shot(monkeypatch):
    """``sampler="auto"`` only samples from the distribution when the guard allows building it."""
    monkeypatch.setenv("QNN_MAX_MIXTURE_STATES", "99")
    circuit = TBICircuit([1, 1, 1, 0], [1], np.full(3, 0.4))  # 5 mixture terms x 20 states
    backend = get_backend("exact", noise=NoiseModel(indistinguishability=0.5))
    with pytest.raises(CostLimitError, match="100 mixture terms x Fock states exceed the limit 99"):
        backend.probabilities(circuit)
    hist = backend.sample(circuit, 200, seed=0)
    assert hist.shots == 200 and (hist.patterns.sum(axis=1) == 3).all()


def test_clifford_sampling_is_refused_before_allocating(monkeypatch):
    import qnn.photonics.clifford as clifford

    monkeypatch.setattr(clifford, "_sample_chunks", lambda *a: pytest.fail("sampled anyway"))
    unitary = np.fft.fft(np.eye(80)) / np.sqrt(80)
    with pytest.raises(CostLimitError, match=r"sampling of 1 shots of 40 photons: 4.4e\+13 "
                                             r"sampler operations .*QNN_MAX_SAMPLER_WORK"):
        clifford.clifford_sample(unitary, [1, 0] * 40, 1, rng=np.random.default_rng(0))


# --------------------------------------------------------------------------- the command line
def test_dqnn_refuses_a_40_mode_qpu_naming_the_size(tmp_path, capsys):
    qpus = json.dumps([{"input_state": [1, 0] * 20, "loop_lengths": [1]}])
    assert main(["run", "dqnn", "--runs-dir", str(tmp_path), "with", "smoke",
                 f"qpus={qpus}"]) == 2
    err = capsys.readouterr().err
    assert "40 modes / 20 photons: 2.79e+15 Fock states" in err and "QNN_MAX_FOCK_STATES" in err
    assert not any(tmp_path.iterdir())  # refused before any run folder


def test_dqnn_names_a_loop_longer_than_the_interferometer(tmp_path, capsys):
    """It was torch's ``negative dimension -3``: the angle count came before validation."""
    qpus = json.dumps([{"input_state": [1, 0, 1, 0], "loop_lengths": [7]}])
    assert main(["run", "dqnn", "--runs-dir", str(tmp_path), "with", "smoke",
                 f"qpus={qpus}"]) == 2
    err = capsys.readouterr().err
    assert "qpus[0]" in err and "loop_lengths[0]=7 is outside [1, 3] for 4 modes" in err
    assert "negative" not in err


def test_bbs_refuses_ten_billion_instances_before_listing_tasks(tmp_path, capsys, monkeypatch):
    from qnn.bbs.study import StudySpec

    monkeypatch.setattr(StudySpec, "tasks", lambda self: pytest.fail("listed the tasks anyway"))
    assert main(["run", "bbs", "--runs-dir", str(tmp_path), "with", "smoke",
                 "instances=10000000000"]) == 2
    err = capsys.readouterr().err
    assert "instances=10,000,000,000" in err
    assert "6 (problem, size) pairs x 7 methods: 4.2e+11 tasks" in err
    assert "QNN_MAX_TASKS" in err


def test_sampling_80_modes_is_refused(tmp_path, capsys):
    assert main(["demo", "--modes", "80", "--shots", "1", "--out", str(tmp_path / "d.h5")]) == 2
    err = capsys.readouterr().err
    assert "40 photons" in err and "QNN_MAX_SAMPLER_WORK" in err


# --------------------------------------------------------------------------- Ctrl-C
_SAMPLE_UNTIL_INTERRUPTED = """
import sys
import numpy as np
from qnn.photonics.clifford import clifford_sample
n, shots = int(sys.argv[1]), int(sys.argv[2])
clifford_sample(np.eye(2), [1, 1], 1, rng=np.random.default_rng(0))  # compiled before timing
u = np.fft.fft(np.eye(2 * n)) / np.sqrt(2 * n)
print("sampling", flush=True)
clifford_sample(u, [1, 0] * n, shots, rng=np.random.default_rng(0))
print("finished", flush=True)
"""


@pytest.mark.parametrize(("n_photons", "shots", "env"), [
    (20, 40_000, {}),  # 8.4e11 operations, allowed: about a minute on one core
    (38, 1, {"QNN_MAX_SAMPLER_WORK": "1e14"}),  # one sample of minutes: stops inside it
])
def test_clifford_sampling_stops_on_ctrl_c(n_photons, shots, env):
    """SIGINT during a long sample ends the process with KeyboardInterrupt at once (numba
    kernels run in chunks on worker threads and read a stop flag), not after the sample."""
    child = subprocess.Popen(
        [sys.executable, "-c", _SAMPLE_UNTIL_INTERRUPTED, str(n_photons), str(shots)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", **env})
    try:
        with selectors.DefaultSelector() as selector:  # numba may compile first: be patient
            selector.register(child.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=300), "the child never started sampling"
        assert child.stdout.readline() == "sampling\n"
        time.sleep(1.0)  # well inside the kernels
        start = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
        elapsed = time.monotonic() - start
    finally:
        child.kill()
        child.wait()
    assert "KeyboardInterrupt" in err and "finished" not in out
    assert elapsed < 5.0  # typically 0.5 s, process exit included; unstopped: minutes


def test_ctrl_c_while_chunks_are_submitted_stops_those_already_running(monkeypatch):
    """Ctrl-C can land while the calling thread is still submitting chunks (the cause of a
    rare slow stop: the chunks already submitted ran to the end). Every submitted chunk
    must see the stop flag, so the interrupt ends the sample at once whenever it lands."""
    import qnn.photonics.clifford as clifford

    submitted, done = [], clifford._executor(os.getpid(), 1).submit(lambda: None)

    class InterruptedPool:
        def submit(self, fn, *args):
            if len(submitted) == 3:
                raise KeyboardInterrupt
            submitted.append(args[-1])  # the chunk's stop flag
            return done

    monkeypatch.setattr(clifford, "_executor", lambda pid, n: InterruptedPool())
    monkeypatch.setattr(clifford.numba.config, "NUMBA_NUM_THREADS", 2)
    n_modes, n_photons, shots = 40, 20, 400  # above one call's work: chunked
    with pytest.raises(KeyboardInterrupt):
        clifford.clifford_sample(np.fft.fft(np.eye(n_modes)) / np.sqrt(n_modes),
                                 [1, 0] * n_photons, shots, rng=np.random.default_rng(0))
    assert len(submitted) == 3 and all(flag[0] == 1 for flag in submitted)


def test_slos_steps_run_in_calls_of_bounded_work_with_identical_results(monkeypatch):
    """Ctrl-C is handled between kernel calls: a step is split by output rows (and the
    adjoints by their rows), and every element is summed in the same order as in one call."""
    import qnn.photonics.slos_kernels as kernels
    from qnn.photonics import random_tbi
    from qnn.photonics.slos import fock_amplitudes

    circuit = random_tbi(8, (1, 2), rng=3, batch=(2,))

    def amplitudes_and_grads():
        bs = circuit.bs_angles.clone().requires_grad_(True)
        amps = fock_amplitudes(circuit.with_angles(bs, circuit.ps_angles).unitary(),
                               circuit.input_state)
        (amps.real.sum() + amps.imag.square().sum()).backward()
        return amps.detach(), bs.grad

    whole = amplitudes_and_grads()
    calls = []
    pick = kernels._pick
    monkeypatch.setattr(kernels, "_pick", lambda name, work: calls.append(name) or pick(name, work))
    monkeypatch.setattr(kernels, "CALL_WORK", 64)
    split = amplitudes_and_grads()
    assert torch.equal(split[0], whole[0]) and torch.equal(split[1], whole[1])
    n_states = 330  # C(11, 4): 8 modes, 4 photons
    assert calls.count("forward") >= n_states * 4 * 2 // 64  # many calls per step
    assert {"grad_prev", "grad_weights"} <= set(calls)
