#!/usr/bin/env bash
# Trap-and-Replace on CIFAR-10 with WRN-16-1 on the reduced schedule of
# ../shared/reference/anchor-results.md: no defense and stage 1 for 15 epochs, stage 2 for 50.
#   tools/cifar10_reduced.sh [PATTERN] [extra flags for every stage]
# Results: runs/cifar10-PATTERN/{report.md,report.json,curves.png,*.jsonl,sanitized.h5}.
# SCION=path/to/scion picks the binary (default .build/release/scion).
set -euo pipefail
pattern=${1:-badnet_grid}
shift || true
scion=${SCION:-.build/release/scion}
out=runs/cifar10-$pattern
common=(--ds cifar10 --pattern "$pattern" --target 0 --triggered_ratio 0.1 --ratio_holdout 0.05 --out "$out" "$@")
mkdir -p "$out"
"$scion" train "${common[@]}" -e 15
"$scion" trap "${common[@]}" -e 15
"$scion" replace "${common[@]}" -e 50
"$scion" eval "$out/sanitized.h5" --ds cifar10 --pattern "$pattern" --target 0 "$@"
cat "$out/report.md"
