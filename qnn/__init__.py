"""photonic-qnn: hybrid photonic-quantum / HPC machine learning and optimisation."""

__version__ = "0.1.0"
