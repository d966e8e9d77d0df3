"""Distributed quantum neural network (Quantum-Train): photonic QPUs generate a CNN's weights."""

from __future__ import annotations

from qnn.qtrain.study import DQNNStudy
from qnn_experiments.ingredients import new_experiment

study = DQNNStudy()
ex = new_experiment(study)

# TBIs of arXiv 2505.08474's sizes: 9 and 8 modes with 4 photons, loops [1, 2] (126 x 70
# no-bunching outcomes = 8,820 >= the 6,690 weights of its CNN). Not its circuits: those are
# general meshes with other inputs (PUBLISHED_MESHES); a PT system is a TBI.
PUBLISHED_QPUS = [{"input_state": [1, 0, 1, 0, 1, 0, 1, 0, 0], "loop_lengths": [1, 2]},
                  {"input_state": [1, 0, 1, 0, 1, 0, 1, 0], "loop_lengths": [1, 2]}]
# arXiv 2505.08474's circuits: general interferometers of 9 and 8 modes, inputs
# |1,0,1,0,0,1,0,0,1> and |1,0,1,0,1,0,0,1>, here as universal Clements meshes
PUBLISHED_MESHES = [{"input_state": [1, 0, 1, 0, 0, 1, 0, 0, 1], "circuit": "mesh"},
                    {"input_state": [1, 0, 1, 0, 1, 0, 0, 1], "circuit": "mesh"}]


@ex.config
def config():
    label = "default"  # which named config produced the run (figures select runs by it)
    dataset = "digits"  # digits | mnist_published (6,000 / 600) | mnist_full
    target = "digits"  # digits | paper (6,690 weights) | hardware (7,908 weights)
    qpus = [  # one TBI per QPU; angles are trained
        {"input_state": [1, 0, 1, 0, 1, 0], "loop_lengths": [1]},
        {"input_state": [1, 0, 1, 0, 1], "loop_lengths": [1, 2]},
    ]
    outcomes = "pnr"  # pnr | no_bunching | threshold
    scaling = "mean"  # mean (published photonic code) | qt (QT's original map)
    bond_dims = [4]  # MPS bond dimensions χ, one task each
    seeds = [0]  # independent trainings per χ
    # Every TrainConfig field (qnn.qtrain.train documents them), so named configs and
    # command-line updates only change values and config.json records them all.
    train = {"rounds": 20, "mps_epochs": 2, "batch_size": 64, "lr_mps": 1e-3,
             "angle_method": "autograd", "lr_angles": 0.01, "shots": None,
             "angle_batch": 1000, "difference_step": 0.1, "spsa_c": 0.1, "cobyla_maxiter": 20,
             "cobyla_rhobeg": 0.5, "inputs": "photonic"}
    precision = "float32"  # the CNN's arithmetic (float32 | float64); the MPS is float64
    noise_levels = []  # NoiseModel dicts: one set of tasks per level on the exact backend
    inputs = []  # TrainConfig.inputs modes, one set of tasks each (empty: train.inputs alone)
    baselines = False  # True: train the classical comparisons instead (at each χ's count)
    baseline_epochs = 50  # epochs of the classical CNN (published baseline: 50, Adam 1e-3)
    # the count that sizes the compressions: ours (the model's trained parameters) | paper
    # (the published 31χ² + 192; qnn.qtrain.study.paper_parameter_count)
    baseline_counts = "ours"


@ex.named_config
def smoke():
    # Well under a minute on a CPU: 8x8 digits, a small χ, eight short rounds.
    label = "smoke"
    bond_dims = [3]
    train = {"rounds": 8, "mps_epochs": 2, "batch_size": 64, "lr_mps": 1e-3,
             "angle_method": "autograd"}


