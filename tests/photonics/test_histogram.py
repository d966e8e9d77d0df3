"""Histogram: canonical form, dict round trip, marginals."""

import collections

import numpy as np
import pytest

from qnn.photonics import Histogram


def test_samples_tally_into_sorted_unique_patterns():
    samples = np.array([[1, 0, 1], [0, 2, 0], [1, 0, 1], [0, 0, 2]])
    hist = Histogram.from_samples(samples)
    assert hist.to_dict() == {(0, 0, 2): 1, (0, 2, 0): 1, (1, 0, 1): 2}
    assert hist.shots == 4 and hist.count((1, 0, 1)) == 2 and hist.count((2, 0, 0)) == 0
    assert hist == Histogram.from_samples(samples[::-1])


def test_dict_round_trip_and_empty():
    hist = Histogram.from_dict({(0, 1): 3, (1, 0): 5})
    assert Histogram.from_dict(hist.to_dict()) == hist
    with pytest.raises(ValueError, match="n_modes=5"):
        Histogram.from_dict({(0, 1): 3}, n_modes=5)
    empty = Histogram.from_dict({}, n_modes=4)
    assert empty.shots == 0 and empty.n_modes == 4


def test_marginals():
    hist = Histogram.from_dict({(2, 0, 0): 1, (1, 1, 0): 3})
    np.testing.assert_allclose(hist.mean_photon_number(), [1.25, 0.75, 0.0])
    np.testing.assert_allclose(hist.click_probabilities(), [1.0, 0.75, 0.0])
    assert hist.to_threshold().to_dict() == {(1, 0, 0): 1, (1, 1, 0): 3}


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.zeros((2, 2)), np.ones(3)), "counts has shape"),
        ((np.zeros((2, 2)), -np.ones(2)), "non-negative"),
        ((np.full((1, 2), 2), np.ones(1), "threshold"), "0/1 clicks"),
        ((np.zeros((1, 2)), np.ones(1), "photon"), "detection='photon'"),
        ((np.array([[0.5, 1.0]]), np.ones(1)), "patterns must hold integers"),
        ((np.zeros((1, 2), int), np.array([2.9])), "counts must hold integers"),
        ((np.zeros((1, 2), int), np.array([2**63 + 5], dtype=np.uint64)), "beyond the int64 range"),
        ((np.zeros((3, 0), int), np.ones(3, int)), "M >= 1"),
    ],
)
def test_bad_histograms_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        Histogram(*args)



@pytest.mark.parametrize("n_modes", [1, 5, 30])
def test_tallies_agree_with_counting_each_sample(n_modes):
    rng = np.random.default_rng(n_modes)
    samples = rng.integers(0, 3, size=(4000, n_modes))
    expected = collections.Counter(map(tuple, samples.tolist()))
    hist = Histogram.from_samples(samples)
    assert hist.to_dict() == expected
    assert [tuple(row) for row in hist.patterns.tolist()] == sorted(expected)
