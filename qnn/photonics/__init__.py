"""The photonic layer: TBI circuits, general meshes, Fock indexing, simulators, backends and
histograms."""

from .backends import Backend, ProbabilityBackend, backend_names, get_backend
from .circuit import (
    Interferometer,
    TBICircuit,
    beam_splitter_pairs,
    n_beam_splitters,
    random_tbi,
    tbi_unitary,
)
from .fock import (
    click_patterns,
    fock_basis,
    fock_rank,
    fock_unrank,
    n_fock_states,
    pack_patterns,
    unpack_patterns,
)
from .histogram import Histogram
from .mesh import MeshCircuit, clements_decomposition, collision_free, random_mesh
from .noise import NoiseModel
from .slos import fock_amplitudes, fock_probabilities

__all__ = [
    "Backend", "Histogram", "Interferometer", "MeshCircuit", "NoiseModel", "ProbabilityBackend",
    "TBICircuit", "backend_names", "beam_splitter_pairs", "clements_decomposition",
    "click_patterns", "collision_free", "fock_amplitudes", "fock_basis", "fock_probabilities",
    "fock_rank", "fock_unrank", "get_backend", "n_beam_splitters",
    "n_fock_states", "pack_patterns", "random_mesh", "random_tbi", "tbi_unitary", "unpack_patterns",
]