@ex.named_config
def paper_chi_sweep():
    # arXiv 2505.08474's regime: 6,000 / 600 MNIST images, the 6,690-weight CNN, QPUs of
    # 9 and 8 modes with 4 photons (126 x 70 no-bunching outcomes = 8,820 >= 6,690), rounds of
    # 5 MPS epochs (Adam 1e-3, batch 128) and one COBYLA call on 1,000 images, 200 rounds.
    label = "paper_chi_sweep"
    dataset = "mnist_published"
    target = "paper"
    qpus = PUBLISHED_QPUS
    outcomes = "no_bunching"
    bond_dims = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    seeds = [0, 1, 2, 3]
    train = {"rounds": 200, "mps_epochs": 5, "batch_size": 128, "lr_mps": 1e-3,
             "angle_method": "cobyla", "angle_batch": 1000}


@ex.named_config
def paper_meshes():
    # paper_chi_sweep with the published circuits (PUBLISHED_MESHES: 72 + 56 trained mesh
    # parameters) instead of TBIs; the exact backend only (a PT system is a TBI).
    label = "paper_meshes"
    qpus = PUBLISHED_MESHES


@ex.named_config
def published_cobyla():
    # The published code's angle training: COBYLA with 1,000 loss evaluations per round and
    # an initial step of 1.0 (ours by default: 20 and 0.5). Combine: with paper_chi_sweep
    # published_cobyla.
    train = {"cobyla_maxiter": 1000, "cobyla_rhobeg": 1.0}


@ex.named_config
def hardware_14():
    # The seed's hardware run: two PT systems of 8 modes, 4 photons, loop [1] (7 angles each,
    # 14 circuit parameters) generating the 7,908-weight network; sampled vectors (5,000
    # shots) and SPSA on the angles. Through a QPU pool (ORCA_ACCESS_URL, ORCA_AUTH_TOKEN, e.g.
    # two `qnn emulator --noise ...`); add photonics.backend=exact for noiseless simulation.
    label = "hardware_14"
    dataset = "mnist_published"
    target = "hardware"
    qpus = [{"input_state": [1, 0, 1, 0, 1, 0, 1, 0], "loop_lengths": [1]},
            {"input_state": [1, 0, 1, 0, 1, 0, 1, 0], "loop_lengths": [1]}]
    outcomes = "pnr"  # 330 x 330 outcomes cover 7,908 weights; no-bunching's 70 x 70 do not
    bond_dims = [10]
    train = {"rounds": 200, "mps_epochs": 5, "batch_size": 128, "lr_mps": 1e-3,
             "angle_method": "spsa", "shots": 5000, "angle_batch": 1000}
    photonics = {"backend": "pool"}


@ex.named_config
def ablation_random():
    # paper_chi_sweep's regime at χ=10 with the photonic vectors replaced by uniform random
    # numbers (normalised), drawn anew at every MPS step and every evaluation; each weight's
    # index bits are kept, so the MPS can still build the weights from the bits alone. This
    # is NOT the published code's ablation, which replaces the bits too (see `ablations`,
    # train.inputs="published_ablation"). Angles unused.
    label = "ablation_random"
    dataset = "mnist_published"
    target = "paper"
    qpus = PUBLISHED_QPUS
    outcomes = "no_bunching"
    bond_dims = [10]
    seeds = [0, 1, 2]
    train = {"rounds": 200, "mps_epochs": 5, "batch_size": 128, "lr_mps": 1e-3,
             "angle_method": "frozen", "inputs": "random_values"}


