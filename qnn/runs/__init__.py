"""Running studies: the task loop, checkpoints, the histogram recorder, stored runs."""

from .checkpoint import Checkpoint
from .index import RunRecord, find_runs, latest_run, task_rows
from .recording import RecordingBackend
from .study import Study, TaskContext, run_study, run_tasks

__all__ = ["Checkpoint", "RecordingBackend", "RunRecord", "Study", "TaskContext", "find_runs",
           "latest_run", "run_study", "run_tasks", "task_rows"]
