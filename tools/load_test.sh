#!/usr/bin/env bash
# Load test of `scion serve` with the defended WRN-16-1, REST JSON against gRPC raw tensors in
# one run: throughput, p50/p99 latency and the server's CPU time per request, at each
# concurrency (closed-loop clients, one FP32 sample per request, keep-alive), ROUNDS rounds
# interleaved so both protocols see the same machine.
#   tools/load_test.sh [MODEL.h5] [extra `scion serve` flags, e.g. --threads 1]
# MODEL defaults to the ready defended CIFAR-10 WRN-16-1 in Models/.
# Writes runs/load/{rest,grpc}-ROUND.json and runs/load/summary.txt. The client runs on the
# same machine as the server and takes CPU from it, so figures are a lower bound on a small box;
# the server's CPU per request (from /proc, Linux) is what the protocol itself costs.
set -euo pipefail
scion=${SCION:-.build/release/scion}
model=${1:-Models/cifar10-wrn16-1-badnet_sq-defended.h5}
shift || true
port=${PORT:-18080}
grpc_port=${GRPC_PORT:-18081}
levels=${CONCURRENCY:-1,16,64}
rounds=${ROUNDS:-3}
mkdir -p runs/load
"$scion" serve "wrn16-1=$model" --port "$port" --grpc-port "$grpc_port" --log-level warning "$@" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break
    sleep 0.2
done
# utime + stime of the server, in clock ticks.
server_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
ticks_per_second=$(getconf CLK_TCK)

: >runs/load/summary.txt
for round in $(seq "$rounds"); do
    for protocol in rest grpc; do
        extra=()
        [ "$protocol" = grpc ] && extra=(--grpc "127.0.0.1:$grpc_port")
        before=$(server_ticks)
        "$scion" load --url "http://127.0.0.1:$port" --model wrn16-1 --concurrency "$levels" \
            --seconds "${SECONDS_PER_LEVEL:-10}" "${extra[@]}" --json "runs/load/$protocol-$round.json" >/dev/null
        after=$(server_ticks)
        # Each level also has one second of warm-up, counted at the measured rate.
        python3 - "runs/load/$protocol-$round.json" "$protocol" "$round" "$((after - before))" "$ticks_per_second" \
            <<'EOF' | tee -a runs/load/summary.txt
import json, sys
path, protocol, round_, ticks, hz = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
levels = json.load(open(path))["levels"]
requests = sum(l["requests_per_second"] * (l["seconds"] + 1) for l in levels)
cpu_ms = 1000 * ticks / hz / requests
for l in levels:
    print(f"round {round_} {protocol:4} c={l['concurrency']:3} {l['requests_per_second']:8.1f} req/s "
          f"p50 {l['p50_milliseconds']:6.2f} ms p99 {l['p99_milliseconds']:6.2f} ms errors {l['errors']}")
print(f"round {round_} {protocol:4} server CPU {cpu_ms:.3f} core-ms per request (all levels)")
EOF
    done
done
