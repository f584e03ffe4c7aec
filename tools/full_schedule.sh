#!/usr/bin/env bash
# Times the paper's official schedule end to end: Trap-and-Replace on CIFAR-10 with WRN-16-1,
# stage 1 (trap) 200 epochs and stage 2 (replace) 100, the reference's defaults otherwise
# (badnet_grid, target 0, 10 % poisoned, 5 % holdout), loading and evaluation included.
#   tools/full_schedule.sh [extra flags for both stages, e.g. --precision bf16]
# Resumable: run it again after a stop. Each process's wall time goes to OUT/timing.jsonl as it
# ends; a process that was stopped is counted from its start to its last checkpoint (the epochs
# after it are redone, and timed, by the next run), so the parts add up to one uninterrupted
# run. OUT/timing.json has the sum. Environment: SCION (binary, default .build/release/scion),
# OUT (default runs/full-schedule), PATTERN (badnet_grid), TRAP_EPOCHS (200), REPLACE_EPOCHS (100).
set -euo pipefail
scion=${SCION:-.build/release/scion}
out=${OUT:-runs/full-schedule}
common=(--ds cifar10 --pattern "${PATTERN:-badnet_grid}" --target 0 --triggered_ratio 0.1 --ratio_holdout 0.05
    --out "$out" --resume --quiet "$@")
mkdir -p "$out"
log="$out/timing.jsonl"

# A start recorded without its end: that process was stopped; count it up to its last checkpoint.
settle() {
    local stage=$1 pending="$out/$1.started"
    [ -f "$pending" ] || return 0
    local start checkpoint end
    start=$(cat "$pending")
    checkpoint="$out/$stage.ckpt.h5"
    end=$start
    [ -f "$checkpoint" ] && end=$(stat -c %Y "$checkpoint")
    [ "$end" -ge "$start" ] || end=$start
    echo "{\"stage\": \"$stage\", \"seconds\": $((end - start)), \"stopped\": true}" >> "$log"
    rm -f "$pending"
}

run() {
    local stage=$1 model=$2 epochs=$3
    settle "$stage"
    if [ -f "$out/$model" ]; then echo "$stage: done ($out/$model)"; return 0; fi
    echo "$stage: $epochs epochs, log $out/$stage.jsonl ($(date -u +%H:%M))"
    local start end
    start=$(date +%s)
    echo "$start" > "$out/$stage.started"
    "$scion" "$stage" "${common[@]}" -e "$epochs"
    end=$(date +%s)
    echo "{\"stage\": \"$stage\", \"seconds\": $((end - start)), \"stopped\": false}" >> "$log"
    rm -f "$out/$stage.started"
}

run trap trapped.h5 "${TRAP_EPOCHS:-200}"
run replace sanitized.h5 "${REPLACE_EPOCHS:-100}"
python3 - "$log" "$out/timing.json" "$*" <<'EOF'
import json, sys
parts = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
total = sum(p["seconds"] for p in parts)
by_stage = {}
for p in parts:
    by_stage[p["stage"]] = by_stage.get(p["stage"], 0) + p["seconds"]
summary = {"total_seconds": total, "hours": round(total / 3600, 3), "stages": by_stage,
           "processes": len(parts), "flags": sys.argv[3]}
with open(sys.argv[2] + ".tmp", "w") as f:
    json.dump(summary, f, indent=2)
import os
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
print(f"official schedule: {total} s ({total / 3600:.2f} h) over {len(parts)} processes; " +
      ", ".join(f"{k} {v} s" for k, v in by_stage.items()))
EOF
