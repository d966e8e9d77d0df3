"""Binary optimisation problems as QUBOs, with exact optima and classical baselines."""

from .baselines import BaselineResult, hill_climbing, random_search, simulated_annealing
from .exact import Optimum, integer_scale, optimum
from .jssp import (
    FT06,
    TOY_3X3,
    JobShopDecoding,
    JobShopInstance,
    Schedule,
    TimeIndexedQUBO,
    Violation,
    cpsat_optimum,
    jssp_qubo,
    makespan,
    random_jobshop,
    schedule_violations,
)
from .jssp import decode as decode_schedule
from .knapsack import (
    KnapsackInstance,
    KnapsackSolution,
    default_penalty,
    knapsack_optimum,
    knapsack_qubo,
    random_knapsack,
    slack_coefficients,
)
from .knapsack import decode as decode_knapsack
from .maxcut import (
    GoemansWilliamsonResult,
    cut_value,
    edge_arrays,
    erdos_renyi_graph,
    goemans_williamson,
    maxcut_qubo,
    random_regular_graph,
    with_random_weights,
)
from .qubo import QUBO

__all__ = [
    "FT06",
    "QUBO",
    "TOY_3X3",
    "BaselineResult",
    "GoemansWilliamsonResult",
    "JobShopDecoding",
    "JobShopInstance",
    "KnapsackInstance",
    "KnapsackSolution",
    "Optimum",
    "Schedule",
    "TimeIndexedQUBO",
    "Violation",
    "cpsat_optimum",
    "cut_value",
    "decode_knapsack",
    "decode_schedule",
    "default_penalty",
    "edge_arrays",
    "erdos_renyi_graph",
    "goemans_williamson",
    "hill_climbing",
    "integer_scale",
    "jssp_qubo",
    "knapsack_optimum",
    "knapsack_qubo",
    "makespan",
    "maxcut_qubo",
    "optimum",
    "random_jobshop",
    "random_knapsack",
    "random_regular_graph",
    "random_search",
    "schedule_violations",
    "simulated_annealing",
    "slack_coefficients",
    "with_random_weights",
]
