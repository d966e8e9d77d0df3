"""Tests of the target CNNs: parameter counts, flat-weight forward, gradients, deployment."""

import pytest
import torch
from torch import nn

from qnn.qtrain.target import (
    DigitsCNN,
    HardwareCNN,
    PaperCNN,
    accuracy,
    functional_forward,
    load_flat_weights,
    n_weights,
    to_state_dict,
)

NETWORKS = [(PaperCNN, 28), (HardwareCNN, 28), (DigitsCNN, 8)]


def _flat_and_input(cls, size, dtype=torch.float32, n=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    net = cls().to(dtype)
    flat = 0.1 * torch.randn(n_weights(net), generator=gen, dtype=dtype)
    x = torch.rand(n, 1, size, size, generator=gen, dtype=dtype)
    return net, flat, x


def test_paper_cnn_has_exactly_6690_weights():
    """208 + 2,412 + 3,860 + 210, as in the published code."""
    assert n_weights(PaperCNN()) == PaperCNN.N_WEIGHTS == 6_690


def test_hardware_cnn_has_the_documented_count_near_8000():
    """Linear(192→26) instead of (192→20): 208 + 2,412 + 5,018 + 270."""
    assert n_weights(HardwareCNN()) == HardwareCNN.N_WEIGHTS == 7_908
    assert 7_500 <= HardwareCNN.N_WEIGHTS <= 8_500


def test_digits_cnn_is_small():
    assert n_weights(DigitsCNN()) == DigitsCNN.N_WEIGHTS == 1_198


def test_networks_have_no_activation_modules():
    """Only Conv2d, MaxPool2d and Linear layers, as in the published code."""
    allowed = (nn.Conv2d, nn.MaxPool2d, nn.Linear)
    for cls, _ in NETWORKS:
        assert all(isinstance(m, allowed) for m in cls().children())


@pytest.mark.parametrize(("cls", "size"), NETWORKS)
def test_output_shape_is_n_by_10(cls, size):
    net, _, x = _flat_and_input(cls, size, n=5)
    assert net(x).shape == (5, 10)


def test_wrong_input_shape_is_rejected():
    with pytest.raises(ValueError, match=r"expected \[n, 1, 28, 28\]"):
        PaperCNN()(torch.zeros(2, 1, 8, 8))


def test_load_flat_weights_splits_in_named_parameters_order():
    net = PaperCNN()
    flat = torch.arange(n_weights(net), dtype=torch.float32)
    pieces = load_flat_weights(net, flat)
    assert list(pieces) == [name for name, _ in net.named_parameters()]
    assert torch.equal(torch.cat([p.reshape(-1) for p in pieces.values()]), flat)
    assert pieces["conv1.weight"].shape == (8, 1, 5, 5)
    assert pieces["conv1.weight"].flatten()[0] == 0
    assert pieces["fc2.bias"].shape == (10,)
    assert pieces["fc2.bias"][-1] == 6_689


@pytest.mark.parametrize("shape", [(6_689,), (6_691,), (2, 6_690)])
def test_load_flat_weights_rejects_wrong_length(shape):
    with pytest.raises(ValueError, match=r"expected \[6690\]"):
        load_flat_weights(PaperCNN(), torch.zeros(shape))


def test_functional_forward_rejects_mixed_dtypes():
    net, flat, x = _flat_and_input(DigitsCNN, 8)
    with pytest.raises(TypeError, match="float64"):
        functional_forward(net, flat.double(), x)


@pytest.mark.parametrize(("cls", "size"), NETWORKS)
def test_deployed_state_dict_reproduces_functional_forward(cls, size):
    """A fresh module loaded with to_state_dict(...) gives the same logits."""
    net, flat, x = _flat_and_input(cls, size)
    deployed = cls()
    deployed.load_state_dict(to_state_dict(net, flat))
    torch.testing.assert_close(deployed(x), functional_forward(net, flat, x),
                               rtol=0, atol=1e-6)


def test_functional_forward_leaves_module_parameters_untouched():
    net, flat, x = _flat_and_input(DigitsCNN, 8)
    flat.requires_grad_(True)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    functional_forward(net, flat, x).sum().backward()
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())


def test_to_state_dict_is_detached_copy():
    net, flat, _ = _flat_and_input(DigitsCNN, 8)
    flat.requires_grad_(True)
    state = to_state_dict(net, flat)
    assert not any(v.requires_grad for v in state.values())
    with torch.no_grad():
        flat.zero_()
    assert any(v.abs().sum() > 0 for v in state.values())


def test_gradient_wrt_flat_matches_central_differences():
    """d/d flat of sum(w * logits) on one 28×28 image, float64, at 40 coordinates."""
    net, flat, x = _flat_and_input(PaperCNN, 28, dtype=torch.float64, n=1)
    w = torch.randn(1, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def loss(v):
        return (w * functional_forward(net, v, x)).sum()

    flat.requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(flat), flat)
    coords = torch.randperm(flat.numel(), generator=torch.Generator().manual_seed(2))[:40]
    h = 1e-6
    with torch.no_grad():
        for i in coords.tolist():
            step = torch.zeros_like(flat)
            step[i] = h
            numeric = (loss(flat + step) - loss(flat - step)) / (2 * h)
            assert grad[i].item() == pytest.approx(numeric.item(), rel=1e-5, abs=1e-8)
    assert grad.abs().sum() > 0


def test_gradcheck_through_digits_cnn():
    """Random-projection (fast mode) Jacobian check of flat -> logits on 2 images."""
    net, flat, x = _flat_and_input(DigitsCNN, 8, dtype=torch.float64, n=2)
    flat.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: functional_forward(net, v, x), (flat,),
                                     fast_mode=True)


def test_training_flat_weights_learns_a_separable_task():
    """Adam on ``flat`` alone fits 20 random 8×8 images with 2 classes."""
    gen = torch.Generator().manual_seed(3)
    net = DigitsCNN()
    x = torch.rand(20, 1, 8, 8, generator=gen)
    y = (x[:, 0, :4].sum(dim=(1, 2)) > x[:, 0, 4:].sum(dim=(1, 2))).long()
    flat = (0.1 * torch.randn(n_weights(net), generator=gen)).requires_grad_(True)
    opt = torch.optim.Adam([flat], lr=3e-2)
    for _ in range(40):
        opt.zero_grad()
        nn.functional.cross_entropy(functional_forward(net, flat, x), y).backward()
        opt.step()
    assert accuracy(lambda v: functional_forward(net, flat, v), x, y) >= 0.9


def test_accuracy_from_logits_and_from_model():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 5.0]])
    labels = torch.tensor([0, 1, 1, 0])
    assert accuracy(logits, labels) == 0.5
    assert accuracy(lambda v: v, logits, labels, batch_size=3) == 0.5


def test_accuracy_of_module_on_batches():
    net, _, x = _flat_and_input(DigitsCNN, 8, n=7)
    labels = net(x).argmax(dim=1)
    assert accuracy(net, x, labels, batch_size=2) == 1.0


def test_accuracy_argument_errors():
    with pytest.raises(TypeError, match="inputs and labels"):
        accuracy(DigitsCNN(), torch.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match="do not match"):
        accuracy(torch.zeros(3, 10), torch.zeros(2, dtype=torch.long))
