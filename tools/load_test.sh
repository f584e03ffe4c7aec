#!/usr/bin/env bash
# Load test of `scion serve` with the defended WRN-16-1: throughput and p50/p99 latency at
# concurrency 1, 16 and 64 (closed-loop clients, one FP32 sample per request, keep-alive).
#   tools/load_test.sh [MODEL.h5] [extra `scion serve` flags]
# MODEL defaults to the ready defended CIFAR-10 WRN-16-1 in Models/.
# Writes runs/load/load.json and runs/load/load.txt. The client runs on the same machine as
# the server and takes CPU from it, so figures are a lower bound on a 2-core box.
set -euo pipefail
scion=${SCION:-.build/release/scion}
model=${1:-Models/cifar10-wrn16-1-badnet_grid-defended.h5}
shift || true
port=${PORT:-18080}
mkdir -p runs/load
"$scion" serve "wrn16-1=$model" --port "$port" --log-level warning "$@" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break
    sleep 0.2
done
"$scion" load --url "http://127.0.0.1:$port" --model wrn16-1 --concurrency 1,16,64 --seconds "${SECONDS_PER_LEVEL:-10}" \
    --json runs/load/load.json | tee runs/load/load.txt