@ex.named_config
def ablations():
    # Which part of the MPS's features [index bits of weight j, value j] carries the
    # accuracy, at paper_chi_sweep's regime and χ = 1, 2, 4, 10 (the published ablation's
    # χ = 1, 4, 10, and 2): every χ, seed and input mode (qnn.qtrain.train.TrainConfig
    # documents them) is a task with the same data split, MPS initialisation and seed, so
    # the modes compare pairwise. "published_ablation" is the published code's ablation,
    # which replaces the bits as well as the values, so its chance accuracy (published:
    # 10.83%, 10.33%, 8.17% at χ = 1, 4, 10) says nothing about the photonic values;
    # "bits_only" and "random_values" are the fair tests of them. COBYLA trains the
    # photonic tasks' angles; the ablations ignore angle_method (no circuit is used).
    label = "ablations"
    dataset = "mnist_published"
    target = "paper"
    qpus = PUBLISHED_QPUS
    outcomes = "no_bunching"
    bond_dims = [1, 2, 4, 10]
    seeds = [0, 1, 2]
    inputs = ["photonic", "random_values", "published_ablation", "bits_only", "fixed_random"]
    train = {"rounds": 200, "mps_epochs": 5, "batch_size": 128, "lr_mps": 1e-3,
             "angle_method": "cobyla", "angle_batch": 1000}


@ex.named_config
def noise_sweep():
    # Accuracy vs photon loss, distinguishability and dark counts (exact noisy distributions),
    # on digits at χ=6 (about 86% noiseless; half a minute a task). On exact PNR vectors
    # uniform loss multiplies every N-photon outcome by η^N, and dark counts without loss
    # by (1-p)^M: the mean scaling divides both out, so those levels are null controls
    # (qnn.qtrain.study.null_on_exact_vectors); only distinguishability acts here. The
    # sampled sweep (noise_sweep_sampled) is where loss and dark counts cost accuracy.
    label = "noise_sweep"
    bond_dims = [6]
    seeds = [0, 1, 2]
    train = {"mps_epochs": 5}
    noise_levels = [{}, {"transmission": 0.9}, {"transmission": 0.7}, {"transmission": 0.5},
                    {"indistinguishability": 0.9}, {"indistinguishability": 0.7},
                    {"dark_count_prob": 0.01}, {"dark_count_prob": 0.05}]


@ex.named_config
def noise_sweep_sampled():
    # noise_sweep on SAMPLED vectors at a fixed raw shot count: every level draws 1,000
    # shots per QPU vector, and only shots on the outcome list (N photons, no dark count)
    # count, so loss keeps about η^N of them (η=0.5, N=3: 125) and dark counts (1-p)^M:
    # the post-selected vector gets noisier though the mean scaling still divides out the
    # exact factor. Angles by SPSA as on hardware (autograd needs exact vectors); vectors
    # are redrawn every round and every evaluation. The last level combines loss and dark
    # counts, where a dark count takes a lost photon's place (not null even on exact ones).
    label = "noise_sweep_sampled"
    bond_dims = [6]
    seeds = [0, 1, 2]
    train = {"mps_epochs": 5, "angle_method": "spsa", "shots": 1000}
    noise_levels = [{}, {"transmission": 0.9}, {"transmission": 0.7}, {"transmission": 0.5},
                    {"indistinguishability": 0.9}, {"indistinguishability": 0.7},
                    {"dark_count_prob": 0.01}, {"dark_count_prob": 0.05},
                    {"transmission": 0.7, "dark_count_prob": 0.05}]


@ex.named_config
def paper_counts():
    # Size the compressions at arXiv 2505.08474's published counts, 31χ² + 192 (223 ...
    # 3,292 for χ = 1..10), instead of ours (the MPS's 2χ²(n-2) + 4χ with n = 14 plus the
    # circuits' angles: 56 ... 2,468 with PUBLISHED_QPUS' 28 TBI angles). Combine: with
    # baselines paper_counts.
    label = "paper_counts"
    baseline_counts = "paper"


@ex.named_config
def baselines():
    # The classical CNN (50 epochs, Adam 1e-3, batch 128) and classical compression with the
    # trained-parameter counts of paper_chi_sweep's models: weight sharing, magnitude pruning.
    label = "baselines"
    dataset = "mnist_published"
    target = "paper"
    qpus = PUBLISHED_QPUS
    outcomes = "no_bunching"
    bond_dims = [1, 2, 4, 6, 8, 10]
    seeds = [0, 1, 2]
    train = {"batch_size": 128, "lr_mps": 1e-3}
    baselines = True
