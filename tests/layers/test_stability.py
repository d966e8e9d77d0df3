"""The training-stability measures on curves whose answer is known."""

import math

import pytest

from qnn.layers.stability import jitter, roughness


def test_jitter_is_the_mean_step_over_the_second_half():
    curve = [0.0, 5.0, 0.0, 5.0, 0.90, 0.92, 0.90, 0.92]  # the first half's swings are ignored
    assert jitter(curve) == pytest.approx(0.02)
    assert jitter([0.7] * 6) == 0.0


def test_roughness_is_zero_for_any_steady_decay_and_2_log_r_for_an_alternating_loss():
    assert roughness([2.0 * 0.9**t for t in range(20)]) == pytest.approx(0.0, abs=1e-12)
    assert roughness([5.0 * 0.5**t for t in range(20)]) == pytest.approx(0.0, abs=1e-12)
    alternating = [1.0 if t % 2 else 2.0 for t in range(10)]  # ratio 2 up and down
    assert roughness(alternating) == pytest.approx(2 * math.log(2))
