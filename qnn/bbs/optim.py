"""Plain-numpy SGD and Adam steps whose state is a dict of arrays (so it checkpoints exactly)."""

from __future__ import annotations

import numpy as np

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def initial_moments(kind: str, size: int) -> dict[str, np.ndarray]:
    """Optimiser state for ``size`` parameters: ``{}`` for SGD, zero ``m`` and ``v`` for Adam."""
    if kind == "sgd":
        return {}
    if kind == "adam":
        return {"m": np.zeros(size), "v": np.zeros(size)}
    raise ValueError(f"optimizer={kind!r}; choose from ['sgd', 'adam']")


def descend(kind: str, params: np.ndarray, grad: np.ndarray, lr: float,
            moments: dict[str, np.ndarray], t: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One minimisation step; returns new ``(params, moments)`` and leaves the inputs alone.

    Args:
        kind: ``"sgd"`` (``θ − lr·g``) or ``"adam"`` (Kingma & Ba, bias-corrected).
        params, grad: ``(k,)`` float64.
        t: 1-based step number (Adam's bias correction).
    """
    if kind == "sgd":
        return params - lr * grad, {}
    b1, b2 = ADAM_BETAS
    m = b1 * moments["m"] + (1 - b1) * grad
    v = b2 * moments["v"] + (1 - b2) * grad**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return params - lr * m_hat / (np.sqrt(v_hat) + ADAM_EPS), {"m": m, "v": v}
