"""Target CNNs whose weights a Quantum-Train model generates, and flat-vector helpers.

The networks follow the published distributed-QNN / Quantum-Train code:
Conv → MaxPool 2 → Conv → MaxPool 2 → Flatten → Linear → Linear, with NO activation
functions anywhere (as in that code: the logits are a multilinear function of the
weights, and the pooling is the only nonlinearity in the input).

A generated weight vector ``flat`` of length :func:`n_weights` is laid out in
``module.named_parameters()`` order, each parameter flattened row-major.
:func:`functional_forward` runs the network on ``flat`` so that gradients reach it;
:func:`to_state_dict` turns ``flat`` into a state dict for deployment.
:func:`fast_functional_forward` computes the same as :func:`functional_forward` (to rounding)
in fewer, cheaper operations for these networks (the Quantum-Train step's hot path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import overload

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

__all__ = [
    "DigitsCNN",
    "HardwareCNN",
    "PaperCNN",
    "accuracy",
    "fast_functional_forward",
    "functional_forward",
    "load_flat_weights",
    "n_weights",
    "to_state_dict",
]


class _TwoConvCNN(nn.Module):
    """Conv(1→c1) → MaxPool 2 → Conv(c1→c2) → MaxPool 2 → Flatten → Linear → Linear.

    Abstract: use :class:`PaperCNN`, :class:`HardwareCNN` or :class:`DigitsCNN`.
    ``[n, 1, image_size, image_size]`` -> ``[n, 10]`` logits; no activations.
    """

    def __init__(self, image_size: int, channels: tuple[int, int], kernel_size: int,
                 padding: int, hidden: int, n_classes: int = 10) -> None:
        super().__init__()
        self.image_size = image_size
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, kernel_size, padding=padding)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(c1, c2, kernel_size, padding=padding)
        self.pool2 = nn.MaxPool2d(2)
        side = image_size
        for _ in range(2):
            side = (side + 2 * padding - kernel_size + 1) // 2
        self.fc1 = nn.Linear(c2 * side * side, hidden)
        self.fc2 = nn.Linear(hidden, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        x = self.pool2(self.conv2(self.pool1(self.conv1(x))))
        return self.fc2(self.fc1(torch.flatten(x, 1)))

    def _check_input(self, x: Tensor) -> None:
        s = self.image_size
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, s, s):
            raise ValueError(f"x has shape {tuple(x.shape)}, expected [n, 1, {s}, {s}]")

    # images per piece of a forward pass without gradients: the intermediate tensors of a
    # piece stay in cache (1,000 images at once run about 1.7x slower on one core)
    NO_GRAD_CHUNK = 128

    def forward_flat(self, weights: dict[str, Tensor], x: Tensor) -> Tensor:
        """:meth:`forward` with the parameters taken from ``weights`` (as
        :func:`load_flat_weights` gives them), in cheaper operations; equal to rounding.

        On one CPU thread the layer-by-layer call spends much of its time in PyTorch's NCHW
        max-pool kernel, about 5x slower than the channels-last one, and oneDNN gives a
        one-channel convolution an NCHW output. Here the first convolution is one matrix
        product of its ``k²`` shifted image views (copied once, ``(k², n·H·W)``) with the
        ``(c, k²)`` kernel, which leaves its output channels-last, so both max-pools and the
        second convolution run channels-last; its weight gradient is the transposed
        product. Its bias is added after the max-pool, on a quarter of the values (a
        per-channel constant commutes with the maximum). The pools are PyTorch's max-pool
        (ties resolved, and gradients routed, as in :meth:`forward`). Without
        gradients, the images go through in pieces of :attr:`NO_GRAD_CHUNK`.
        """
        self._check_input(x)
        needs_graph = torch.is_grad_enabled() and (
            x.requires_grad or any(w.requires_grad for w in weights.values()))
        if not needs_graph and len(x) > self.NO_GRAD_CHUNK:
            return torch.cat([self._forward_flat(weights, piece)
                              for piece in torch.split(x, self.NO_GRAD_CHUNK)])
        return self._forward_flat(weights, x)

    def _forward_flat(self, weights: dict[str, Tensor], x: Tensor) -> Tensor:
        x = _one_channel_conv(x, weights["conv1.weight"], self.conv1.padding)
        x = _pool(x, self.pool1) + weights["conv1.bias"][:, None, None]
        x = F.conv2d(x, weights["conv2.weight"], weights["conv2.bias"],
                     padding=self.conv2.padding)
        x = _pool(x, self.pool2)
        x = F.linear(torch.flatten(x, 1), weights["fc1.weight"], weights["fc1.bias"])
        return F.linear(x, weights["fc2.weight"], weights["fc2.bias"])


def _one_channel_conv(x: Tensor, weight: Tensor, padding: tuple[int, int]) -> Tensor:
    """``F.conv2d(x, weight, padding=padding)`` (no bias) for one input channel, stride 1, as
    a matrix product; the result ``[n, c, H', W']`` is laid out channels-last."""
    (ph, pw), (c, _, kh, kw) = padding, weight.shape
    if ph or pw:
        x = F.pad(x, (pw, pw, ph, ph))
    n, _, height, width = x.shape
    out_h, out_w = height - kh + 1, width - kw + 1
    # (n, 1, H', W', kh, kw) view -> (kh·kw, n·H'·W') copy: rows of W' contiguous pixels
    patches = x.unfold(2, kh, 1).unfold(3, kw, 1).permute(4, 5, 0, 1, 2, 3)
    patches = patches.reshape(kh * kw, n * out_h * out_w)
    out = patches.t() @ weight.reshape(c, kh * kw).t()
    return out.view(n, out_h, out_w, c).permute(0, 3, 1, 2)


def _pool(x: Tensor, pool: nn.MaxPool2d) -> Tensor:
    return F.max_pool2d(x, pool.kernel_size, pool.stride, pool.padding, pool.dilation,
                        ceil_mode=pool.ceil_mode)


class PaperCNN(_TwoConvCNN):
    """The published target: 28×28 MNIST, 6,690 weights, no activations.

    Conv(1→8, 5×5) [208] → MaxPool 2 → Conv(8→12, 5×5) [2,412] → MaxPool 2 → Flatten
    → Linear(192→20) [3,860] → Linear(20→10) [210]. ``[n, 1, 28, 28]`` -> ``[n, 10]``.
    """

    N_WEIGHTS = 6_690

    def __init__(self) -> None:
        super().__init__(28, (8, 12), kernel_size=5, padding=0, hidden=20)


class HardwareCNN(_TwoConvCNN):
    """The "about 8,000 weights" network of the hardware run: :class:`PaperCNN` widened.

    Only the hidden linear layer is widened, 20 → 26 units: Conv(1→8, 5×5) [208] →
    MaxPool 2 → Conv(8→12, 5×5) [2,412] → MaxPool 2 → Linear(192→26) [5,018] →
    Linear(26→10) [270], 7,908 weights in all (the exact published architecture is
    not known). ``[n, 1, 28, 28]`` -> ``[n, 10]``.
    """

    N_WEIGHTS = 7_908

    def __init__(self) -> None:
        super().__init__(28, (8, 12), kernel_size=5, padding=0, hidden=26)


class DigitsCNN(_TwoConvCNN):
    """Small variant for scikit-learn's 8×8 digits (smoke runs): 1,198 weights.

    Conv(1→6, 3×3, pad 1) [60] → MaxPool 2 → Conv(6→8, 3×3, pad 1) [440] → MaxPool 2
    → Linear(32→16) [528] → Linear(16→10) [170]; no activations.
    ``[n, 1, 8, 8]`` -> ``[n, 10]``.
    """

    N_WEIGHTS = 1_198

    def __init__(self) -> None:
        super().__init__(8, (6, 8), kernel_size=3, padding=1, hidden=16)


def n_weights(module: nn.Module) -> int:
    """Number of scalar parameters of ``module`` (the length of its flat weight vector)."""
    return sum(p.numel() for p in module.parameters())


def load_flat_weights(module: nn.Module, flat: Tensor) -> dict[str, Tensor]:
    """Split ``flat`` ``[P]`` into ``{name: view}`` with the shapes of ``named_parameters()``.

    The pieces are views of ``flat`` (no copy), so autograd flows back into it.

    Raises:
        ValueError: ``flat`` is not one-dimensional of length ``n_weights(module)``.
    """
    named = list(module.named_parameters())
    sizes = [p.numel() for _, p in named]
    if flat.ndim != 1 or flat.numel() != sum(sizes):
        raise ValueError(f"flat has shape {tuple(flat.shape)}, expected [{sum(sizes)}]")
    pieces = torch.split(flat, sizes)
    return {name: piece.view(p.shape) for (name, p), piece in zip(named, pieces, strict=True)}


def functional_forward(module: nn.Module, flat: Tensor, x: Tensor) -> Tensor:
    """Run ``module`` on ``x`` with its parameters taken from ``flat``, differentiably.

    Uses ``torch.func.functional_call``; ``module``'s own parameters are not used or
    changed. ``flat`` and ``x`` must share a dtype (no silent casts).

    Args:
        module: the target network (its buffers, if any, are used as they are).
        flat: ``[P]`` weights in ``named_parameters()`` order.
        x: the module's input, e.g. ``[n, 1, 28, 28]`` for :class:`PaperCNN`.

    Returns:
        The module's output, e.g. ``[n, 10]`` logits, differentiable w.r.t. ``flat``.
    """
    if flat.dtype != x.dtype:
        raise TypeError(f"flat is {flat.dtype} but x is {x.dtype}; cast one of them")
    return functional_call(module, load_flat_weights(module, flat), (x,))


def fast_functional_forward(module: nn.Module, flat: Tensor, x: Tensor) -> Tensor:
    """:func:`functional_forward`, through ``module.forward_flat`` where the network has one
    (:class:`PaperCNN`, :class:`HardwareCNN`, :class:`DigitsCNN`): the same function and
    gradients to rounding, several times cheaper per training step on a CPU. Other modules
    go through :func:`functional_forward`."""
    forward_flat = getattr(module, "forward_flat", None)
    if forward_flat is None:
        return functional_forward(module, flat, x)
    if flat.dtype != x.dtype:
        raise TypeError(f"flat is {flat.dtype} but x is {x.dtype}; cast one of them")
    return forward_flat(load_flat_weights(module, flat), x)


def to_state_dict(module: nn.Module, flat: Tensor) -> dict[str, Tensor]:
    """A detached state dict with ``module``'s parameters replaced by ``flat``'s pieces.

    A freshly constructed module of the same class loads it with ``load_state_dict``
    (buffers, if any, are copied from ``module``).
    """
    weights = load_flat_weights(module, flat.detach())
    return {name: weights.get(name, value).detach().clone()
            for name, value in module.state_dict().items()}


@overload
def accuracy(logits: Tensor, labels: Tensor, /) -> float: ...
@overload
def accuracy(model: Callable[[Tensor], Tensor], inputs: Tensor, labels: Tensor, /, *,
             batch_size: int = 1024) -> float: ...


def accuracy(model_or_logits, *data: Tensor, batch_size: int = 1024) -> float:
    """Fraction of rows whose arg-max equals the label.

    ``accuracy(logits [n, C], labels [n])``, or ``accuracy(model, inputs, labels)`` which
    evaluates ``model`` (a module or any callable, e.g. ``lambda x:
    functional_forward(net, flat, x)``) under ``torch.no_grad`` in batches of
    ``batch_size``; the module's train/eval mode is left as it is.
    """
    if isinstance(model_or_logits, Tensor):
        if len(data) != 1:
            raise TypeError("accuracy(logits, labels) takes exactly one labels tensor")
        logits, (labels,) = model_or_logits, data
    else:
        if len(data) != 2:
            raise TypeError("accuracy(model, inputs, labels) needs inputs and labels")
        inputs, labels = data
        with torch.no_grad():
            logits = torch.cat([model_or_logits(inputs[i:i + batch_size])
                                for i in range(0, len(inputs), batch_size)])
    if logits.ndim != 2 or logits.shape[0] != labels.shape[0]:
        raise ValueError(f"logits {tuple(logits.shape)} do not match labels "
                         f"{tuple(labels.shape)}")
    return (logits.argmax(dim=1) == labels).float().mean().item()
