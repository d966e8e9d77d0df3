"""How much a sampler proposer can learn in a budget: its parameters, updates and shots.

Why the default sampler cannot learn, and what can. The default NAS sampler
(:data:`~qnn.nas.search.NAS_BBS`) is a 4-mode TBI with one loop: 3 beam-splitter angles and 16
flip probabilities, tiled four times over the 16 bits. The shift rule on every angle samples
``1 + 2·3 = 7`` parameter sets of one shot each, so an update costs 7 trained architectures: a
budget of 100 buys at most ``100 // 7 = 14`` updates (``mnist_small``'s 60 buys 8). Each
angle's gradient is then the difference of two single samples, which is mostly shot noise, and
14 Adam steps cannot move 19 parameters far from their random start — a tie with random search
at that capacity tests nothing. Asking for 8 modes, two loops and 10 shots with the same rule
makes it worse: 13 angles, 27 sets, 270 architectures per update — one update in 500. A further
limit: at ``init_flip = 1/2`` every proposal ``x = y XOR b`` is uniform whatever the clicks
``y``, so the angles have no effect (and no expected gradient) until the flips have moved away
from 1/2; early learning is the flips' alone. :func:`proposer_capacity` computes these numbers
for any configuration.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..photonics.circuit import n_beam_splitters
from .search import SearchConfig


@dataclass(frozen=True)
class ProposerCapacity:
    """What one sampler search of ``budget`` trained architectures can learn from.

    Attributes:
        n_bits: length of an architecture's bitstring.
        n_modes, n_tiles: circuit modes, and circuit samples concatenated per candidate.
        loop_lengths: the loops actually used (shorter than ``n_modes``).
        angles: trainable beam-splitter angles (``n_bs``).
        flips: trainable flip probabilities (one per bit).
        parameter_sets: angle sets sampled per update (unshifted and shifted).
        shots: candidates per parameter set.
        candidates: candidates per update: ``parameter_sets · shots``.
        budget: distinct architectures trained.
        updates_if_all_new: updates the budget pays for when every candidate is a new
            architecture (``budget // candidates``; repeats are free, so a search that
            concentrates gets more).
    """

    n_bits: int
    n_modes: int
    n_tiles: int
    loop_lengths: tuple[int, ...]
    angles: int
    flips: int
    parameter_sets: int
    shots: int
    candidates: int
    budget: int
    updates_if_all_new: int

    def to_dict(self) -> dict:
        """JSON-ready values (``loop_lengths`` as a list, as a checkpoint returns it)."""
        return {**asdict(self), "loop_lengths": list(self.loop_lengths)}


def proposer_capacity(n_bits: int, config: SearchConfig) -> ProposerCapacity:
    """The :class:`ProposerCapacity` of ``photonic`` (and ``bernoulli``) under ``config``."""
    bbs = config.bbs_config("photonic")
    modes = min(n_bits, bbs.max_modes)
    loops = tuple(length for length in bbs.loop_lengths if length < modes)
    angles = n_beam_splitters(modes, loops)
    if bbs.freeze_angles:
        sets = 1
    elif config.directions is None:
        sets = 1 + 2 * angles
    else:
        sets = 1 + 2 * config.directions
    candidates = sets * bbs.shots
    return ProposerCapacity(n_bits, modes, math.ceil(n_bits / modes), loops, angles, n_bits,
                            sets, bbs.shots, candidates, config.budget,
                            config.budget // candidates)


# A capacity that can learn, and the search the `capacity` study runs: 8 modes (two
# tiles over 16 bits), loops 1 and 2 (13 angles), 10 shots per parameter set, the shift rule
# along one random direction per update (3 sets, 30 candidates: 16 updates if every
# candidate is new), 500 architectures.
CAPACITY_SEARCH = {"budget": 500, "ensemble_size": 5, "directions": 1,
                   "bbs": {"max_modes": 8, "loop_lengths": [1, 2], "shots": 10}}


def capacity_search(**changes) -> SearchConfig:
    """:data:`CAPACITY_SEARCH` as a :class:`SearchConfig`, with top-level ``changes``."""
    return SearchConfig(**{**CAPACITY_SEARCH, **changes})
