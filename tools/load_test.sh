#!/usr/bin/env bash
# Load test of `scion serve` with the sanitized WRN-16-1: throughput and p50/p99 latency at
# concurrency 1, 16 and 64 (closed-loop clients, one FP32 sample per request, keep-alive).
#   tools/load_test.sh [MODEL.h5] [extra `scion serve` flags]
# MODEL defaults to the CIFAR-10 run's sanitized.h5 (tools/cifar10_reduced.sh); without it a
# sanitized WRN-16-1 is made with a one-epoch stage 2 (speed does not depend on the weights).
# Writes runs/load/load.json and runs/load/load.txt. The client runs on the same machine as
# the server and takes CPU from it, so figures are a lower bound on a 2-core box.
set -euo pipefail
scion=${SCION:-.build/release/scion}
model=${1:-runs/cifar10-badnet_grid/sanitized.h5}
shift || true
port=${PORT:-18080}
mkdir -p runs/load
if [ ! -f "$model" ]; then
    out=runs/load/model
    mkdir -p "$out"
    "$scion" init --arch wrn16-1 --classes 10 --input 3x32x32 --decoder -o "$out/trapped.h5"
    "$scion" replace --ds cifar10 --limit 1000 -e 1 -b 16 --out "$out" --quiet
    model=$out/sanitized.h5
fi
"$scion" serve "wrn16-1=$model" --port "$port" --log-level warning "$@" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break
    sleep 0.2
done
"$scion" load --url "http://127.0.0.1:$port" --model wrn16-1 --concurrency 1,16,64 --seconds "${SECONDS_PER_LEVEL:-10}" \
    --json runs/load/load.json | tee runs/load/load.txt
