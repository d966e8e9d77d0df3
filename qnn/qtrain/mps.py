"""Matrix-product-state (tensor-train) mapping model: per-weight features -> one weight value.

The mapping model of the tensor-network Quantum-Train (arXiv 2409.06992) and the distributed
photonic QNN (arXiv 2505.08474): for each target weight, its index bits (±1) and its scaled
probability go through an MPS with a single output, and the outputs are centred.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def embed(x: Tensor) -> Tensor:
    """Local feature map ``φ(x) = [1, x]``: ``(*shape)`` -> ``(*shape, 2)``.

    With ``[1, x]`` the MPS is a multilinear polynomial ``sum_S c_S prod_{i in S} x_i`` whose
    coefficients ``c_S`` form a tensor train; on ±1 bits that is the Walsh–Fourier expansion,
    so any function of the index bits is reachable with a large enough bond dimension. It
    spans the same space as TorchMPS's default ``[x, 1 - x]`` (an invertible 2×2 map that the
    cores absorb), so the model class equals the published one. The constant channel also
    carries the identity of the near-identity initialisation.
    """
    return torch.stack([torch.ones_like(x), x], dim=-1)


def bond_dimensions(n_inputs: int, bond_dim: int) -> list[int]:
    """``[1, χ, ..., χ, 1]``: the ``n_inputs + 1`` bond sizes of an open-boundary MPS."""
    for name, value in (("n_inputs", n_inputs), ("bond_dim", bond_dim)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")
    return [1] + [bond_dim] * (n_inputs - 1) + [1]


class MPSMapping(nn.Module):
    """Open-boundary MPS with one scalar output: ``(*batch, n_inputs)`` -> ``(*batch,)``.

    ``f(x) = A_1[φ(x_1)] A_2[φ(x_2)] ... A_n[φ(x_n)]`` where core ``A_i`` has shape
    ``(χ_{i-1}, 2, χ_i)`` with bonds ``[1, χ, ..., χ, 1]`` and ``φ(x) = [1, x]``
    (:func:`embed`). With one output the output leg has dimension 1, so the last core carries
    it and every core is an ordinary input core. Contracted left to right with ``einsum``,
    batched over all weights at once: ``O(W · n · χ²)`` time, ``O(W · χ)`` extra memory.

    Parameters: ``2χ² (n - 2) + 4χ`` for ``n >= 2`` (:meth:`n_parameters`); 2,440 for
    ``n = 14, χ = 10``. The published count 31χ² (3,100) is that of TorchMPS's
    ``MPS(input_dim=14, output_dim=1, bond_dim=χ)`` with its defaults: 14 full ``χ×χ×2`` cores
    (28χ²) between FIXED boundary vectors ``e_0``, one trainable ``χ×χ`` bias matrix per
    input region on either side of the output site (2χ²), and a ``1×χ×χ`` output site (χ²).
    Both layouts define the same function class; the extra ``7χ² - 4χ`` are redundant:
    the fixed ``e_0`` boundaries read only one row (column) of the end cores (``4χ² - 4χ``
    unused entries), a region's bias is a constant added to every site's matrix and is
    absorbed by the cores because ``[x, 1 - x]`` contains the constant (2χ²), and the output
    matrix can be multiplied into a neighbouring core (χ²). Counts at equal χ therefore
    differ while the models agree; gauge freedom makes even 2χ²(n - 2) + 4χ an overcount
    of the independent directions.

    Initialisation: near identity, as TorchMPS, but with a noise level that keeps the output
    O(1) at any length. ``A_i[:, 0, :] = I + E``, ``A_i[:, 1, :] = E'`` (the boundary cores
    use the first row/column of ``I``), with ``E, E'`` i.i.d. ``N(0, s²)``,
    ``s = init_std / sqrt(χ · n)``. Then, for fixed inputs, ``E[f] = 1`` and
    ``Var f <= (σ² m / χ) · exp(σ² m)`` with ``σ = init_std``, ``m = mean_i(1 + x_i²)``,
    whatever the length ``n`` (each core adds ``t_i = s²(1 + x_i²)`` times the squared norm
    of the partial contraction, which grows at most by ``prod_i (1 + χ t_i) <= exp(σ² m)``).
    (TorchMPS uses noise 1e-9, so its initial weights are all ~0 after centring.)

    Args:
        n_inputs: number of input features per weight (index bits + 1 scaled probability).
        bond_dim: χ, the bond dimension.
        init_std: σ of the initial noise (see above). The default 0.1 gives centred
            weights of spread ``≈ 0.1 · sqrt(m / χ)``, the scale of standard layer
            initialisations; σ = 0.5 made the first loss of a small activation-free CNN
            2–3× ln 10.
        dtype: ``torch.float64`` (default) or ``torch.float32``; the noise is always drawn
            in float64, so both precisions start from the same values.
        generator: torch generator for the initial noise (reproducible initialisation).
    """

    def __init__(
        self,
        n_inputs: int,
        bond_dim: int,
        *,
        init_std: float = 0.1,
        dtype: torch.dtype = torch.float64,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        dims = bond_dimensions(n_inputs, bond_dim)
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype={dtype}; choose torch.float32 or torch.float64")
        if not (math.isfinite(init_std) and init_std >= 0):
            raise ValueError(f"init_std={init_std} must be finite and >= 0")
        self.n_inputs, self.bond_dim = n_inputs, bond_dim
        std = init_std / math.sqrt(bond_dim * n_inputs)
        self.cores = nn.ParameterList(
            nn.Parameter(_near_identity(left, right, std, generator).to(dtype))
            for left, right in zip(dims[:-1], dims[1:], strict=True)
        )

    @staticmethod
    def n_parameters(n_inputs: int, bond_dim: int) -> int:
        """``sum_i 2 χ_{i-1} χ_i`` = ``2χ²(n - 2) + 4χ`` for ``n >= 2`` (2 for ``n = 1``)."""
        dims = bond_dimensions(n_inputs, bond_dim)
        return sum(2 * left * right for left, right in zip(dims[:-1], dims[1:], strict=True))

    def forward(self, features: Tensor) -> Tensor:
        """``(*batch, n_inputs)`` features -> ``(*batch,)`` outputs, in the cores' dtype."""
        if features.shape[-1] != self.n_inputs:
            raise ValueError(
                f"features have {features.shape[-1]} inputs in the last dimension,"
                f" expected n_inputs={self.n_inputs}"
            )
        phi = embed(features.to(self.cores[0].dtype))
        state = phi.new_ones(*phi.shape[:-2], 1)
        for i, core in enumerate(self.cores):
            state = torch.einsum("...l,ldr,...d->...r", state, core, phi[..., i, :])
        return state[..., 0]

    def forward_indexed(self, values: Tensor) -> Tensor:
        """Outputs for ``[bits of j, values[..., j]]``, ``j = 0..W-1``: ``(*batch, W)`` -> same.

        Equal to ``forward(weight_features(values))`` (bits of ``j`` as ±1, most significant
        first, then the value; :func:`qnn.qtrain.mapping.weight_features`), but the index
        bits are shared: weights whose indices agree on their first ``k`` bits share the
        contraction of the first ``k`` cores, so the left environments are built as a binary
        tree (``~2^(n_bits+1) χ²`` operations instead of ``W · n_bits · 2χ²``, and computed
        once for every batch of values). Needs ``n_inputs = n_bits + 1`` with
        ``n_bits = ceil(log2 W)``.
        """
        n_weights = values.shape[-1]
        n_bits = max(n_weights - 1, 0).bit_length()
        if n_bits + 1 != self.n_inputs:
            raise ValueError(f"{n_weights} values need {n_bits} index bits + 1 value = "
                             f"{n_bits + 1} inputs; this MPS has n_inputs={self.n_inputs}")
        left = self._index_environments(n_bits, n_weights)  # (W, χ)
        last = self.cores[-1][..., 0]  # (χ, 2): the output bond has dimension 1
        values = values.to(last.dtype)
        return left @ last[:, 0] + values * (left @ last[:, 1])

    def _index_environments(self, n_bits: int, n_rows: int) -> Tensor:
        """``(n_rows, χ)``: the first ``n_bits`` cores contracted with the bits of 0..n_rows-1.

        Level ``i`` holds one row per distinct ``i``-bit prefix in index order (row ``2r + b``
        extends prefix ``r`` by bit ``b``), keeping only the prefixes that ``n_rows`` uses.
        """
        state = self.cores[0].new_ones(1, 1)
        for i in range(n_bits):
            core = self.cores[i]
            minus, plus = core[:, 0, :] - core[:, 1, :], core[:, 0, :] + core[:, 1, :]
            state = torch.stack([state @ minus, state @ plus], dim=1).flatten(0, 1)
            state = state[: -(-n_rows // 2 ** (n_bits - i - 1))]
        return state

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, bond_dim={self.bond_dim}"


def _near_identity(left: int, right: int, std: float, generator: torch.Generator | None) -> Tensor:
    """A ``(left, 2, right)`` float64 core: identity on the constant channel plus noise."""
    core = torch.randn(left, 2, right, generator=generator, dtype=torch.float64) * std
    core[:, 0, :] += torch.eye(left, right, dtype=torch.float64)
    return core


def generated_weights(mps: MPSMapping, features: Tensor) -> Tensor:
    """Weights from the mapping: ``mps(features)`` centred over the last (weight) dimension.

    ``(*batch, W, n_inputs)`` -> ``(*batch, W)``; the mean over the ``W`` weights is
    subtracted, as in the published code. (:meth:`MPSMapping.forward_indexed` then
    :func:`centred` is the same for index-bit features, faster.)
    """
    return centred(mps(features))


def centred(outputs: Tensor) -> Tensor:
    """``outputs`` minus their mean over the last (weight) dimension."""
    return outputs - outputs.mean(dim=-1, keepdim=True)
