#!/usr/bin/env bash
# The GPU checks in one go, on a machine with a CUDA build of torch: the CUDA tests, then the
# photonics and Quantum-Train benchmarks with our backend on the GPU (Perceval, the peer, on
# the CPU beside it) and the Quantum-Train benchmark on one CPU core of the same machine.
# Logs and JSON go to the folder given (default benchmarks/gpu-results). Needs the project
# installed (pip install -e .), as the README's GPU section says.
#
#   bash benchmarks/gpu.sh [OUT]      # about 5 minutes on an H200 host
set -o pipefail
out=${1:-benchmarks/gpu-results}
py=${PYTHON:-python3}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
step() {  # step NAME SECONDS COMMAND...: run, keep the log, go on whatever happens
    local name=$1 limit=$2
    shift 2
    echo "=== $name ($(date -u +%T))"
    timeout "$limit" "$@" 2>&1 | tee "$out/$name.log"
    echo "=== $name: exit ${PIPESTATUS[0]}"
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
"$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda,
          torch.cuda.get_device_name())" | tee -a "$out/gpu.txt"
step cuda-tests 150 "$py" -m pytest -q -p no:cacheprovider -m cuda \
    tests/test_devices.py tests/photonics/test_exact.py
step photonics-cuda 200 "$py" benchmarks/photonics.py --device cuda --sections 123 \
    --json "$out/photonics-cuda.json"
step dqnn-smoke-cuda 120 "$py" -m qnn.cli run dqnn with smoke photonics.device=cuda
step qtrain-cuda 100 "$py" benchmarks/qtrain.py --quick --steps 4 --device cuda \
    --json "$out/qtrain-cuda.json"
step qtrain-cpu1 80 env OMP_NUM_THREADS=1 "$py" benchmarks/qtrain.py --quick --steps 4 \
    --threads 1 \
    --json "$out/qtrain-cpu1.json"
