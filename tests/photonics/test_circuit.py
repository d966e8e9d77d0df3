"""TBICircuit validation and its unitary: shapes, unitarity, closed forms, batching, gradients."""

import math
import re

import numpy as np
import pytest
import torch

from qnn.photonics import TBICircuit, beam_splitter_pairs, n_beam_splitters, tbi_unitary
from qnn.photonics import random_tbi as random_circuit


def test_beam_splitter_count_and_order_follow_cudaq():
    assert n_beam_splitters(30, (1, 3, 9)) == 77  # the BBS circuit of arXiv 2510.08274
    assert beam_splitter_pairs(4, (1, 2)) == [(0, 1), (1, 2), (2, 3), (0, 2), (1, 3)]


def test_single_beam_splitter_matrix_matches_cudaq_convention():
    theta, phi = 0.3, 0.7
    u = TBICircuit((1, 0), (1,), [theta], [phi]).unitary()
    expected = torch.tensor(
        [
            [math.cos(theta) * np.exp(1j * phi), math.sin(theta) * np.exp(1j * phi)],
            [-math.sin(theta), math.cos(theta)],
        ],
        dtype=torch.complex128,
    )
    torch.testing.assert_close(u, expected)


@pytest.mark.parametrize("loops", [(1,), (1, 2), (1, 3), (1, 3, 9)])
def test_unitary_is_unitary(loops):
    circuit = random_circuit(12, loops, rng=3)
    u = circuit.unitary()
    torch.testing.assert_close(u @ u.conj().T, torch.eye(12, dtype=u.dtype), atol=1e-12, rtol=0)


def test_single_photon_through_a_chain_of_splitters():
    """Loop 1: at splitter k the photon stays (cos θ_k) or moves one bin on (-sin θ_k)."""
    thetas = np.array([0.4, 0.9, 1.3])
    u = TBICircuit((1, 0, 0, 0), (1,), thetas).unitary()[:, 0]
    expected = [
        math.cos(thetas[0]),
        -math.sin(thetas[0]) * math.cos(thetas[1]),
        math.sin(thetas[0]) * math.sin(thetas[1]) * math.cos(thetas[2]),
        -math.sin(thetas[0]) * math.sin(thetas[1]) * math.sin(thetas[2]),
    ]
    np.testing.assert_allclose(u.numpy(), expected, atol=1e-14)


def test_batched_unitary_equals_stacked_singles():
    batched = random_circuit(6, (1, 2), rng=5, batch=(3, 2))
    u = batched.unitary()
    assert u.shape == (3, 2, 6, 6)
    singles = torch.stack([c.unitary() for c in batched.unbatched()]).reshape(3, 2, 6, 6)
    torch.testing.assert_close(u, singles)


def test_unitary_gradcheck():
    bs = torch.rand(2, 5, dtype=torch.float64, requires_grad=True)
    ps = torch.rand(2, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda b, p: tbi_unitary(4, (1, 2), b, p), (bs, ps))


def test_dict_round_trip():
    circuit = random_circuit(5, (1, 2), rng=1)
    again = TBICircuit.from_dict(circuit.to_dict())
    assert again.input_state == circuit.input_state and again.loop_lengths == circuit.loop_lengths
    torch.testing.assert_close(again.unitary(), circuit.unitary())
    no_ps = TBICircuit.from_dict(random_circuit(5, (1,), rng=1, phases=False).to_dict())
    assert no_ps.ps_angles is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(input_state=(), loop_lengths=(1,), bs_angles=[]), "input_state is empty"),
        (dict(input_state=(1, -1), loop_lengths=(1,), bs_angles=[0.1]), r"input_state\[1\]=-1"),
        (
            dict(input_state=(1, 0.5), loop_lengths=(1,), bs_angles=[0.1]),
            r"input_state\[1\]=0.5 is not",
        ),
        (dict(input_state=(0, 0), loop_lengths=(1,), bs_angles=[0.1]), "holds no photons"),
        (
            dict(input_state=(1, 0), loop_lengths=(2,), bs_angles=[]),
            r"loop_lengths\[0\]=2 is outside",
        ),
        (
            dict(input_state=(1, 0), loop_lengths=(0,), bs_angles=[]),
            r"loop_lengths\[0\]=0 is below 1",
        ),
        (dict(input_state=(1, 0), loop_lengths=(), bs_angles=[]), "loop_lengths is empty"),
        (
            dict(input_state=(1, 0, 1), loop_lengths=(1,), bs_angles=[0.1]),
            "bs_angles has 1 entries, expected 2",
        ),
        (dict(input_state=(1, 0), loop_lengths=(1,), bs_angles=[float("nan")]), "non-finite"),
        (
            dict(input_state=(1, 0), loop_lengths=(1,), bs_angles=[0.1], ps_angles=[np.inf]),
            "ps_angles holds a non-finite",
        ),
        (
            dict(input_state=(1, 0), loop_lengths=(1,), bs_angles=[0.1], ps_angles=[0.1, 0.2]),
            "ps_angles has 2",
        ),
    ],
)
def test_malformed_circuits_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TBICircuit(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(input_state=(1, True), loop_lengths=(1,), bs_angles=[0.1]),
         r"^input_state\[1\]=True is not an integer$"),
        (dict(input_state=np.array([True, False]), loop_lengths=(1,), bs_angles=[0.1]),
         "^input_state is a bool array"),
        (dict(input_state=torch.tensor([True, False]), loop_lengths=(1,), bs_angles=[0.1]),
         "^input_state is a bool array"),
        (dict(input_state=(1, 0), loop_lengths=(True,), bs_angles=[0.1]),
         r"^loop_lengths\[0\]=True is not an integer$"),
        (dict(input_state=(1, 0, 1), loop_lengths=(1,), bs_angles=[0.1 + 1j, 0.2]),
         "^bs_angles holds complex numbers; angles are real"),
        (dict(input_state=(1, 0, 1), loop_lengths=(1,), bs_angles=[0.1, 0.2], ps_angles=[1j, 0]),
         "^ps_angles holds complex numbers"),
        (dict(input_state=(1, 0), loop_lengths=(1,), bs_angles=torch.zeros(1, dtype=torch.cfloat)),
         "^bs_angles is a complex tensor"),
        (dict(input_state=(1, 0), loop_lengths=(1,), bs_angles=[True]),
         "^bs_angles must hold real numbers .*dtype bool"),
        (dict(input_state=(1, 0), loop_lengths=(1,), bs_angles=["0.1"]),
         "^bs_angles must hold real numbers"),
        (dict(input_state=(1, 0), loop_lengths=(1,), bs_angles=torch.tensor([True])),
         "^bs_angles is a bool tensor"),
    ],
)
def test_bools_and_complex_numbers_are_refused_not_converted(kwargs, match):
    """``operator.index(True)`` is 1 and ``float(1 + 1j)`` would drop the imaginary part: both
    are mistakes to name, not values to convert."""
    with pytest.raises(ValueError, match=match):
        TBICircuit(**kwargs)


