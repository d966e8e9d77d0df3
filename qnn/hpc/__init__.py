"""Scale-out on Slurm through submitit: sweeps as job arrays, QPUs as GRES or licenses."""

from .collect import TaskState, collect, format_states, sweep_status, wait
from .config import ClusterConfig, load_config
from .submit import resubmit, submit_tasks
from .sweep import Submission, Sweep, parse_sweep_option, sweep_folder

__all__ = [
    "ClusterConfig",
    "Submission",
    "Sweep",
    "TaskState",
    "collect",
    "format_states",
    "load_config",
    "parse_sweep_option",
    "resubmit",
    "submit_tasks",
    "sweep_folder",
    "sweep_status",
    "wait",
]
