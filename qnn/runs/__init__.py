"""Running studies: the task loop, checkpoints, the histogram recorder, stored runs."""

from .checkpoint import Checkpoint
from .recording import RecordingBackend
from .study import Study, TaskContext, run_study, run_tasks

__all__ = ["Checkpoint", "RecordingBackend", "Study", "TaskContext", "run_study", "run_tasks"]