@pytest.mark.parametrize(("bs_shape", "ps_shape", "message"), [
    ((2, 3), (3, 3),
     "ps_angles batch shape (3,) does not broadcast with bs_angles batch shape (2,)"),
    ((4, 1, 3), (2, 5, 3),
     "ps_angles batch shape (2, 5) does not broadcast with bs_angles batch shape (4, 1)"),
])
def test_unbroadcastable_phase_batches_are_one_clear_error(bs_shape, ps_shape, message):
    """Checked before torch is asked, so the message is ours and names both batch shapes."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$") as info:
        TBICircuit([1, 0, 1, 0], [1], torch.zeros(bs_shape), torch.zeros(ps_shape))
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert TBICircuit([1, 0, 1, 0], [1], torch.zeros(2, 1, 3), torch.zeros(4, 3)).batch_shape \
        == (2, 4)


def test_a_loop_as_long_as_the_interferometer_is_named_not_counted_negative():
    with pytest.raises(ValueError, match=r"^loop_lengths\[1\]=7 is outside \[1, 3\] for 4 modes$"):
        n_beam_splitters(4, (1, 7))
    with pytest.raises(ValueError, match=r"loop_lengths\[0\]=4 is outside"):
        random_circuit(4, (4,), rng=0)


def test_hundreds_of_photons_are_counted_exactly():
    """Counts are Python ints (no uint8 wrap: 300 is not 44 or 256); the exact backend, whose
    patterns are uint8, refuses them by name."""
    from qnn.photonics import get_backend

    circuit = TBICircuit(np.array([200, 100, 0, 0], dtype=np.uint8), [1], np.full(3, 0.3))
    assert circuit.n_photons == 300 and circuit.input_state == (200, 100, 0, 0)
    with pytest.raises(ValueError, match="^300 photons exceed 255, the most a pattern stores"):
        get_backend("exact").probabilities(circuit)


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown circuit field"):
        TBICircuit.from_dict(
            {"input_state": [1, 0], "loop_lengths": [1], "bs_angles": [0.1], "bs_angle": [0.2]}
        )


@pytest.mark.parametrize("modes, loops, batch, phases", [
    (6, (1,), (), False), (9, (1, 2), (4,), True), (8, (1, 3), (2, 3), True)])
def test_compiled_unitary_and_its_adjoint_equal_the_torch_path(modes, loops, batch, phases):
    # float64 on the CPU goes through the compiled loop and its hand-written adjoint; the torch
    # path (float32, GPUs) is the reference: same unitary, same gradients of a real loss
    from qnn.photonics.circuit import _torch_tbi_unitary

    gen = torch.Generator().manual_seed(modes)
    n_bs = n_beam_splitters(modes, loops)
    bs = torch.rand(*batch, n_bs, dtype=torch.float64, generator=gen).requires_grad_()
    ps = torch.rand(n_bs, dtype=torch.float64, generator=gen).requires_grad_() if phases \
        else None
    weights = torch.randn(*batch, modes, modes, dtype=torch.complex128, generator=gen)
    shape = torch.broadcast_shapes(bs.shape[:-1], () if ps is None else ps.shape[:-1])
    outputs = [tbi_unitary(modes, loops, bs, ps),
               _torch_tbi_unitary(modes, loops, bs, ps, shape)]
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=1e-14)
    leaves = [bs] if ps is None else [bs, ps]
    grads = [torch.autograd.grad((u * weights).real.sum() + (u.abs() ** 2).sum(), leaves)
             for u in outputs]
    for ours, reference in zip(*grads, strict=True):
        torch.testing.assert_close(ours, reference, rtol=0, atol=1e-13)
    assert torch.autograd.gradcheck(lambda *a: tbi_unitary(modes, loops, *a),
                                    (bs, ps) if phases else (bs,))
