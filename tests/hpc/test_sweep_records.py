"""Sweep grids and records, cluster settings, QPU allocation parsing and claims, HDF5 locking:
everything of qnn.hpc that needs no scheduler."""

import json
import os
import socket
import threading
import time

import pytest

from qnn.hpc import ClusterConfig, Sweep, load_config, parse_sweep_option
from qnn.hpc.collect import sweep_status
from qnn.hpc.qpus import QPUClaims, gres_indices, parse_index_list, qpu_environment
from qnn.hpc.submit import slurm_parameters
from qnn.hpc.sweep import Submission, expand_grid, literal, split_values
from qnn.store.locking import (
    apply_locking_environment,
    effective_locking,
    filesystem_type,
    hdf5_locking,
)

MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
fs01:/export/home /home nfs4 rw,vers=4.2 0 0
10.0.0.1@o2ib:/scratch /scratch lustre rw,flock 0 0
tmpfs /scratch/local tmpfs rw 0 0
"""


def test_values_split_at_top_level_commas_only():
    assert split_values("1,2,3") == ["1", "2", "3"]
    assert split_values('[8],[10, 12],"a,b",{"u": 1, "v": 2}') == [
        "[8]", "[10, 12]", '"a,b"', '{"u": 1, "v": 2}']


def test_grid_is_the_product_first_key_slowest():
    grid = expand_grid([parse_sweep_option("bbs.updates=3,5"), parse_sweep_option("seed=1,2")])
    assert grid == [["bbs.updates=3", "seed=1"], ["bbs.updates=3", "seed=2"],
                    ["bbs.updates=5", "seed=1"], ["bbs.updates=5", "seed=2"]]
    assert expand_grid([]) == [[]]  # no sweep: a single task with the base config


@pytest.mark.parametrize("text", ["seed", "seed=", "seed=1,,2", "1x=2", "a b=1"])
def test_bad_sweep_options_name_the_option(text):
    with pytest.raises(ValueError, match="--sweep"):
        parse_sweep_option(text)


def test_a_key_swept_twice_is_refused():
    with pytest.raises(ValueError, match=r"\['seed'\]"):
        expand_grid([("seed", ["1"]), ("seed", ["2"])])


def test_sweep_record_round_trip_and_sacred_words(tmp_path):
    cluster = ClusterConfig(qpus=1, qpu_urls=("http://pt1:8080", "http://pt2:8080"))
    sweep = Sweep.create(tmp_path / "s1", "bbs", ["with", "smoke"],
                         [("seed", ["1", "2"]), ("sizes", ["[6]", "[8]"])], cluster, "slurm")
    again = Sweep.load(tmp_path / "s1")
    assert again == sweep
    assert len(again.tasks) == 4
    assert again.sacred_argv(3, "41_3") == ["with", "smoke", "seed=2", "sizes=[8]", "--id=41_3"]
    assert again.point(1) == {"seed": 1, "sizes": [8]}
    assert again.sacred_argv(0, "42_0", "/r/bbs/41_0")[-2:] == [
        "store.resume_from='/r/bbs/41_0'", "--id=42_0"]
    bare = Sweep.create(tmp_path / "s2", "bbs", [], [("seed", ["7"])], cluster, "local")
    assert bare.sacred_argv(0, "x_0") == ["with", "seed=7", "--id=x_0"]
    with pytest.raises(ValueError, match="exists"):
        Sweep.create(tmp_path / "s1", "bbs", [], [], cluster, "slurm")
    with pytest.raises(ValueError, match="--name"):
        Sweep.create(tmp_path / "bad name", "bbs", [], [], cluster, "slurm")


def test_literal_reads_values_as_sacred_does():
    assert literal("3") == 3 and literal("[1, 2]") == [1, 2] and literal("maxcut") == "maxcut"


def test_states_from_records_without_a_scheduler(tmp_path):
    """completed / failed (Sacred said so, or killed while RUNNING) / missing, and a later
    completed attempt wins over an earlier failed one."""
    sweep = Sweep.create(tmp_path / "s", "bbs", [], [("seed", [str(i) for i in range(5)])],
                         ClusterConfig(), "local")
    # pids that cannot be alive: no local job is live
    sweep.add_submission(Submission("local-a", "local", (0, 1, 2, 3), ("-1",) * 4))
    sweep.add_submission(Submission("local-b", "local", (1,), ("-1",)))
    for run_id, status in [("local-a_0", "COMPLETED"), ("local-a_1", "FAILED"),
                           ("local-b_0", "COMPLETED"), ("local-a_2", "RUNNING")]:
        folder = sweep.run_folder(run_id)
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({"status": status}))
    states = {s.task: s for s in sweep_status(sweep)}
    assert [states[i].status for i in range(5)] == ["completed", "completed", "failed",
                                                    "missing", "missing"]
    assert states[1].run_id == "local-b_0" and states[1].attempts == 2
    assert "killed" in states[2].detail
    assert states[4].detail == "never submitted"


def test_cluster_config_refuses_bad_values():
    with pytest.raises(ValueError, match="qpu.resource='tokens'"):
        ClusterConfig(qpu_resource="tokens")
    with pytest.raises(ValueError, match=r"qpu.urls\[1\] carries credentials"):
        ClusterConfig(qpu_urls=("http://pt1", "http://user:secret@pt2"))
    with pytest.raises(ValueError, match="qpus=3 but the QPU pool has only 2"):
        ClusterConfig(qpus=3, qpu_urls=("http://a", "http://b"))
    with pytest.raises(ValueError, match="time=0"):
        ClusterConfig(time=0)


def test_config_file_and_overrides(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCA_ACCESS_URL", raising=False)
    file = tmp_path / "hpc.toml"
    file.write_text('[qpu]\nresource = "license"\nurls = ["http://a:1", "http://b:2"]\n'
                    '[slurm]\npartition = "pt"\ntime = 5\n')
    config = load_config(file)
    assert (config.qpu_resource, config.resource_name, config.partition, config.time) == (
        "license", "orca_pt", "pt", 5)
    assert config.updated(qpus=2, partition=None).qpus == 2
    file.write_text("[qpu]\nurl = 'http://a'\n")
    with pytest.raises(ValueError, match="unknown key qpu.url"):
        load_config(file)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QNN_HPC_CONFIG", raising=False)
    file.unlink()
    monkeypatch.setenv("ORCA_ACCESS_URL", "http://x:1,http://y:2")
    assert load_config().qpu_urls == ("http://x:1", "http://y:2")  # the pool from the env


def test_slurm_parameters_gres_or_license():
    gres = slurm_parameters(ClusterConfig(qpus=2, gpus=1, partition="p"), "j")
    assert gres["gres"] == "qpu:2" and gres["gpus_per_node"] == 1 and gres["partition"] == "p"
    assert "licenses" not in gres["additional_parameters"]
    lic = slurm_parameters(ClusterConfig(qpus=1, qpu_resource="license"), "j")
    assert lic["additional_parameters"]["licenses"] == "orca_pt:1" and "gres" not in lic
    assert "gres" not in slurm_parameters(ClusterConfig(), "j")


def test_gres_indices_from_scontrol_detail():
    detail = ("   JOB_GRES=qpu:2\n     Nodes=n1 CPU_IDs=0 Mem=0 GRES=qpu:2(IDX:0-1)\n"
              "   TresPerNode=gres:qpu:2\n")
    assert gres_indices(detail, "qpu") == [0, 1]
    assert gres_indices("Nodes=n1 GRES=gpu:a100:1(IDX:3),qpu:1(IDX:1)", "qpu") == [1]
    assert gres_indices("Nodes=n1 GRES=gpu:a100:1(IDX:3),qpu:1(IDX:1)", "gpu") == [3]
    assert gres_indices("Nodes=n1 GRES=qpu(CNT:1)", "qpu") is None  # no files: count only
    assert gres_indices("Nodes=n1 GRES=", "qpu") is None
    assert parse_index_list("0-2,5") == [0, 1, 2, 5]


def test_claims_are_exclusive_and_stale_ones_are_taken_over(tmp_path):
    me = {"host": socket.gethostname(), "pid": os.getpid()}
    first, second = QPUClaims(tmp_path, 2, poll=0.05), QPUClaims(tmp_path, 2, poll=0.05)
    assert first.acquire(1, me) == [0]
    assert second.acquire(1, me) == [1]
    with pytest.raises(TimeoutError, match="could not claim 1 of 2"):
        QPUClaims(tmp_path, 2, poll=0.05).acquire(1, me, timeout=0.2)
    # a waiter gets the QPU as soon as it is released
    got = []
    waiter = threading.Thread(target=lambda: got.append(
        QPUClaims(tmp_path, 2, poll=0.05).acquire(2, me, timeout=10)))
    waiter.start()
    time.sleep(0.2)
    first.release()
    second.release()
    waiter.join()
    assert got == [[0, 1]]
    # a claim whose process is gone is stale
    for f in tmp_path.glob("*.claim"):
        f.unlink()
    (tmp_path / "qpu0.claim").write_text(json.dumps({"host": socket.gethostname(),
                                                     "pid": 2**22 + 12345}))
    assert QPUClaims(tmp_path, 1, poll=0.05).acquire(1, me, timeout=5) == [0]
    with pytest.raises(ValueError, match="qpus=3 but the QPU pool has 2"):
        QPUClaims(tmp_path, 2).acquire(3, me)


def test_qpu_environment_sets_only_the_held_urls(monkeypatch):
    monkeypatch.setenv("ORCA_ACCESS_URL", "http://a,http://b")
    monkeypatch.setenv("ORCA_AUTH_TOKEN", "tok")
    with qpu_environment([1], ("http://a", "http://b")) as urls:
        assert urls == ["http://b"] and os.environ["ORCA_ACCESS_URL"] == "http://b"
        assert os.environ["QNN_QPU_IDS"] == "1" and os.environ["ORCA_AUTH_TOKEN"] == "tok"
    assert os.environ["ORCA_ACCESS_URL"] == "http://a,http://b"
    with qpu_environment([], ("http://a", "http://b")):
        assert "ORCA_ACCESS_URL" not in os.environ
    assert "QNN_QPU_IDS" not in os.environ


def test_hdf5_locking_off_on_shared_file_systems():
    assert filesystem_type("/home/u/runs", MOUNTS) == "nfs4"
    assert filesystem_type("/scratch/u/sweep/x.h5", MOUNTS) == "lustre"
    assert filesystem_type("/scratch/local/x", MOUNTS) == "tmpfs"  # the longest mount wins
    assert filesystem_type("/tmp/x", MOUNTS) == "ext4"
    assert not hdf5_locking("/home/u/runs", "auto", MOUNTS)
    assert not hdf5_locking("/scratch/u", "auto", MOUNTS)
    assert hdf5_locking("/tmp/x", "auto", MOUNTS)
    assert hdf5_locking("/home/u", "on", MOUNTS) and not hdf5_locking("/tmp", "off", MOUNTS)
    with pytest.raises(ValueError, match="hdf5_locking='maybe'"):
        hdf5_locking("/tmp", "maybe")


def test_the_users_hdf5_variable_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("HDF5_USE_FILE_LOCKING", "FALSE")
    assert not effective_locking(tmp_path, "on")
    assert not apply_locking_environment(tmp_path, "on")
    monkeypatch.delenv("HDF5_USE_FILE_LOCKING")
    assert not apply_locking_environment(tmp_path, "off")
    assert os.environ["HDF5_USE_FILE_LOCKING"] == "FALSE"


@pytest.mark.parametrize(("argv", "message"), [
    (["submit", "bbs", "--sweep", "seed", "--local"], "--sweep 'seed'"),
    (["submit", "--local"], "give a family"),
    (["submit", "bbs", "--qpus", "3", "--qpu-urls", "http://a,http://b", "--local"],
     "qpus=3 but the QPU pool has only 2"),
    (["submit", "--resume", "nosuch"], "sweep 'nosuch'"),
    (["submit", "bbs", "with", "smoke", "--resume", "x"], "--resume takes the sweep's"),
    (["collect", "nosuch"], "sweep 'nosuch'"),
])
def test_cli_errors_name_the_option(argv, message, tmp_path, monkeypatch, capsys):
    from qnn.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QNN_HPC_CONFIG", raising=False)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # refused before any sweep folder is written
