"""Early against late proposals on curves whose answer is known."""

import pytest

from qnn.nas.learning import early_and_late


def test_early_and_late_are_the_first_and_last_fifths():
    curve = [0.5] * 20 + [0.6] * 60 + [0.9] * 20
    assert early_and_late(curve, budget=100) == pytest.approx((0.5, 0.9))
    assert early_and_late([0.7] * 10, budget=100) == (0.7, 0.7)  # stopped short: what it made
    with pytest.raises(ValueError, match="no proposals"):
        early_and_late([], budget=100)
