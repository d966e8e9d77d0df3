"""Search loops: equal budgets, determinism per seed, and the planted-optimum benchmark."""

import numpy as np
import pytest

from qnn.nas import METHODS, N_BITS, SearchConfig, search
from qnn.photonics import get_backend

TARGET = "1011001110001101"


def planted(key: str) -> float:
    """Fraction of bits agreeing with TARGET: one optimum, known in advance."""
    return float(np.mean([a == b for a, b in zip(key, TARGET, strict=True)]))


@pytest.fixture(scope="module")
def backend():
    return get_backend("exact")


@pytest.mark.parametrize("method", METHODS)
def test_every_method_spends_exactly_the_budget_and_is_deterministic(method, backend):
    calls = []

    def fitness(key):
        calls.append(key)
        return planted(key)

    config = SearchConfig(budget=40, ensemble_size=4)
    first = search(method, fitness, N_BITS, config, np.random.default_rng(7), backend=backend)
    assert len(first.keys) == len(set(first.keys)) == 40 == len(calls) == len(set(calls))
    assert first.fitness == [planted(k) for k in first.keys]
    assert first.population == sorted(first.keys, key=lambda k: -planted(k))[:4]
    again = search(method, planted, N_BITS, config, np.random.default_rng(7), backend=backend)
    other = search(method, planted, N_BITS, config, np.random.default_rng(8), backend=backend)
    assert again.keys == first.keys and other.keys != first.keys


def test_photonic_search_finds_a_planted_optimum_that_random_search_misses(backend):
    """16 bits, 300 of 65,536 strings: uniform search finds the target with probability
    0.5 % per run; the sampler learns where it is, so its late proposals are fitter."""
    config = SearchConfig(budget=300)
    found = {}
    for method in ("photonic", "random"):
        results = [search(method, planted, N_BITS, config, np.random.default_rng(seed),
                          backend=backend) for seed in range(4)]
        found[method] = [TARGET in r.keys for r in results]
        if method == "photonic":
            for r in results:
                assert np.mean(r.fitness[-50:]) > np.mean(r.fitness[:50]) + 0.05
    assert sum(found["photonic"]) >= 3 and sum(found["random"]) == 0


def test_sampler_reports_updates_and_bernoulli_replaces_boson_clicks(backend):
    labels = {}
    for method in ("photonic", "bernoulli"):
        reports = []
        result = search(method, planted, N_BITS, SearchConfig(budget=30),
                        np.random.default_rng(1), backend=backend, on_update=reports.append)
        assert result.updates == len(reports) == len(result.click_rate) >= 4
        assert [r.step for r in reports] == list(range(1, len(reports) + 1))
        labels[method] = {label for report in reports for label, _ in report.histograms}
    assert not any(label.startswith("random_clicks/") for label in labels["photonic"])
    assert {"unshifted", "plus/0", "minus/2"} <= labels["photonic"]
    assert "random_clicks/unshifted" in labels["bernoulli"]


def test_evolution_children_come_from_the_population():
    """After the random first generation every child is a mutated (crossed) population
    member: with crossover off and one flipped bit it is at Hamming distance 1 of one."""
    config = SearchConfig(budget=60, ensemble_size=4, batch=4, crossover=0.0,
                          mutation_rate=1e-12)
    result = search("evolution", planted, N_BITS, config, np.random.default_rng(0))
    bits = [np.frombuffer(k.encode(), np.uint8) - 48 for k in result.keys]
    for i in range(4, 60):
        assert min(np.count_nonzero(bits[i] ^ bits[j]) for j in range(i)) >= 1
        assert any(np.count_nonzero(bits[i] ^ bits[j]) == 1 for j in range(i))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"budget": 0}, "SearchConfig.budget=0"), ({"mutation_rate": 2.0}, "mutation_rate=2.0"),
    ({"bbs": {"shots": 0}}, "BBSConfig.shots=0"), ({"bbs": {"foo": 1}}, "unknown key")])
def test_bad_search_config_names_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SearchConfig(**kwargs)


def test_unknown_method_and_missing_backend_are_refused():
    with pytest.raises(ValueError, match="method='annealing'"):
        search("annealing", planted, N_BITS, SearchConfig(), np.random.default_rng(0))
    with pytest.raises(ValueError, match="needs a photonic backend"):
        search("photonic", planted, N_BITS, SearchConfig(), np.random.default_rng(0))


@pytest.mark.parametrize("method", ["random", "evolution"])
def test_a_search_that_runs_out_of_new_architectures_stops_short_of_its_budget(method):
    """Two bits hold four architectures: a budget of ten cannot be spent."""
    config = SearchConfig(budget=10, ensemble_size=2, batch=3, max_stale=5)
    result = search(method, lambda key: key.count("1") / 2, 2, config, np.random.default_rng(0))
    assert sorted(result.keys) == ["00", "01", "10", "11"] and result.population[0] == "11"
