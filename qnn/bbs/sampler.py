"""The BBS's trainable proposal distribution: tiled TBI click samples XOR trainable flips."""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from ..photonics.backends.base import Backend
from ..photonics.circuit import TBICircuit, n_beam_splitters
from ..photonics.histogram import Histogram
from .config import BBSConfig
from .estimators import (
    directional_angle_sets,
    random_clicks,
    shifted_angle_sets,
    shuffled_samples,
    tile_candidates,
)
from .flips import initial_flip_params, project_flip_params
from .optim import descend, initial_moments
from .state import HISTORY_KEYS, BBSState


class ClickSampler:
    """Proposals ``x = y XOR b`` over ``n_bits``: ``y`` tiled threshold clicks of a TBI,
    ``b`` independent flips with trainable probabilities; and the update of both.

    The circuit has ``m = min(n_bits, config.max_modes)`` modes, input ``1, 0, 1, 0, …``,
    the configured loops shorter than ``m``, no phase shifters, and threshold detection; a
    candidate ``y`` is ``ceil(n_bits/m)`` independent samples concatenated and cut to
    ``n_bits``. What the proposals are scored by, and how the gradients are estimated, is the
    caller's: :class:`BBSSolver` (a QUBO, closed form in the flips) and
    :class:`BlackBoxSolver` (any batched cost) share this sampler.

    Args:
        n_bits: length of a proposal.
        backend: any :class:`Backend` (or ``QPUPool``).
        config: hyper-parameters (``loop_lengths``, ``max_modes``, ``shots``, ``shift``,
            ``sampler``, ``freeze_angles``, optimiser and flip fields are used here).
    """

    def __init__(self, n_bits: int, backend: Backend, config: BBSConfig) -> None:
        self.n_bits, self.backend, self.config = n_bits, backend, config
        self.n_modes = m = min(n_bits, config.max_modes)
        self.n_tiles = math.ceil(n_bits / m)
        self.loop_lengths = tuple(length for length in config.loop_lengths if length < m)
        if not self.loop_lengths:
            raise ValueError(
                f"BBSConfig.loop_lengths={config.loop_lengths} has no loop shorter than the"
                f" {m} modes of this {n_bits}-bit problem"
            )
        self.input_state = tuple((i + 1) % 2 for i in range(m))
        self.n_bs = n_beam_splitters(m, self.loop_lengths)

    def circuit(self, bs_angles: np.ndarray | torch.Tensor) -> TBICircuit:
        """The sampler's TBI with ``(*batch, n_bs)`` beam-splitter angles."""
        return TBICircuit(self.input_state, self.loop_lengths, torch.as_tensor(bs_angles))

    def init_state(self, rng: np.random.Generator) -> BBSState:
        """Angles uniform on ``[0, 2π)`` and flips at ``init_flip``, drawn from ``rng``.

        The run continues on a child generator spawned from ``rng``, whose state the
        returned :class:`BBSState` carries.
        """
        cfg = self.config
        angles = rng.uniform(0.0, 2 * np.pi, self.n_bs)
        child = rng.spawn(1)[0]
        return BBSState(
            step=0,
            bs_angles=angles,
            flip_params=initial_flip_params(self.n_bits, cfg.flip_param, cfg.init_flip),
            moments={"angles": initial_moments(cfg.optimizer, self.n_bs),
                     "flips": initial_moments(cfg.optimizer, self.n_bits)},
            best_bits=None,
            best_cost=math.inf,
            rng_state=copy.deepcopy(child.bit_generator.state),
        )

    def check_state(self, state: BBSState) -> None:
        for name, size in (("bs_angles", self.n_bs), ("flip_params", self.n_bits)):
            shape = np.shape(getattr(state, name))
            if shape != (size,):
                raise ValueError(f"BBSState.{name} has shape {shape}, this solver needs ({size},)")

    def sample(self, bs_angles: np.ndarray, rng: np.random.Generator,
               directions: np.ndarray | None = None) -> tuple[list[str], list[Histogram]]:
        """Labels and threshold histograms (``shots · n_tiles`` shots) of the unshifted set and,
        unless angles are frozen, every shifted set (``± Δ`` along each beam splitter, or
        along each of ``directions``): one ``sample_batch`` call."""
        shift = self.config.shift
        if self.config.freeze_angles:
            sets, labels = bs_angles[None], ["unshifted"]
        elif directions is None:
            sets, labels = shifted_angle_sets(bs_angles, shift), angle_set_labels(self.n_bs)
        else:
            k = len(directions)
            sets = directional_angle_sets(bs_angles, shift, directions)
            labels = ["unshifted", *(f"plus/d{d}" for d in range(k)),
                      *(f"minus/d{d}" for d in range(k))]
        seed = int(rng.integers(2**63))
        hists = self.backend.sample_batch(self.circuit(sets), self.config.shots * self.n_tiles,
                                          seed=seed, detection="threshold")
        if len(hists) != len(labels):
            raise RuntimeError(f"backend returned {len(hists)} histograms for {len(labels)} sets")
        return labels, [h if h.detection == "threshold" else h.to_threshold() for h in hists]

    def clicks(self, labels: list[str], hists: list[Histogram], rng: np.random.Generator
               ) -> tuple[torch.Tensor, list[tuple[str, Histogram]], float]:
        """``(B, S, n)`` candidates ``y`` per set (random clicks for the ablation), the labelled
        histograms to report, and the mean click rate of the unshifted boson samples."""
        samples = [shuffled_samples(h.patterns, h.counts, rng) for h in hists]
        click_rate = float(samples[0].mean())
        records = list(zip(labels, hists, strict=True))
        if self.config.sampler == "random_clicks":
            samples = [random_clicks(s, rng) for s in samples]
            records += [(f"random_clicks/{label}", Histogram.from_samples(s, "threshold"))
                        for label, s in zip(labels, samples, strict=True)]
        clicks = np.stack([tile_candidates(s, self.n_bits) for s in samples])
        return torch.as_tensor(clicks, dtype=torch.float64), records, click_rate

    @staticmethod
    def flip(clicks: np.ndarray, probs: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray]:
        """``(..., n)`` uint8 candidates ``y XOR b`` and their fresh flips ``b ~ Bernoulli(p)``."""
        flips = (rng.random(clicks.shape) < probs).astype(np.uint8)
        return np.asarray(clicks).astype(np.uint8) ^ flips, flips

    def advance(self, state: BBSState, angle_grad: np.ndarray | None, flip_grad: np.ndarray,
                best_bits: np.ndarray | None, best_cost: float, rng: np.random.Generator,
                entries: dict) -> BBSState:
        """The next state: one optimiser step on angles (unless ``angle_grad`` is None) and
        flip parameters, the best candidate, the generator's state and the history."""
        cfg, t = self.config, state.step + 1
        angles, angle_moments = state.bs_angles.copy(), state.moments["angles"]
        if angle_grad is not None:
            angles, angle_moments = descend(cfg.optimizer, angles, angle_grad, cfg.lr_angles,
                                            angle_moments, t)
        flips, flip_moments = descend(cfg.optimizer, state.flip_params, flip_grad, cfg.lr_flips,
                                      state.moments["flips"], t)
        flips = project_flip_params(flips, cfg.flip_param)
        return BBSState(
            step=t, bs_angles=angles, flip_params=flips,
            moments={"angles": angle_moments, "flips": flip_moments},
            best_bits=best_bits, best_cost=best_cost,
            rng_state=copy.deepcopy(rng.bit_generator.state),
            history={k: [*state.history[k], entries[k]] for k in HISTORY_KEYS},
        )


def angle_set_labels(n_bs: int) -> list[str]:
    """Histogram labels in :func:`shifted_angle_sets` order."""
    return ["unshifted", *(f"plus/{j}" for j in range(n_bs)),
            *(f"minus/{j}" for j in range(n_bs))]
