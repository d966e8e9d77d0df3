"""Parametrisations of the trainable bit-flip probabilities, and their entropy."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from .config import FLIP_PARAMS


def flip_probabilities(params: Tensor, kind: str) -> Tensor:
    """Flip probabilities ``p`` of shape ``(n,)`` from the ``(n,)`` trainable parameters.

    Args:
        params: ``(n,)`` angles ``α`` (``kind="angle"``), logits ``z`` (``kind="logit"``)
            or the probabilities themselves (``kind="probability"``).
        kind: ``"angle"``: ``p = (1 − cos α) / 2`` (ORCA's keep-probability
            ``(1 + cos α) / 2``); ``"logit"``: ``p = sigmoid(z)``; ``"probability"``: ``p``
            itself, kept in ``[0, 1]`` by :func:`project_flip_params` after every step.
    """
    if kind == "angle":
        return (1 - torch.cos(params)) / 2
    if kind == "logit":
        return torch.sigmoid(params)
    if kind == "probability":
        return params
    raise ValueError(f"flip_param={kind!r}; choose from {list(FLIP_PARAMS)}")


def project_flip_params(params: np.ndarray, kind: str) -> np.ndarray:
    """Parameters after a step: probabilities clipped to ``[0, 1]`` (the paper's projected SGD
    on ``p``); angles and logits are unconstrained and returned as they are."""
    return np.clip(params, 0.0, 1.0) if kind == "probability" else params


def initial_flip_params(n_bits: int, kind: str, init_flip: float) -> np.ndarray:
    """``(n_bits,)`` float64 parameters whose flip probability is ``init_flip`` for every bit."""
    if kind == "angle":
        value = math.acos(1 - 2 * init_flip)
    elif kind == "logit":
        value = math.log(init_flip / (1 - init_flip))
    elif kind == "probability":
        value = init_flip
    else:
        raise ValueError(f"flip_param={kind!r}; choose from {list(FLIP_PARAMS)}")
    return np.full(n_bits, value, dtype=np.float64)


def mean_binary_entropy(probs: Tensor) -> Tensor:
    """Mean over bits of the binary entropy ``H₂(p)`` in bits: a scalar in ``[0, 1]``.

    Its slope ``log((1 − p) / p)`` is infinite at ``p ∈ {0, 1}``; ``p`` is held 1e-12 inside
    ``(0, 1)`` here (only in this regulariser) so a flip that has converged stays finite.
    """
    probs = probs.clamp(1e-12, 1 - 1e-12)
    nats = torch.special.entr(probs) + torch.special.entr(1 - probs)
    return nats.mean() / math.log(2)
