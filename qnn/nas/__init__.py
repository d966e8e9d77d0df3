"""Quantum-guided neural-architecture search: a bitstring space, cached fitness, searches."""

from .capacity import CAPACITY_SEARCH, ProposerCapacity, capacity_search, proposer_capacity
from .diagnostic import learning_table, planted
from .ensemble import ensemble_probs, search_curves, top_k
from .fitness import (
    Evaluation,
    FitnessCache,
    NASData,
    TrainBudget,
    accuracy,
    load_nas_data,
    make_trainer,
    train_and_score,
)
from .model import build_model
from .search import METHODS, NAS_BBS, SearchConfig, SearchResult, search
from .significance import paired_tests
from .space import CHOICES, N_BITS, Architecture, bits_key, decode, encode
from .study import NASSpec, NASStudy

__all__ = [
    "CAPACITY_SEARCH", "ProposerCapacity", "capacity_search",
    "learning_table", "paired_tests", "planted", "proposer_capacity",
    "CHOICES", "METHODS", "NAS_BBS", "N_BITS", "Architecture", "Evaluation", "FitnessCache",
    "NASData", "NASSpec", "SearchConfig", "SearchResult", "TrainBudget", "accuracy",
    "bits_key", "build_model", "decode", "encode", "ensemble_probs", "load_nas_data",
    "make_trainer", "NASStudy", "search", "search_curves", "top_k",
    "train_and_score",
]
