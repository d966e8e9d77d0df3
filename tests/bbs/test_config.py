"""BBSConfig: defaults, validation that names the field, and a lossless dict round trip."""

import json
import math

import numpy as np
import pytest

from qnn.bbs import BBSConfig, BBSSolver, BBSState
from qnn.photonics import get_backend
from qnn.photonics.pool import QPUPool
from qnn.problems import QUBO


def test_defaults_are_the_papers():
    cfg = BBSConfig()
    assert cfg.loop_lengths == (1, 3, 9) and cfg.max_modes == 30
    assert (cfg.shots, cfg.updates, cfg.lr_angles, cfg.lr_flips) == (50, 200, 0.01, 0.05)
    assert cfg.shift == pytest.approx(math.pi / 6)
    assert cfg.shift_denominator == pytest.approx(math.sin(math.pi / 3))
    assert BBSConfig(denominator=2.0).shift_denominator == 2.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("loop_lengths", ()),
        ("loop_lengths", (1, 0)),
        ("loop_lengths", "13"),
        ("max_modes", 1),
        ("shots", 0),
        ("shots", 2.5),
        ("shots", True),
        ("updates", 0),
        ("optimizer", "rmsprop"),
        ("lr_angles", -0.1),
        ("lr_flips", float("nan")),
        ("gradient", "spsa"),
        ("shift", 0.0),
        ("shift", math.pi / 2),
        ("denominator", 0.0),
        ("denominator", float("inf")),
        ("flip_param", "prob"),
        ("init_flip", 0.0),
        ("init_flip", 1.0),
        ("entropy_penalty", -1.0),
        ("sampler", "gaussian"),
        ("freeze_angles", "yes"),
    ],
)
def test_bad_values_raise_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        BBSConfig(**{field: value})


def test_dict_round_trip_through_json():
    cfg = BBSConfig(loop_lengths=(1, 2), optimizer="adam", denominator=0.5, sampler="random_clicks")
    assert BBSConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown BBSConfig field"):
        BBSConfig.from_dict({"shot": 3})


def test_solver_rejects_what_it_cannot_run(make_maxcut):
    qubo = make_maxcut(6, 0.5, 0)
    with pytest.raises(ValueError, match="loop_lengths"):
        BBSSolver(qubo, get_backend("exact"), BBSConfig(loop_lengths=(6, 9)))
    big = QUBO(np.eye(30))
    with pytest.raises(ValueError, match="gradient='exact'.*Fock states"):
        BBSSolver(big, get_backend("exact"), BBSConfig(gradient="exact"))
    with pytest.raises(TypeError, match="ProbabilityBackend"):
        BBSSolver(qubo, QPUPool([get_backend("exact")]), BBSConfig(gradient="exact"))


def test_solver_rejects_a_state_of_another_problem(make_maxcut):
    small = BBSSolver(make_maxcut(5, 0.5, 0), get_backend("exact"), BBSConfig())
    large = BBSSolver(make_maxcut(6, 0.5, 0), get_backend("exact"), BBSConfig())
    state = small.init_state(np.random.default_rng(0))
    with pytest.raises(ValueError, match="BBSState.bs_angles"):
        large.step(state)
    with pytest.raises(ValueError, match="schema"):
        BBSState.from_dict({**state.to_dict(), "schema": "other"})
    with pytest.raises(ValueError, match="no candidate"):
        small.result(state)
