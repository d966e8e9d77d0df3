"""The GPU path: one clear line for a device this machine lacks, and on a CUDA machine the
same numbers on the GPU as on the CPU for the exact backend, the photonic layer and
Quantum-Train (``module.to(device)`` moves everything, checkpoints cross devices).

The CUDA tests skip where torch sees no GPU; run them with ``pytest -m cuda`` there."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from qnn.layers import PhotonicLayer
from qnn.photonics import get_backend, random_tbi
from qnn.photonics.backends.base import as_device
from qnn.photonics.mesh import MeshCircuit, n_mesh_cells
from qnn.qtrain.model import QPUSpec, QuantumTrain
from qnn.qtrain.study import DQNNSpec, DQNNStudy, DQNNTask, load_dataset
from qnn.qtrain.target import DigitsCNN
from qnn.qtrain.train import Dataset, TrainConfig, Trainer
from qnn.runs.recording import RecordingBackend
from qnn.runs.settings import PhotonicsSettings
from qnn.runs.study import TaskContext

HAS_CUDA = torch.cuda.is_available()
cuda = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device")
QPUS = (QPUSpec((1, 0, 1, 0, 1, 0), (1,)), QPUSpec((1, 0, 1, 0, 1), (1, 2)))


# ----------------------------------------------------------------- anywhere
@pytest.mark.parametrize("value", ["gpu", "cuda:x", 3.5])
def test_a_misspelt_device_is_one_line_naming_the_field(value):
    with pytest.raises(ValueError, match=r"^photonics\.device=.* is not a torch device"):
        as_device(value, "photonics.device")
    with pytest.raises(ValueError, match=r"^device=.* is not a torch device"):
        get_backend("exact", device=value)


def test_a_device_other_than_cpu_and_cuda_is_refused():
    with pytest.raises(ValueError, match=r"^device='meta': only 'cpu' and 'cuda'"):
        as_device("meta")


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_says_so_for_every_entry_point():
    message = r"device='cuda' but torch sees no CUDA device here"
    with pytest.raises(ValueError, match=message):
        get_backend("exact", device="cuda")
    with pytest.raises(ValueError, match=message):
        PhotonicLayer(4, n_features=2, device="cuda")
    with pytest.raises(ValueError, match=message):
        QuantumTrain(QPUS, DigitsCNN(), bond_dim=2, outcomes="pnr", device="cuda")
    with pytest.raises(ValueError, match=r"^photonics\.device='cuda' but torch sees no CUDA"):
        PhotonicsSettings(device="cuda").make_backend()


def test_the_config_refuses_a_misspelt_device_before_any_task():
    with pytest.raises(ValueError, match=r"^photonics\.device='gpu' is not a torch device"):
        PhotonicsSettings(device="gpu")
    PhotonicsSettings(device="cuda")  # spelt right: whether it exists is the node's business


def test_the_default_exact_backend_follows_its_circuits():
    backend = get_backend("exact")
    assert backend.device is None and "device=None" in repr(backend)
    circuit = random_tbi(4, [1], rng=0)
    assert backend.device_for(circuit) == torch.device("cpu")
    assert get_backend("exact", device="cpu").device_for(circuit) == torch.device("cpu")


# ----------------------------------------------------------------- on a GPU
@cuda
@pytest.mark.cuda
def test_exact_backend_follows_cuda_angles_and_agrees_with_the_cpu():
    circuit = random_tbi(8, [1, 2], rng=3, batch=(5,))
    bs = circuit.bs_angles.clone().requires_grad_(True)
    gpu_bs = circuit.bs_angles.cuda().requires_grad_(True)
    ps, gpu_ps = circuit.ps_angles, circuit.ps_angles.cuda()
    backend = get_backend("exact")
    weights = torch.randn(330, dtype=torch.float64)
    patterns, probs = backend.probabilities(circuit.with_angles(bs, ps))
    gpu_patterns, gpu_probs = backend.probabilities(circuit.with_angles(gpu_bs, gpu_ps))
    assert gpu_probs.device.type == "cuda" and gpu_patterns.device.type == "cuda"
    assert torch.equal(patterns, gpu_patterns.cpu())
    torch.testing.assert_close(gpu_probs.cpu(), probs, rtol=0, atol=1e-12)
    (probs @ weights).sum().backward()
    (gpu_probs @ weights.cuda()).sum().backward()
    torch.testing.assert_close(gpu_bs.grad.cpu(), bs.grad, rtol=0, atol=1e-11)
    # a backend pinned to the CPU takes the angles there and returns its results there
    _, pinned = get_backend("exact", device="cpu").probabilities(
        circuit.with_angles(gpu_bs, gpu_ps))
    assert pinned.device.type == "cpu"
    torch.testing.assert_close(pinned, probs.detach(), rtol=0, atol=1e-12)


@cuda
@pytest.mark.cuda
def test_noisy_threshold_and_mesh_distributions_agree_on_the_gpu():
    noise = {"transmission": 0.8, "dark_count_prob": 0.01, "indistinguishability": 0.9}
    circuit = random_tbi(6, [1], rng=1, batch=(3,))
    backend = get_backend("exact", noise=noise)
    for detection in ("pnr", "threshold"):
        cpu_patterns, cpu_probs = backend.probabilities(circuit, detection)
        gpu_circuit = circuit.with_angles(circuit.bs_angles.cuda(), circuit.ps_angles.cuda())
        gpu_patterns, gpu_probs = backend.probabilities(gpu_circuit, detection)
        assert torch.equal(cpu_patterns, gpu_patterns.cpu())
        torch.testing.assert_close(gpu_probs.cpu(), cpu_probs, rtol=0, atol=1e-12)
    cells = n_mesh_cells(5)
    gen = torch.Generator().manual_seed(0)
    theta, phi = (torch.rand(2, cells, generator=gen, dtype=torch.float64) * math.pi)
    mesh = MeshCircuit((1, 1, 0, 1, 0), theta, phi)
    _, cpu_probs = get_backend("exact").probabilities(mesh)
    _, gpu_probs = get_backend("exact").probabilities(MeshCircuit((1, 1, 0, 1, 0), theta.cuda(),
                                                                   phi.cuda()))
    torch.testing.assert_close(gpu_probs.cpu(), cpu_probs, rtol=0, atol=1e-12)


def _layer_pair(**options):
    cpu = PhotonicLayer(6, loop_lengths=(1, 2), n_features=3, seed=7, **options)
    gpu = PhotonicLayer(6, loop_lengths=(1, 2), n_features=3, seed=7, device="cuda", **options)
    return cpu, gpu


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("options", [
    {"observable": "correlations"},
    {"observable": "probabilities", "phases": True, "encoding": "reupload"},
    {"observable": "mean_photons", "gradient": "multi_frequency_shift"},
])
def test_photonic_layer_on_the_gpu_gives_the_cpu_outputs_and_gradients(options):
    cpu, gpu = _layer_pair(**options)
    assert all(p.device.type == "cuda" for p in gpu.parameters())
    x = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    out, gpu_out = cpu(x), gpu(x.cuda())
    assert gpu_out.device.type == "cuda"
    torch.testing.assert_close(gpu_out.cpu(), out, rtol=0, atol=1e-12)
    out.square().sum().backward()
    gpu_out.square().sum().backward()
    for (name, p), q in zip(cpu.named_parameters(), gpu.parameters(), strict=True):
        torch.testing.assert_close(q.grad.cpu(), p.grad, rtol=0, atol=1e-10, msg=name)


@cuda
@pytest.mark.cuda
def test_photonic_layer_moves_with_to_and_samples_on_the_gpu():
    layer = PhotonicLayer(6, n_features=2, shots=200, gradient="spsa", seed=3)
    layer.to("cuda")
    x = torch.rand(5, 2, device="cuda", dtype=torch.float64, requires_grad=True)
    out = layer(x)
    assert out.device.type == "cuda" and out.shape == (5, 6)
    out.sum().backward()
    assert x.grad.device.type == "cuda" and layer.bs_angles.grad.device.type == "cuda"
    layer.cpu()
    assert layer(x.detach().cpu()).device.type == "cpu"


def _digits(n_train=256, n_test=128) -> Dataset:
    data = load_dataset("digits", 0, torch.float64)
    return Dataset(data.x_train[:n_train], data.y_train[:n_train], data.x_test[:n_test],
                   data.y_test[:n_test])


def _model(device=None) -> QuantumTrain:
    return QuantumTrain(QPUS, DigitsCNN(), bond_dim=3, outcomes="pnr",
                        generator=torch.Generator().manual_seed(5), device=device)


@cuda
@pytest.mark.cuda
def test_quantum_train_weights_and_gradients_agree_on_the_gpu():
    cpu, gpu = _model(), _model("cuda")
    assert gpu.device.type == "cuda"
    backend = get_backend("exact")
    weights = cpu.weights(cpu.distribution().exact(backend))
    gpu_weights = gpu.weights(gpu.distribution().exact(backend))
    assert gpu_weights.device.type == "cuda"
    torch.testing.assert_close(gpu_weights.cpu(), weights, rtol=0, atol=1e-10)
    probe = torch.randn(weights.shape, dtype=torch.float64)
    (weights * probe).sum().backward()
    (gpu_weights * probe.cuda()).sum().backward()
    for (name, p), q in zip(cpu.named_parameters(), gpu.parameters(), strict=True):
        torch.testing.assert_close(q.grad.cpu(), p.grad, rtol=1e-9, atol=1e-10, msg=name)


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("config", [
    TrainConfig(rounds=2, mps_epochs=1, batch_size=64, angle_method="autograd"),
    TrainConfig(rounds=1, mps_epochs=1, batch_size=64, angle_method="cobyla", angle_batch=64,
                cobyla_maxiter=12),
    TrainConfig(rounds=1, mps_epochs=1, batch_size=64, angle_method="spsa", shots=300,
                angle_batch=64),
    TrainConfig(rounds=1, mps_epochs=1, batch_size=64, inputs="published_ablation"),
    TrainConfig(rounds=1, mps_epochs=1, batch_size=64, inputs="fixed_random"),
])
def test_a_training_round_on_the_gpu_matches_the_cpu(config, tmp_path):
    data = _digits()
    histories = []
    for device in ("cpu", "cuda"):
        trainer = Trainer(_model(device), get_backend("exact"), config, data)
        histories.append(trainer.fit(seed=11, checkpoint=tmp_path / f"{device}.pt",
                                     progress=False))
    (cpu_history, gpu_history) = histories
    for cpu_round, gpu_round in zip(cpu_history, gpu_history, strict=True):
        assert gpu_round["train_loss"] == pytest.approx(cpu_round["train_loss"], rel=1e-6)
        assert gpu_round["test_accuracy"] == pytest.approx(cpu_round["test_accuracy"],
                                                           abs=1 / 128 + 1e-9)


@cuda
@pytest.mark.cuda
def test_a_gpu_checkpoint_resumes_on_the_cpu(tmp_path):
    config = TrainConfig(rounds=2, mps_epochs=1, batch_size=64, inputs="fixed_random")
    data, path = _digits(), tmp_path / "checkpoint.pt"
    straight = Trainer(_model(), get_backend("exact"), config, data).fit(seed=2, progress=False)
    first = Trainer(_model("cuda"), get_backend("exact"), replace(config, rounds=1), data)
    first.fit(seed=2, checkpoint=path, progress=False)
    state = torch.load(path, weights_only=True, map_location="cpu")
    state["config"]["rounds"] = 2  # continue the same run for one more round, on the CPU
    torch.save(state, path)
    resumed = Trainer(_model(), get_backend("exact"), config, data)
    history = resumed.fit(seed=2, checkpoint=path, progress=False)
    assert [r["round"] for r in history] == [1, 2]
    assert history[-1]["train_loss"] == pytest.approx(straight[-1]["train_loss"], rel=1e-6)


@cuda
@pytest.mark.cuda
def test_the_dqnn_study_trains_on_the_device_of_its_backend(tmp_path):
    spec = DQNNSpec(bond_dims=(2,), seeds=(0,), precision="float64",
                    train={"rounds": 1, "mps_epochs": 1, "angle_method": "autograd"})
    rows = {}
    for device in ("cpu", "cuda"):
        folder = tmp_path / device
        folder.mkdir()
        backend = RecordingBackend(get_backend("exact", device=device), None)
        context = TaskContext(seed=0, backend=backend, folder=folder, rows=[])
        rows[device] = DQNNStudy().run_task(spec, DQNNTask(2, 0), context)
    assert rows["cuda"]["curve_train_loss"] == pytest.approx(rows["cpu"]["curve_train_loss"],
                                                             rel=1e-6)
    # the exported network is a plain CPU state dict wherever it was trained
    state = torch.load(tmp_path / "cuda" / "network-chi2-seed0.pt", weights_only=True)
    assert all(v.device.type == "cpu" for v in state.values())
    assert np.isclose(rows["cuda"]["exported_accuracy"], rows["cpu"]["exported_accuracy"],
                      atol=1 / len(load_dataset("digits", 0).y_test) + 1e-9)
