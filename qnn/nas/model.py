"""Torch networks decoded from an :class:`Architecture`."""

from __future__ import annotations

from torch import Tensor, nn

from .space import Architecture

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid}


class Block(nn.Module):
    """``activation(norm(layer(x)))``, plus ``x`` when ``residual`` (shapes must agree)."""

    def __init__(self, layer: nn.Module, norm: nn.Module | None, activation: str,
                 residual: bool) -> None:
        super().__init__()
        self.layer, self.norm = layer, norm if norm is not None else nn.Identity()
        self.activation, self.residual = ACTIVATIONS[activation](), residual

    def forward(self, x: Tensor) -> Tensor:
        out = self.activation(self.norm(self.layer(x)))
        return x + out if self.residual else out


def build_model(arch: Architecture, image_shape: tuple[int, int, int], n_classes: int
                ) -> nn.Sequential:
    """The network of ``arch`` for ``(channels, height, width)`` images and ``n_classes``.

    Raises:
        ValueError: the pool would shrink an image side below 1 pixel.
    """
    in_channels, height, width = image_shape
    layers: list[nn.Module] = []
    for i in range(arch.conv_layers):
        conv = nn.Conv2d(in_channels, arch.channels, arch.kernel_size,
                         padding=arch.kernel_size // 2)
        norm = nn.BatchNorm2d(arch.channels) if arch.norm else None
        layers.append(Block(conv, norm, arch.activation, arch.skip and i > 0))
        in_channels = arch.channels
    if arch.pool:
        if min(height, width) < 2:
            raise ValueError(f"Architecture.pool=True needs images of at least 2x2, got "
                             f"{height}x{width}")
        layers.append(nn.MaxPool2d(2))
        height, width = height // 2, width // 2
    layers.append(nn.Flatten())
    features = in_channels * height * width
    for i in range(arch.dense_layers):
        norm = nn.BatchNorm1d(arch.width) if arch.norm else None
        layers.append(Block(nn.Linear(features, arch.width), norm, arch.activation,
                            arch.skip and i > 0))
        features = arch.width
    layers.append(nn.Linear(features, n_classes))
    return nn.Sequential(*layers)
