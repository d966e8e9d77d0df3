"""Time a new user's first minute: `qnn run bbs` (the main job) and every family's smoke run.

Each command runs as a user runs it — a fresh `qnn` process in a scratch folder — with a warm
numba cache (one untimed warm-up run first), ``--repeats`` times; the table gives the median
and the range of the wall time and names the machine (cores, load). Times are what the README
quotes.

``python benchmarks/smoke.py [--repeats 3] [--threads N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "qnn run bbs": ["run", "bbs"],
    "qnn run bbs with smoke": ["run", "bbs", "with", "smoke"],
    "qnn run dqnn with smoke": ["run", "dqnn", "with", "smoke"],
    "qnn run hybrid with smoke": ["run", "hybrid", "with", "smoke"],
    "qnn run nas with smoke": ["run", "nas", "with", "smoke"],
}


def time_command(args: list[str], folder: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qnn.cli", *args], cwd=folder, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"qnn {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="OMP/torch threads of each run (default: as the machine sets)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"python {sys.version.split()[0]}, threads {args.threads or 'default'}, "
          f"{args.repeats} timed runs each after a warm-up")
    print(f"{'command':<28}{'median':>9}{'min':>9}{'max':>9}")
    with tempfile.TemporaryDirectory() as scratch:
        for name, words in COMMANDS.items():
            folder = Path(scratch) / name.replace(" ", "_")
            folder.mkdir()
            time_command(words, folder, env)  # warm-up: numba's cache, imports, MNIST cache
            times = [time_command(words, folder, env) for _ in range(args.repeats)]
            print(f"{name:<28}{statistics.median(times):>8.1f}s{min(times):>8.1f}s"
                  f"{max(times):>8.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
