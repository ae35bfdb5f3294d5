#!/usr/bin/env bash
# The whole suite N times in a row (default 3) beside two busy processes, as issue 19's proof asks:
# each run's wall time and result; stops at the first failing run. Logs: $OUT (default /tmp).
#   bash scripts/loaded_suite.sh [N]
# As a float32-only AVX2 CPU computes (issue 25), on any newer x86 CPU:
#   FER_STUDIO_NO_BF16=1 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash scripts/loaded_suite.sh 1
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N="${1:-3}"
OUT="${OUT:-/tmp}"
yes >/dev/null & Y1=$!
yes >/dev/null & Y2=$!
trap 'kill $Y1 $Y2 2>/dev/null' EXIT
for i in $(seq 1 "$N"); do
    start=$(date +%s)
    log="$OUT/loaded-suite-$i.log"
    bash .ci/run >"$log" 2>&1
    rc=$?
    echo "run $i: rc=$rc wall=$(( $(date +%s) - start ))s commit=$(git rev-parse --short HEAD) $(tail -2 "$log" | head -1)"
    if [ "$rc" -ne 0 ]; then exit "$rc"; fi
done
