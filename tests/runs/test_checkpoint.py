"""Checkpoints: exact JSON round trip, atomic replacement, clear errors on foreign files."""

import json
import os
import subprocess
import sys

import pytest

from qnn.runs import Checkpoint


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
