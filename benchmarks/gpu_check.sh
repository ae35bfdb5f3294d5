#!/usr/bin/env bash
# Issue 7's GPU figures in one prepared command, sized for a short lease of a GPU machine
# (one H200, estimated: machine start 1-2 min, throughput ~5 min, resnet18-48 ~2-4 min).
#
# Here, once, beside ../shared/data:   bash benchmarks/gpu_check.sh pack
#     packs FER2013's train/test JPEGs into .gpu_data/fer2013.tar.gz (46 MB, git-ignored)
# There, from the repository root:     bash benchmarks/gpu_check.sh [STAGE...]
#     env         GPU, torch, AMP dtype, and the CUDA tests (training; batches kept on the host;
#                 augmentation on CPU vs GPU)
#     throughput  benchmarks/throughput.py: every model, plain and amp+cl (2 rounds of ~2 s timings),
#                 then resnet18_48 with torch.compile (one round: each fit compiles anew), then
#                 benchmarks/step_overhead.py (fit's own host time per step, about a minute)
#     accuracy    benchmarks/accuracy.py resnet18-48 (FER2013 PrivateTest, target >= 73%)
#     ensemble    benchmarks/accuracy.py ensemble (trains its three members: the longest stage)
#   default: env throughput accuracy
#
# FER2013 comes from $FER_SHARED_DATA, else ../shared/data, else .gpu_data/fer2013.tar.gz
# (unpacked to /tmp). Each stage's output goes to $OUT/<stage>.log and the accuracy figures to
# $OUT/<preset>.json (./gpu_check_out without $OUT: few small files, as a lease returns them);
# runs (with their checkpoints) to $FER_STUDIO_RUNS, default /tmp/fer-runs. THROUGHPUT_ARGS /
# ACCURACY_ARGS add options to those scripts, and STAGE_TIMEOUT (seconds, default 540) bounds
# each command so the log of a stage that overran still comes back.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PACK="$ROOT/.gpu_data/fer2013.tar.gz"

if [ "${1:-}" = "pack" ]; then
    src="${FER_SHARED_DATA:-$ROOT/../shared/data}"
    [ -d "$src/fer2013/train" ] || { echo "no FER2013 at $src/fer2013" >&2; exit 2; }
    mkdir -p "$(dirname "$PACK")"
    tar -C "$src" -czf "$PACK" fer2013/train fer2013/test
    ls -l "$PACK"
    exit 0
fi

PY="${PYTHON:-python3}"
OUT="${OUT:-$ROOT/gpu_check_out}"
mkdir -p "$OUT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export FER_STUDIO_RUNS="${FER_STUDIO_RUNS:-/tmp/fer-runs}"
if [ -z "${FER_SHARED_DATA:-}" ] && [ ! -d "$ROOT/../shared/data/fer2013/train" ]; then
    [ -f "$PACK" ] || { echo "no FER2013: set FER_SHARED_DATA or run 'gpu_check.sh pack' first" >&2; exit 2; }
    mkdir -p /tmp/fer-data && tar -C /tmp/fer-data -xzf "$PACK"
    export FER_SHARED_DATA=/tmp/fer-data
fi

step() {  # log, command...: one command with a time limit, its output to the console and $OUT/log
    local log=$1; shift
    echo "== $*" | tee -a "$OUT/$log.log"
    timeout "${STAGE_TIMEOUT:-540}" "$@" 2>&1 | tee -a "$OUT/$log.log"
    local rc=${PIPESTATUS[0]}
    [ "$rc" = 0 ] || echo "== exit code $rc (124: over STAGE_TIMEOUT)" | tee -a "$OUT/$log.log"
}

read -r -a T_ARGS <<< "${THROUGHPUT_ARGS:-}"
read -r -a A_ARGS <<< "${ACCURACY_ARGS:-}"
for s in "${@:-env throughput accuracy}"; do
    for name in $s; do
        case "$name" in
            env)
                step env nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
                step env "$PY" -c "import torch, timm; from fer_engine.training.precision import amp_dtype; d = torch.device('cuda'); print('torch', torch.__version__, 'timm', timm.__version__, torch.cuda.get_device_name(d), 'capability', torch.cuda.get_device_capability(d), 'AMP dtype', amp_dtype(d, True))"
                step env "$PY" -m pytest -q -p no:cacheprovider tests/training/test_fit.py tests/training/test_batches.py tests/recipe -k cuda ;;
            throughput)
                step throughput "$PY" benchmarks/throughput.py --rounds 2 --seconds 2 "${T_ARGS[@]}"
                step throughput "$PY" benchmarks/throughput.py --models resnet18_48 \
                    --variants amp+cl+compile --rounds 1 --seconds 2 "${T_ARGS[@]}"
                step throughput "$PY" benchmarks/step_overhead.py --rounds 5 ;;
            accuracy)
                step accuracy "$PY" benchmarks/accuracy.py resnet18-48 --json "$OUT/resnet18-48.json" "${A_ARGS[@]}" ;;
            ensemble)
                step ensemble "$PY" benchmarks/accuracy.py ensemble --json "$OUT/ensemble.json" "${A_ARGS[@]}" ;;
            *)
                echo "unknown stage $name (env, throughput, accuracy, ensemble, or pack)" >&2; exit 2 ;;
        esac
    done
done
