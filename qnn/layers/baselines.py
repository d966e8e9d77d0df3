"""Classical stand-ins for a photonic layer with the same widths and trainable-parameter count."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MatchedLinear(nn.Module):
    """``tanh(W x + b)`` of the photonic layer's widths ``F -> K`` with exactly ``n_trainable``
    trainable entries of ``(W, b)``; the others stay at their random initial values.

    The swap keeps the network's shape and its trainable-parameter count, so a hybrid
    model and its classical twin differ only in what the middle layer computes.

    Args:
        n_trainable: trainable entries, ``1 .. F·K + K``; chosen at random (``seed``).
    """

    def __init__(self, in_features: int, out_features: int, n_trainable: int, *,
                 seed: int = 0) -> None:
        super().__init__()
        size = out_features * (in_features + 1)
        if not 1 <= n_trainable <= size:
            raise ValueError(f"n_trainable={n_trainable} is outside [1, {size}] for a "
                             f"{in_features} -> {out_features} linear layer")
        generator = torch.Generator().manual_seed(seed)
        bound = in_features ** -0.5  # nn.Linear's default initial range
        init = (torch.rand(size, generator=generator) * 2 - 1) * bound
        chosen = torch.randperm(size, generator=generator)[:n_trainable].sort().values
        self.in_features, self.out_features = in_features, out_features
        self.register_buffer("frozen", init)
        self.register_buffer("chosen", chosen)
        self.values = nn.Parameter(init[chosen].clone())

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"n_trainable={self.values.numel()}")

    def forward(self, x: Tensor) -> Tensor:
        flat = self.frozen.index_put((self.chosen,), self.values)
        weight = flat[: -self.out_features].reshape(self.out_features, self.in_features)
        return torch.tanh(x @ weight.to(x.dtype).T + flat[-self.out_features :].to(x.dtype))
