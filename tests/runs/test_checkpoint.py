"""Checkpoints: exact JSON round trip, atomic replacement, clear errors on foreign files;
weights files load tensors only, and a bad one never passes on torch's advice."""

import datetime
import json
import os
import re
import subprocess
import sys
import traceback

import numpy as np
import pytest
import torch

from qnn.runs import Checkpoint
from qnn.runs.checkpoint import atomic_torch_save, torch_load


def test_round_trip_and_replace(tmp_path):
    ckpt = Checkpoint(tmp_path / "sub" / "checkpoint.json")
    assert ckpt.load() is None
    state = {"step": 3, "angles": [0.1, 1e-300, float("inf")], "rng": {"state": 2**100}}
    ckpt.save(state)
    assert ckpt.load() == state
    ckpt.save({"step": 4})
    assert ckpt.load() == {"step": 4}
    assert [p.name for p in ckpt.path.parent.iterdir()] == ["checkpoint.json"]


def test_a_kill_during_save_leaves_the_previous_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.json"
    Checkpoint(path).save({"step": 1})
    code = (
        "import json, os\n"
        "from qnn.runs import checkpoint\n"
        "def dying_dump(obj, f, **kw):\n"
        "    f.write('{\"schema\": \"qnn.checkpoint/1\", \"state\": {\"st')\n"
        "    f.flush(); os._exit(9)\n"
        "checkpoint.json.dump = dying_dump\n"
        f"checkpoint.Checkpoint({str(path)!r}).save({{'step': 2}})\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert Checkpoint(path).load() == {"step": 1}


@pytest.mark.parametrize("content", ["not json", json.dumps({"schema": "other", "state": {}})])
def test_foreign_files_are_refused(tmp_path, content):
    path = tmp_path / "checkpoint.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=str(path)):
        Checkpoint(path).load()
    assert os.path.exists(path)


@pytest.mark.parametrize("content", [b"\xff\xfe garbage \x00", b"[" * 100_000,
                                     json.dumps({"schema": "qnn.checkpoint/1"}).encode()],
                         ids=["not-utf8", "absurd-nesting", "no-state"])
def test_damaged_json_checkpoints_name_the_file(tmp_path, content):
    path = tmp_path / "checkpoint.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(f"{path}: ")):
        Checkpoint(path).load()


def weights_file(tmp_path, damage):
    path = tmp_path / "network.pt"
    if damage == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(512))
    elif damage == "truncated":
        atomic_torch_save({"w": torch.arange(1000.0)}, path)
        path.write_bytes(path.read_bytes()[:700])
    else:  # a valid file holding an object weights_only refuses (it could run code)
        torch.save({"when": datetime.date(2020, 1, 1)}, path)
    return path


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign-object"])
def test_bad_weights_files_never_pass_on_torch_advice(tmp_path, damage):
    """torch's error advises retrying with weights_only=False (running code from the file):
    none of it may reach the user, neither in the message nor in a chained traceback."""
    path = weights_file(tmp_path, damage)
    with pytest.raises(ValueError) as info:
        torch_load(path)
    assert str(info.value).startswith(f"{path}: not a valid weights file")
    shown = "".join(traceback.format_exception(info.value))
    assert "weights_only" not in shown and "arbitrary code" not in shown


def test_weights_round_trip_and_missing_file(tmp_path):
    atomic_torch_save({"w": torch.arange(3.0)}, tmp_path / "n.pt")
    assert torch.equal(torch_load(tmp_path / "n.pt")["w"], torch.arange(3.0))
    with pytest.raises(FileNotFoundError, match="absent.pt: no such weights file"):
        torch_load(tmp_path / "absent.pt")
