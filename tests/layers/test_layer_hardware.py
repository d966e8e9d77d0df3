"""PhotonicLayer on the hardware path: an emulated PT system behind CUDA-Q's orca client."""

import numpy as np
import pytest
import torch

pytest.importorskip("cudaq")

from qnn.emulator import EmulatorProcess  # noqa: E402
from qnn.layers import PhotonicLayer  # noqa: E402
from qnn.photonics.pool import orca_pool  # noqa: E402


def test_layer_trains_through_a_qpu_pool_with_spsa():
    x = torch.as_tensor(np.random.default_rng(0).normal(size=(3, 2))).requires_grad_()
    exact = PhotonicLayer(4, (1, 0, 1, 0), (1, 2), n_features=2, seed=4)
    with EmulatorProcess(token="layer-token", seed=1) as qpu:
        pool = orca_pool([qpu.url], token="layer-token", retries=1, timeout=60)
        layer = PhotonicLayer(4, (1, 0, 1, 0), (1, 2), n_features=2, backend=pool, shots=2000,
                              gradient="spsa", seed=4)
        out = layer(x)
        out.sum().backward()
    assert layer.evaluations == layer.evaluations_per_step(3) == 3 * (1 + 2)
    # <n_i> from 2,000 shots: each count is at most 2, so its standard error is below 0.045.
    torch.testing.assert_close(out.detach(), exact(x).detach(), rtol=0, atol=5 * 0.045)
    assert torch.isfinite(x.grad).all() and torch.isfinite(layer.bs_angles.grad).all()
    # Every photon is detected on the ideal emulator: the means add up to 2 in every row.
    torch.testing.assert_close(out.detach().sum(-1), torch.full((3,), 2.0, dtype=out.dtype))
