"""The BBS experiment's hardware config through two emulated PT systems and the CUDA-Q client."""

import json

import pytest

pytest.importorskip("cudaq")

from qnn.cli import main  # noqa: E402
from qnn.emulator import EmulatorProcess  # noqa: E402
from qnn.store import RunStore  # noqa: E402


def test_hardware_config_runs_through_a_qpu_pool_of_two_emulators(tmp_path, monkeypatch):
    with EmulatorProcess(token="bbs-token", seed=1) as a, \
            EmulatorProcess(token="bbs-token", seed=2) as b:
        monkeypatch.setenv("ORCA_ACCESS_URL", f"{a.url},{b.url}")
        monkeypatch.setenv("ORCA_AUTH_TOKEN", "bbs-token")
        code = main(["run", "bbs", "--runs-dir", str(tmp_path), "with", "hardware",
                     "instances=1", "bbs.updates=3", "methods=['bbs', 'random']"])
    assert code == 0
    run_dir = tmp_path / "bbs" / "1"
    rows = json.loads((run_dir / "results.json").read_text())["tasks"]
    assert [r["method"] for r in rows] == ["bbs", "random"]
    with RunStore(run_dir / "histograms.h5", "r") as store:
        hists = store.get_histograms(store.names()[0])
    assert len(hists) == 1 + 2 * 13 and all(h.shots == 50 for h in hists)  # 8 modes, loops 1,2
    for name in ("run.json", "config.json", "cout.txt", "info.json"):
        assert "bbs-token" not in (run_dir / name).read_text()
