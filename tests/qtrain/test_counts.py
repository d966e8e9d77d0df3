"""Parameter counts of Quantum-Train under both conventions, and baselines sized by either."""

import pytest
import torch

from qnn.qtrain.baselines import train_pruned, train_weight_sharing
from qnn.qtrain.study import (
    DQNNSpec,
    DQNNStudy,
    DQNNTask,
    our_parameter_count,
    paper_parameter_count,
)
from qnn.qtrain.target import DigitsCNN, PaperCNN
from qnn.qtrain.train import Dataset
from qnn.runs.study import TaskContext
from qnn_experiments.dqnn import PUBLISHED_MESHES, PUBLISHED_QPUS


def _published(qpus=PUBLISHED_QPUS, **options):
    return DQNNSpec(dataset="mnist_published", target="paper", qpus=qpus,
                    outcomes="no_bunching", **options)


def _trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------------------- conventions


def test_paper_count_gives_the_published_totals():
    # arXiv 2505.08474's table: 223 parameters at χ=1, 3,292 at χ=10 (31χ² + 192)
    assert paper_parameter_count(1) == 223
    assert paper_parameter_count(10) == 3292
    assert paper_parameter_count(4) == 31 * 16 + 192 == 688


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, None])
def test_paper_count_refuses_what_is_not_a_bond_dimension(bad):
    with pytest.raises(ValueError, match="bond_dim="):
        paper_parameter_count(bad)


@pytest.mark.parametrize("qpus, angles", [(PUBLISHED_QPUS, 15 + 13),
                                          (PUBLISHED_MESHES, 72 + 56)])
@pytest.mark.parametrize("chi", [1, 3, 10])
def test_our_count_is_the_models_trainable_parameters(qpus, angles, chi):
    model = _published(qpus).model(chi, 0)
    # 6,690 weights -> 13 index bits + 1 value = 14 MPS inputs: 2χ²(14 - 2) + 4χ
    assert our_parameter_count(model) == _trainable(model) == 24 * chi ** 2 + 4 * chi + angles


def test_spec_reports_both_counts_for_the_published_task():
    spec = _published()
    assert spec.published_regime and not DQNNSpec().published_regime
    assert spec.parameter_counts(1) == {"ours": 56, "paper": 223}
    assert spec.parameter_counts(10) == {"ours": 2468, "paper": 3292}


def test_baseline_counts_is_validated_and_picks_the_budget():
    assert _published().baseline_budget(10) == 2468
    assert _published(baseline_counts="paper").baseline_budget(10) == 3292
    # the digits CNN has 1,198 weights: the published count at χ=6 (1,308) is capped there
    assert DQNNSpec(baseline_counts="paper").baseline_budget(6) == DigitsCNN.N_WEIGHTS
    with pytest.raises(ValueError, match=r"^baseline_counts='torchmps'; choose from"):
        DQNNSpec(baseline_counts="torchmps")


# ---------------------------------------------------------------------------- baselines


@pytest.fixture(scope="module")
def tiny_mnist_like():
    """64 / 32 random 28x28 images: enough to run PaperCNN's baselines for an epoch."""
    gen = torch.Generator().manual_seed(0)
    return Dataset(torch.rand(64, 1, 28, 28, generator=gen, dtype=torch.float64),
                   torch.randint(0, 10, (64,), generator=gen),
                   torch.rand(32, 1, 28, 28, generator=gen, dtype=torch.float64),
                   torch.randint(0, 10, (32,), generator=gen))


@pytest.mark.parametrize("chi", [1, 2])
def test_baselines_sized_at_the_paper_count_train_that_many_parameters(tiny_mnist_like, chi):
    budget = _published(baseline_counts="paper").baseline_budget(chi)
    assert budget == paper_parameter_count(chi)  # 223, 316: below PaperCNN's 6,690 weights
    fit = {"epochs": 1, "batch_size": 32, "seed": 0}
    pruned = train_pruned(PaperCNN(), tiny_mnist_like, budget, **fit)
    assert pruned.n_trained_parameters == budget
    assert int((pruned.weights != 0).sum()) == budget  # the others are exactly zero
    shared = train_weight_sharing(PaperCNN(), tiny_mnist_like, budget, **fit)
    assert shared.n_trained_parameters == budget
    assert len(torch.unique(shared.weights.abs())) <= budget  # W weights, budget values


def test_study_baseline_rows_record_both_counts_and_the_convention(tmp_path):
    spec = DQNNSpec(baselines=True, baseline_counts="paper", bond_dims=(1,),
                    baseline_epochs=1)
    context = TaskContext(seed=0, backend=None, folder=tmp_path, rows=[])
    row = DQNNStudy().run_task(spec, DQNNTask(1, 0, method="weight_sharing"), context)
    assert (row["n_total"], row["n_params_paper"], row["baseline_counts"]) == (223, 223, "paper")
    assert row["n_params_ours"] == our_parameter_count(spec.model(1, 0)) == 36
