"""What every experiment run needs without Sacred: checkpoints and a sink for results."""

from .checkpoint import Checkpoint
from .sink import MemorySink, RunSink, StoreSink

__all__ = ["Checkpoint", "MemorySink", "RunSink", "StoreSink"]
