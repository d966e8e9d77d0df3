"""Errors that callers are expected to catch, as one short hierarchy."""


class QnnError(Exception):
    """Base class of every error raised on purpose by ``qnn``."""


class BackendUnavailableError(QnnError):
    """A backend's package, target or device cannot be used here."""


class QPUError(QnnError):
    """A QPU failed a job (after any retries); the message names the QPU and the job."""

    def __init__(self, message: str, *, qpu_id: int | None = None, job: object = None) -> None:
        super().__init__(message)
        self.qpu_id = qpu_id
        self.job = job


class QPUTimeoutError(QPUError):
    """A QPU did not answer within its time-out."""


class StoreError(QnnError, ValueError):
    """An HDF5 file or group is missing, truncated, corrupt or of another schema."""


class ConfigError(QnnError, ValueError):
    """A configuration value, file or run folder is not acceptable; the message names it."""
