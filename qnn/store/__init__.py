"""HDF5 storage of histograms, probability tables, circuits and run provenance."""

from .attrs import circuit_attrs, read_attrs, read_circuit
from .hdf5 import (
    HISTOGRAM_BATCH_SCHEMA,
    HISTOGRAM_SCHEMA,
    PROBABILITIES_SCHEMA,
    read_histogram,
    read_histograms,
    read_probabilities,
    write_histogram,
    write_histograms,
    write_probabilities,
)
from .provenance import provenance
from .run import RUN_SCHEMA, RunStore
from .verify import StoreReport, verify_store

__all__ = [
    "HISTOGRAM_BATCH_SCHEMA",
    "HISTOGRAM_SCHEMA",
    "PROBABILITIES_SCHEMA",
    "RUN_SCHEMA",
    "RunStore",
    "StoreReport",
    "circuit_attrs",
    "provenance",
    "read_attrs",
    "read_circuit",
    "read_histogram",
    "read_histograms",
    "read_probabilities",
    "verify_store",
    "write_histogram",
    "write_histograms",
    "write_probabilities",
]
