"""NAS: the old sampler's capacity, the capacity that learns, and the learning test."""

import numpy as np
import pytest

from qnn.nas import (
    N_BITS,
    SearchConfig,
    capacity_search,
    learning_table,
    planted,
    proposer_capacity,
)
from qnn.photonics import get_backend

TARGET = "1011001110001101"


def test_the_old_sampler_buys_14_updates_of_7_single_shot_candidates_in_100():
    """4 modes, loop 1: 4 - 1 = 3 beam splitters; the shift rule samples 1 + 2 * 3 sets of one
    shot; the digits budget of 100 pays for 14 such updates, mnist_small's 60 for 8."""
    old = proposer_capacity(N_BITS, SearchConfig(budget=100))
    assert (old.n_modes, old.n_tiles, old.angles, old.flips) == (4, 4, 3, 16)
    assert (old.parameter_sets, old.shots, old.candidates) == (7, 1, 7)
    assert old.updates_if_all_new == 14
    assert proposer_capacity(N_BITS, SearchConfig(budget=60)).updates_if_all_new == 8


def test_the_capacity_config_has_8_modes_2_loops_10_shots_and_affordable_updates():
    """8 modes, loops 1 and 2: 7 + 6 = 13 beam splitters. Every angle shifted (27 sets of 10
    shots) one update would eat 270 of the 500 architectures; one direction: 3 sets, 30."""
    cap = proposer_capacity(N_BITS, capacity_search())
    assert (cap.n_modes, cap.n_tiles, cap.loop_lengths, cap.angles) == (8, 2, (1, 2), 13)
    assert (cap.parameter_sets, cap.shots, cap.candidates, cap.budget) == (3, 10, 30, 500)
    assert cap.updates_if_all_new == 16
    full = proposer_capacity(N_BITS, capacity_search(directions=None))
    assert (full.parameter_sets, full.candidates, full.updates_if_all_new) == (27, 270, 1)


def test_planted_fitness_counts_agreeing_bits():
    fitness = planted("0110")
    assert [fitness(k) for k in ("0110", "1001", "0111", "0000")] == [1.0, 0.0, 0.75, 0.5]
    with pytest.raises(ValueError, match="has 3 bits"):
        fitness("011")
    with pytest.raises(ValueError, match="target='01a'"):
        planted("01a")


def learns(table, variant, margin=0.05):
    """Per seed: its last 100 proposals beat its first 100 by ``margin``."""
    return bool((table[table.variant == variant].gain > margin).all())


@pytest.fixture(scope="module")
def planted_table():
    """The capacity proposer, the same with learning rates 0 (nothing can learn), and random
    search: 3 fixed seeds of 500 evaluations each on the planted 16-bit fitness."""
    config = capacity_search()
    frozen = capacity_search(bbs={**config.bbs, "lr_angles": 0.0, "lr_flips": 0.0})
    variants = {"photonic": ("photonic", config), "frozen": ("photonic", frozen),
                "random": ("random", config)}
    return learning_table(variants, TARGET, seeds=(0, 1, 2), backend=get_backend("exact"))


def test_the_capacity_proposer_learns_and_a_frozen_one_does_not(planted_table):
    """A uniform proposal agrees with the target on half its bits on average; the trained
    sampler's late proposals agree on more than its early ones and than random search's,
    while the same sampler with frozen parameters (and random search) stays near 1/2."""
    table = planted_table
    assert (table.evaluations == 500).all()
    photonic, frozen = table[table.variant == "photonic"], table[table.variant == "frozen"]
    random = table[table.variant == "random"]
    assert (photonic.updates >= 16).all()  # 500 // 30: more when repeats come free
    assert learns(table, "photonic")
    assert not learns(table, "frozen") and not learns(table, "random")
    assert np.all(photonic.late.to_numpy() > random.late.to_numpy() + 0.05)
    for part in (frozen, random):
        assert np.all(np.abs(part[["early", "late"]].to_numpy() - 0.5) < 0.05)


def test_learning_table_refuses_a_budget_below_two_windows():
    with pytest.raises(ValueError, match="budget=150 must be at least 2 \\* window = 200"):
        learning_table({"r": ("random", SearchConfig(budget=150))}, TARGET, (0,), None)
