"""Errors that callers are expected to catch, as one short hierarchy."""


class QnnError(Exception):
    """Base class of every error raised on purpose by ``qnn``."""


class BackendUnavailableError(QnnError):
    """A backend's package, target or device cannot be used here."""


class QPUError(QnnError):
    """A QPU failed a job (after any retries); the message names the QPU and the job.

    ``retryable`` says whether another attempt can succeed without running anything twice:
    ``True`` (a busy or unreachable QPU, a failed job), ``False`` (a refused token or request,
    or a submission that may have reached the QPU and cannot be resubmitted safely), or
    ``None`` (the raiser does not know; the pool then judges by the error's type).
    """

    def __init__(self, message: str, *, qpu_id: int | None = None, job: object = None,
                 retryable: bool | None = None) -> None:
        super().__init__(message)
        self.qpu_id = qpu_id
        self.job = job
        self.retryable = retryable


class QPUTimeoutError(QPUError):
    """A QPU did not answer within its time-out."""


class StoreError(QnnError, ValueError):
    """An HDF5 file or group is missing, truncated, corrupt or of another schema."""


class ConfigError(QnnError, ValueError):
    """A configuration value, file or run folder is not acceptable; the message names it."""


class CostLimitError(QnnError, ValueError):
    """A request whose estimated cost exceeds a limit of :mod:`qnn.photonics.cost`; nothing
    was allocated. The message names the size, the limit and how to raise it."""
