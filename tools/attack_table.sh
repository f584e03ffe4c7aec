#!/usr/bin/env bash
# The CIFAR-10 attack table: `scion defend` (no defense; trap, replace, recover; the FT, FP
# and replace-without-trap baselines) on every attack, one at a time, each result appended to
# a CSV. Resumable: an attack whose rows are in the CSV is skipped (a rerun replaces a folder's
# rows), and an interrupted attack continues from its checkpoints (--resume), so the script can
# be stopped at any point and run again.
#   tools/attack_table.sh [ATTACK...]          (default: all eleven)
# Environment: SCION (binary, default .build/release/scion), RESULTS (default
# docs/results/cifar10.csv), RUNS (run folders, default runs/table), BASELINE_EPOCHS (25),
# TRAP_EPOCHS (25), REPLACE_EPOCHS (50), RECOVER_EPOCHS (20), FT_EPOCHS (20), SEED (0). Data: CIFAR-10's
# binary version in data/cifar-10-batches-bin (see README, Datasets). cl first trains an
# adversarially robust clean model (RUNS/cifar10-robust) for its PGD images, as Turner et al.
# did. Progress: RUNS/ATTACK/defend.log.
# REDO_RECOVER=TAG reruns stage 3 alone, once per TAG, on attacks already done (after a change to
# it): their other stages resume from their finished checkpoints, their rows are replaced, and
# RUNS/ATTACK/recover-TAG.done marks the rerun done, so a stopped table can be started again.
set -euo pipefail
scion=${SCION:-.build/release/scion}
results=${RESULTS:-docs/results/cifar10.csv}
runs=${RUNS:-runs/table}
attacks=("$@")
[ ${#attacks[@]} -gt 0 ] || attacks=(badnet_grid badnet_sq trojan_3x3 trojan_8x8 trojan_wm l0_inv l2_inv blend smooth sig cl)
mkdir -p "$runs" "$(dirname "$results")"
for attack in "${attacks[@]}"; do
    out="$runs/cifar10-$attack"
    redo=${REDO_RECOVER:+$out/recover-$REDO_RECOVER.done}
    if [ -f "$results" ] && grep -q ",fp,.*,$out\$" "$results"; then
        if [ -z "$redo" ] || [ -f "$redo" ]; then echo "$attack: done (in $results)"; continue; fi
        rm -f "$out"/recover*.ckpt.h5 "$out"/recover_round*.h5 "$out"/recover*.jsonl "$out/recovered.h5"
    fi
    echo "$attack: running, log $out/defend.log ($(date -u +%H:%M))"
    mkdir -p "$out"
    extra=()
    if [ "$attack" = cl ]; then
        # Clean-label: PGD images against a robust model trained on clean data (FGSM adversarial
        # training at 8/255), trained once here.
        clean="$runs/cifar10-robust"
        if [ ! -f "$clean/undefended.h5" ]; then
            "$scion" train --ds cifar10 --pattern none -e "${BASELINE_EPOCHS:-25}" --seed "${SEED:-0}" --resume --quiet \
                --adversarial-epsilon 8 --out "$clean" >> "$out/defend.log" 2>&1
        fi
        extra=(--cl-model "$clean/undefended.h5")
    fi
    "$scion" defend --ds cifar10 --pattern "$attack" --target 0 --triggered_ratio 0.1 --ratio_holdout 0.05 \
        --baseline-epochs "${BASELINE_EPOCHS:-25}" --trap-epochs "${TRAP_EPOCHS:-25}" \
        --replace-epochs "${REPLACE_EPOCHS:-50}" --recover-epochs "${RECOVER_EPOCHS:-20}" --ft-epochs "${FT_EPOCHS:-20}" \
        --method tr --method ft --method fp --method replace-without-trap --seed "${SEED:-0}" \
        --resume --quiet --out "$out" --results "$results" "${extra[@]}" >> "$out/defend.log" 2>&1
    [ -z "$redo" ] || touch "$redo"
    tail -n 4 "$out/defend.log"
done
