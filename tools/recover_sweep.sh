#!/usr/bin/env bash
# Stage 3 variants on one finished run folder: each variant runs `scion recover` on copies of
# the folder's trapped.h5 and sanitized.h5 (same data, same split seed), one at a time, and
# appends a line to a CSV. Resumable: a variant whose line is in the CSV is skipped.
#   tools/recover_sweep.sh RUN_FOLDER PATTERN NAME "FLAGS" [NAME "FLAGS" ...]
#   e.g. tools/recover_sweep.sh runs/table/cifar10-blend blend r1 "-e 20 --rounds 1" lr3 "-e 20 --lr 3e-4"
# Environment: SCION (binary, default .build/release/scion), DS (default cifar10), TARGET (0),
# OUT (variant folders, default RUN_FOLDER/sweep), CSV (default OUT/sweep.csv).
set -euo pipefail
scion=${SCION:-.build/release/scion}
run=$1 pattern=$2; shift 2
out=${OUT:-$run/sweep}
csv=${CSV:-$out/sweep.csv}
mkdir -p "$out"
[ -f "$csv" ] || echo "variant,flags,acc,asr,ra,clean_to_target,detection_tpr,detection_fpr,seconds" > "$csv"
while [ $# -ge 2 ]; do
    name=$1 flags=$2; shift 2
    if grep -q "^$name," "$csv"; then echo "$name: done"; continue; fi
    folder="$out/$name"
    mkdir -p "$folder"
    echo "$name: $flags ($(date -u +%H:%M))"
    # shellcheck disable=SC2086
    "$scion" recover --ds "${DS:-cifar10}" --pattern "$pattern" --target "${TARGET:-0}" --out "$folder" \
        --stage1 "$run/trapped.h5" --stage2 "$run/sanitized.h5" --resume --quiet $flags > "$folder/recover.log" 2>&1
    python3 - "$folder/report.json" "$name" "$flags" >> "$csv" <<'EOF'
import json, sys
report, name, flags = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
s = next(v for v in report["stages"].values() if v.get("model") == "recovered.h5")
d = s.get("detection") or {}
cells = [s.get("acc"), s.get("asr"), s.get("ra"), s.get("clean_to_target"), d.get("tpr"), d.get("fpr"), s.get("seconds")]
print(",".join([name, '"' + flags + '"'] + ["" if c is None else "%.4f" % c for c in cells]))
EOF
    tail -n 1 "$csv"
done
