"""One histogram route: every histogram a family's run draws lands in its HDF5 file."""

import pytest
import torch

from qnn.cli import main
from qnn.photonics import get_backend
from qnn.photonics.backends.exact import ExactBackend
from qnn.runs.recording import RecordingBackend
from qnn.store import RunStore

SAMPLING_SMOKE = {  # each family's smoke run, made to sample (dqnn's smoke uses exact vectors)
    "bbs": ["instances=1", "problems=['maxcut']"],
    "dqnn": ["train.angle_method='spsa'", "train.shots=50", "train.rounds=2"],
    "hybrid": ["models=['hybrid']"],
    "nas": ["methods=['photonic', 'random']"],
}


@pytest.mark.parametrize("family", sorted(SAMPLING_SMOKE))
def test_every_histogram_drawn_is_stored(family, tmp_path, monkeypatch):
    drawn, depth = [], [0]  # sample_batch may call sample: count the outermost call only
    sample, sample_batch = ExactBackend.sample, ExactBackend.sample_batch

    def counting(method, many):
        def call(self, *args, **kwargs):
            depth[0] += 1
            try:
                out = method(self, *args, **kwargs)
            finally:
                depth[0] -= 1
            if depth[0] == 0:
                drawn.extend(h.shots for h in (out if many else [out]))
            return out
        return call

    count_one, count_batch = counting(sample, False), counting(sample_batch, True)

    monkeypatch.setattr(ExactBackend, "sample", count_one)
    monkeypatch.setattr(ExactBackend, "sample_batch", count_batch)
    runs = tmp_path / "runs"
    assert main(["run", family, "--runs-dir", str(runs), "with", "smoke",
                 *SAMPLING_SMOKE[family]]) == 0
    with RunStore(runs / family / "1" / "histograms.h5", "r") as store:
        stored = [h.shots for name in store.names() for h in store.get_histograms(name)]
    assert drawn, "the run drew no histogram: the test would prove nothing"
    assert sorted(stored) == sorted(drawn)


def test_a_recorder_of_an_exact_backend_is_a_probability_backend_on_every_python():
    """From Python 3.12 on, isinstance against a Protocol reads the class (getattr_static), so
    delegation through __getattr__ alone hid ``probabilities``: Quantum-Train refused a run's
    exact backend as not giving probabilities (seen on Python 3.12)."""
    from qnn.photonics.backends.base import ProbabilityBackend
    from qnn.photonics.circuit import TBICircuit

    exact = get_backend("exact")
    recorder = RecordingBackend(exact, None)
    assert isinstance(recorder, ProbabilityBackend)
    assert "probabilities" in type(recorder).__dict__  # on the class, not only via __getattr__
    circuit = TBICircuit((1, 0, 1), (1,), [0.3, 0.9])
    patterns, probs = recorder.probabilities(circuit)
    torch.testing.assert_close(probs, exact.probabilities(circuit)[1])
    assert recorder.draws == 0  # probabilities draw nothing, so nothing is recorded
    wrapped = recorder.wrapping(get_backend("exact", noise={"transmission": 0.5}))
    assert isinstance(wrapped, ProbabilityBackend)
