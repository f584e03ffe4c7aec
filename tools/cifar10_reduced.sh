#!/usr/bin/env bash
# Trap-and-Replace on CIFAR-10 with WRN-16-1 on the reduced schedule of
# ../shared/reference/anchor-results.md: no defense and stage 1 for 15 epochs, stage 2 for 50.
#   tools/cifar10_reduced.sh [PATTERN] [extra flags for every stage]
# Results: runs/cifar10-PATTERN/{report.md,report.json,curves.png,*.jsonl,sanitized.h5}.
# SCION=path/to/scion picks the binary (default .build/release/scion); STAGE1_EPOCHS (no defense
# and stage 1, default 15), STAGE2_EPOCHS (default 50) and OUT (the run folder) change the
# schedule, e.g. STAGE1_EPOCHS=25 OUT=runs/cifar10-badnet_grid-25 tools/cifar10_reduced.sh.
set -euo pipefail
pattern=${1:-badnet_grid}
shift || true
scion=${SCION:-.build/release/scion}
out=${OUT:-runs/cifar10-$pattern}
stage1=${STAGE1_EPOCHS:-15}
stage2=${STAGE2_EPOCHS:-50}
common=(--ds cifar10 --pattern "$pattern" --target 0 --triggered_ratio 0.1 --ratio_holdout 0.05 --out "$out" "$@")
mkdir -p "$out"
"$scion" train "${common[@]}" -e "$stage1"
"$scion" trap "${common[@]}" -e "$stage1"
"$scion" replace "${common[@]}" -e "$stage2"
"$scion" eval "$out/sanitized.h5" --ds cifar10 --pattern "$pattern" --target 0 "$@"
cat "$out/report.md"
