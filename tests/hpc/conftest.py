"""A real Slurm for the hpc tests: the one running (sinfo answers), else one started with
.ci/slurm.sh when we are root, else the tests skip saying why."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "slurm.sh"


def _sinfo_answers() -> bool:
    if shutil.which("sinfo") is None:
        return False
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                             timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and bool(out.stdout.strip())


@pytest.fixture(scope="session")
def slurm():
    """A responsive Slurm with a node offering Gres=qpu:2 and the license orca_pt:2."""
    started = False
    if not _sinfo_answers():
        if os.geteuid() != 0 or shutil.which("slurmctld") is None or not SCRIPT.is_file():
            pytest.skip("no Slurm answers (sinfo) and none can be started here: start one "
                        f"as root with `{SCRIPT} start` (apt-get install -y slurm-wlm munge "
                        "mariadb-server slurmdbd)")
        out = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True,
                             timeout=180)
        if out.returncode != 0 or not _sinfo_answers():
            pytest.skip(f"Slurm could not be started with {SCRIPT}: {out.stderr[-2000:]}")
        started = True
    gres = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True).stdout
    lic = subprocess.run(["scontrol", "-o", "show", "lic"], capture_output=True, text=True)
    if "qpu:2" not in gres or "orca_pt" not in lic.stdout:
        pytest.skip(f"this Slurm lacks Gres=qpu:2 or the license orca_pt (sinfo %G: "
                    f"{gres.strip()!r}); start the test cluster with {SCRIPT} start")
    yield
    if started:
        subprocess.run([str(SCRIPT), "stop"], capture_output=True, timeout=120)


@pytest.fixture
def job_env(monkeypatch):
    """What the jobs inherit through sbatch's environment export: one thread, a token."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("HDF5_USE_FILE_LOCKING", raising=False)
    monkeypatch.delenv("ORCA_ACCESS_URL", raising=False)
    token = "tok-" + os.urandom(12).hex()
    monkeypatch.setenv("ORCA_AUTH_TOKEN", token)
    return token
