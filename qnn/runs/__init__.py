"""What every experiment run needs without Sacred: checkpoints and a sink for results."""

from .checkpoint import Checkpoint
from .index import RunRecord, find_runs, latest_run, task_rows
from .sink import MemorySink, RunSink, StoreSink

__all__ = ["Checkpoint", "MemorySink", "RunRecord", "RunSink", "StoreSink", "find_runs",
           "latest_run", "task_rows"]
