"""Emulator child processes never outlive their parent, even one killed without clean-up."""

import os
import subprocess
import sys
import time

import pytest

from qnn.emulator import EmulatorProcess

CLIENT = """
import os
from qnn.emulator import EmulatorProcess
qpu = EmulatorProcess().start()
print(qpu.pid, flush=True)
os._exit(0)  # no finally, no context manager: as a native SIGINT handler would do
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for init counts as gone
        return stat.read().split()[2] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux")
def test_an_emulator_dies_with_a_parent_that_exits_abruptly():
    out = subprocess.run([sys.executable, "-c", CLIENT], capture_output=True, text=True,
                         timeout=120, check=True)
    pid = int(out.stdout.strip())
    deadline = time.monotonic() + 20
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid)


def test_stopping_an_emulator_leaves_no_process_behind():
    with EmulatorProcess() as qpu:
        pid = qpu.pid
        assert alive(pid)
    assert not qpu.running and not alive(pid)
