"""Photonic torch layers: TBIs inside classical networks, on any backend."""

from .encoding import ENCODINGS, Encoding
from .gradients import GradientPlan, angle_orders, photons_reaching, shift_rule
from .observables import OBSERVABLES, measure, observable_size, reference_patterns
from .photonic import GRADIENTS, PhotonicLayer

__all__ = ["ENCODINGS", "GRADIENTS", "OBSERVABLES", "Encoding", "GradientPlan", "PhotonicLayer",
           "angle_orders", "measure", "observable_size", "photons_reaching",
           "reference_patterns", "shift_rule"]
