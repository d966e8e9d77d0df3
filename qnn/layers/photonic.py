"""PhotonicLayer: a TBI inside a torch network, on any photonic backend."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..photonics import Backend, ProbabilityBackend, TBICircuit, get_backend
from ..photonics.backends.base import as_device, check_shots
from ..photonics.circuit import n_beam_splitters
from ..photonics.histogram import _check_detection
from .encoding import Encoding
from .gradients import EstimatedGradient, GradientPlan, angle_orders
from .observables import (
    check_observable,
    measure,
    measure_histograms,
    observable_size,
    reference_patterns,
)

GRADIENTS = ("autograd", "multi_frequency_shift", "spsa")
# Parameter sets per simulator call in the backward pass of the estimators (memory bound).
_CHUNK = 8192


class PhotonicLayer(nn.Module):
    """A time-bin interferometer whose angles are set partly by the input, partly trained.

    ``(*batch, n_features)`` -> ``(*batch, n_outputs)``: features become beam-splitter
    angles through ``encoding`` (see :class:`Encoding`), every other angle (and the phases,
    with ``phases=True``) is a trainable parameter initialised uniformly on ``(-π, π)``,
    and the output is ``observable`` of the detection distribution:

    - ``mean_photons``: ``<n_i>`` per mode (``M`` outputs; clicks under threshold detection);
    - ``clicks``: ``P(n_i > 0)`` per mode (``M``);
    - ``correlations``: ``<n_i n_j>`` for ``i < j`` (``M(M-1)/2``);
    - ``probabilities``: the probability of each outcome of
      :func:`~qnn.layers.observables.reference_patterns` (``C(M+N-1, N)`` for PNR).

    The whole input batch is one batched circuit, so one simulator call (or one
    ``sample_batch``) per forward pass.

    Gradients (``gradient``):

    - ``autograd`` (default for exact probabilities, ``shots=None``): backpropagation through
      the exact backend's differentiable probabilities.
    - ``multi_frequency_shift`` (default when sampling): the exact multi-frequency shift rule of
      :mod:`qnn.layers.gradients`; angle ``k`` costs ``2·R_k`` evaluations with
      ``R_k = 2·min(n_k, b)`` for a beam splitter reached by ``n_k`` photons and
      ``R_k = min(n_k, b)`` for a phase, ``b = 1`` for ``mean_photons``, ``2`` for
      ``correlations`` (PNR), ``b = ∞`` otherwise; all of a backward pass is one batched
      call; see :meth:`evaluations_per_step`.
    - ``spsa``: two evaluations per row and perturbation (``spsa_samples``), step
      ``spsa_step`` radians; biased by ``O(c²)``, cheap on hardware.

    Args:
        n_modes: number of time bins ``M``.
        input_state: photons per bin; default ``1, 0, 1, 0, …``.
        loop_lengths: delay-line lengths.
        n_features: input width ``F``.
        encoding: ``"direct"``, ``"arctan"``, ``"reupload"``, a dict or an :class:`Encoding`.
        observable: one of the four above.
        backend: a backend instance or a name for :func:`~qnn.photonics.get_backend`.
        gradient: ``"autograd"``, ``"multi_frequency_shift"`` or ``"spsa"``; ``None`` picks
            as above.
        shots: samples per circuit evaluation; ``None`` uses exact probabilities.
        detection: ``"pnr"`` or ``"threshold"``.
        phases: also train a phase shifter after every beam splitter.
        seed: seeds the initial angles, the samples and the SPSA perturbations.
        device: where the parameters live (``"cpu"``, ``"cuda"``); ``None`` is the CPU.
            ``layer.to(device)`` moves them later. The ``"exact"`` backend made from its
            name simulates wherever the parameters are; a backend instance pinned to a
            device simulates there, and the outputs come back to the parameters' device.
    """

    def __init__(self, n_modes: int, input_state: Sequence[int] | None = None,
                 loop_lengths: Sequence[int] = (1,), *, n_features: int,
                 encoding: str | dict | Encoding = "direct", observable: str = "mean_photons",
                 backend: str | Backend = "exact", gradient: str | None = None,
                 shots: int | None = None, detection: str = "pnr", phases: bool = False,
                 spsa_step: float = 0.1, spsa_samples: int = 1, seed: int = 0,
                 device: str | torch.device | None = None) -> None:
        super().__init__()
        if input_state is None:
            input_state = [(i + 1) % 2 for i in range(n_modes)]
        if len(input_state) != n_modes:
            raise ValueError(f"input_state has {len(input_state)} bins but n_modes={n_modes}")
        template = TBICircuit(input_state, loop_lengths, np.zeros(
            n_beam_splitters(n_modes, loop_lengths)))  # validates the interferometer
        self.input_state, self.loop_lengths = template.input_state, template.loop_lengths
        self.n_modes, self.n_photons, n_bs = n_modes, template.n_photons, template.n_beam_splitters
        self.encoding = Encoding.parse(encoding)
        self.observable = check_observable(observable)
        self.detection = _check_detection(detection)
        self.backend = get_backend(backend) if isinstance(backend, str) else backend
        self.shots = None if shots is None else check_shots(shots)
        self.gradient = self._check_gradient(gradient)
        if not 0 < spsa_step < np.pi or spsa_samples < 1:
            raise ValueError(f"spsa_step={spsa_step} must be in (0, π) and spsa_samples="
                             f"{spsa_samples} at least 1")
        self.spsa_step, self.spsa_samples = float(spsa_step), int(spsa_samples)
        self.n_features = int(n_features)
        positions = self.encoding.positions(n_modes, self.loop_lengths, self.n_features)
        self.register_buffer("positions", positions, persistent=False)
        self._reference = (reference_patterns(n_modes, self.n_photons, detection)
                           if observable == "probabilities" else None)
        self.n_outputs = observable_size(observable, n_modes, self.n_photons, detection)
        self._init_parameters(n_bs, positions, phases, seed)
        self._rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
        # <n_i> and <n_i n_j> are 1- and 2-body moments under PNR detection (low degree).
        body = {"mean_photons": 1, "correlations": 2}.get(observable) if detection == "pnr" \
            else None
        self._bs_orders, ps_orders = angle_orders(self.input_state, self.loop_lengths, body)
        self._ps_orders = ps_orders if phases else None
        self.evaluations = 0  # circuit evaluations (parameter sets) so far, forward + backward
        if device is not None:
            self.to(as_device(device))

    def _check_gradient(self, gradient: str | None) -> str:
        exact = isinstance(self.backend, ProbabilityBackend)
        if gradient is None:
            gradient = "autograd" if self.shots is None and exact else "multi_frequency_shift"
        if gradient not in GRADIENTS:
            raise ValueError(f"gradient={gradient!r}; choose from {list(GRADIENTS)}")
        if self.shots is None and not exact:
            raise ValueError(f"shots=None needs exact probabilities, which backend "
                             f"{self.backend.name!r} does not give; set shots")
        if gradient == "autograd" and (self.shots is not None or not exact):
            raise ValueError(f"gradient='autograd' needs exact probabilities (shots=None on a "
                             f"probability backend), got shots={self.shots}, backend "
                             f"{self.backend.name!r}; use 'multi_frequency_shift' or 'spsa'")
        return gradient

    def _init_parameters(self, n_bs: int, positions: Tensor, phases: bool, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        encoded = torch.zeros(n_bs, dtype=torch.bool)
        if not self.encoding.trains_encoded_angles:
            encoded[positions.flatten()] = True
        free = torch.nonzero(~encoded).flatten()
        # The trainable angles first, then the encoded ones; `order` puts each in its place.
        order = torch.argsort(torch.cat([free, torch.nonzero(encoded).flatten()]))
        self.register_buffer("order", order, persistent=False)
        uniform = (torch.rand(n_bs, generator=generator, dtype=torch.float64) * 2 - 1) * np.pi
        self.bs_angles = nn.Parameter(uniform[: len(free)].clone())
        self.ps_angles = None
        if phases:
            ps = (torch.rand(n_bs, generator=generator, dtype=torch.float64) * 2 - 1) * np.pi
            self.ps_angles = nn.Parameter(ps)
        self.upload_weights = None
        if self.encoding.trains_encoded_angles:
            self.upload_weights = nn.Parameter(torch.full(
                tuple(positions.shape), float(self.encoding.scale), dtype=torch.float64))

    def extra_repr(self) -> str:
        return (f"input_state={self.input_state}, loop_lengths={self.loop_lengths}, "
                f"n_features={self.n_features}, encoding={self.encoding.kind!r}, "
                f"observable={self.observable!r}, n_outputs={self.n_outputs}, "
                f"backend={self.backend.name!r}, gradient={self.gradient!r}, shots={self.shots}")

    # ------------------------------------------------------------------ angles
    def angles(self, x: Tensor) -> Tensor:
        """``(B, F)`` features -> ``(B, n_bs)`` beam-splitter angles (differentiable)."""
        encoded = self.encoding.encode(x, self.upload_weights)
        batch = x.shape[0]
        if self.encoding.trains_encoded_angles:
            offsets = x.new_zeros(batch, len(self.order)).index_add(
                1, self.positions.flatten(), encoded)
            return self.bs_angles.unsqueeze(0) + offsets
        free = self.bs_angles.unsqueeze(0).expand(batch, -1)
        return torch.cat([free, encoded], dim=1)[:, self.order]

    def circuit(self, bs: Tensor, ps: Tensor | None = None) -> TBICircuit:
        """The layer's TBI with a batch of angle sets."""
        return TBICircuit(self.input_state, self.loop_lengths, bs, ps)

    # ------------------------------------------------------------------ forward
    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1:] != (self.n_features,):
            raise ValueError(f"input has shape {tuple(x.shape)}, expected (..., n_features="
                             f"{self.n_features})")
        lead = x.shape[:-1]
        flat = x.reshape(-1, self.n_features).to(torch.float64)
        bs = self.angles(flat)
        ps = None if self.ps_angles is None else self.ps_angles.unsqueeze(0).expand_as(bs)
        if self.gradient == "autograd":
            out = self._exact(bs, ps)
        else:
            out = EstimatedGradient.apply(bs, ps, self._evaluate, self._plan(flat))
        dtype = x.dtype if x.is_floating_point() else torch.float64
        return out.to(dtype).reshape(*lead, self.n_outputs)

    def _plan(self, x: Tensor) -> GradientPlan:
        """Which columns need gradients: the trainable ones if they require grad, the
        encoded ones if the features (or upload weights) do."""
        needs_x = x.requires_grad or self.encoding.trains_encoded_angles
        encoded = np.zeros(len(self.order), dtype=bool)
        encoded[self.positions.flatten().cpu().numpy()] = True
        trained = self.bs_angles.requires_grad
        if self.encoding.trains_encoded_angles:
            bs_needed = np.full(len(self.order), trained or needs_x)
        else:
            bs_needed = np.where(encoded, x.requires_grad, trained)
        ps_needed = None
        if self.ps_angles is not None:
            ps_needed = np.full(len(self.order), self.ps_angles.requires_grad)
        return GradientPlan(self.gradient, self._bs_orders, self._ps_orders, bs_needed,
                            ps_needed, self.spsa_step, self.spsa_samples, self._rng)

    def evaluations_per_step(self, batch: int) -> int:
        """Circuit evaluations (each ``shots`` shots) of one forward + backward pass over
        ``batch`` rows when every angle needs a gradient: ``batch · (1 + Σ_k 2R_k)`` for the
        shift rule, ``batch · (1 + 2 · spsa_samples)`` for SPSA, ``batch`` for autograd."""
        if self.gradient == "autograd":
            return batch
        n = len(self.order)
        plan = GradientPlan(self.gradient, self._bs_orders, self._ps_orders,
                            np.ones(n, bool), None if self._ps_orders is None else
                            np.ones(n, bool), self.spsa_step, self.spsa_samples)
        return batch * (1 + plan.evaluations_per_row())

    def _exact(self, bs: Tensor, ps: Tensor | None) -> Tensor:
        self.evaluations += bs.shape[0]
        patterns, probs = self.backend.probabilities(self.circuit(bs, ps), self.detection)
        out = measure(self.observable, probs.reshape(bs.shape[0], -1),
                      patterns.cpu().numpy(), self._reference)
        return out.to(bs.device)  # from a backend pinned to another device

    def _evaluate(self, bs: Tensor, ps: Tensor | None) -> Tensor:
        """Observable for a batch of angle sets, exact or from ``shots`` samples, no grad."""
        outs = []
        with torch.no_grad():
            for start in range(0, bs.shape[0], _CHUNK):
                part_bs = bs[start : start + _CHUNK]
                part_ps = None if ps is None else ps[start : start + _CHUNK]
                if self.shots is None:
                    outs.append(self._exact(part_bs, part_ps))
                    continue
                self.evaluations += part_bs.shape[0]
                hists = self.backend.sample_batch(self.circuit(part_bs, part_ps), self.shots,
                                                  seed=self._rng, detection=self.detection)
                outs.append(measure_histograms(self.observable, hists, self._reference)
                            .to(bs.device))
        return torch.cat(outs)

    @property
    def n_trainable(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
