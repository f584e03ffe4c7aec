#!/usr/bin/env bash
# Data-parallel training under mpirun, checked (issue 18's correctness points), on this machine:
#   1. scion-mpi-check: after training, every rank holds parameters of the same content hash,
#      and two ranks at half the batch equal one process at the whole batch (a network without
#      BatchNorm or dropout) within 1e-5.
#   2. `mpirun -np 2 scion train` killed (one rank, kill -9) after its second epoch's checkpoint,
#      then run again with --resume, ends with the same parameters as an uninterrupted run.
#   3. `mpirun -np 2 scion defend` runs every stage (trap, replace, recover's rounds with a frozen
#      stem, a baseline) and rank 0 writes the models, with the world size in their lineage.
# Needs the MPI build (`make mpi`) and h5py. Exit status 0 when both hold.
set -euo pipefail
scion=${SCION:-.build/release/scion}
check=${MPI_CHECK:-.build/release/scion-mpi-check}
mpirun=(mpirun --allow-run-as-root --oversubscribe -np 2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "1. ranks agree and equal one process"
"${mpirun[@]}" "$check"

echo "2. kill one rank, resume from rank 0's checkpoint"
train=(train --ds fashion-mnist --pattern badnet_grid --target 0 --limit 4000 -e 4 --threads 1 --quiet)
"${mpirun[@]}" "$scion" "${train[@]}" --out "$work/straight"
"${mpirun[@]}" "$scion" "${train[@]}" --out "$work/killed" &
job=$!
# Wait for the second epoch's line in the log (rank 0 writes it after the checkpoint).
for _ in $(seq 600); do
    [ -f "$work/killed/train.jsonl" ] && [ "$(wc -l <"$work/killed/train.jsonl")" -ge 2 ] && break
    sleep 0.1
done
victim=$(pgrep -f -n "scion train .*$work/killed") || { echo "no rank to kill"; exit 1; }
kill -9 "$victim"
if wait "$job"; then echo "the run went on after a rank was killed"; exit 1; fi
[ ! -f "$work/killed/undefended.h5" ] || { echo "the killed run finished anyway (too fast to interrupt)"; exit 1; }
# A resumed run keeps the epochs it did not redo (with their timings); a restart rewrites them.
before=$(head -n 2 "$work/killed/train.jsonl")
"${mpirun[@]}" "$scion" "${train[@]}" --out "$work/killed" --resume
[ "$(head -n 2 "$work/killed/train.jsonl")" = "$before" ] || { echo "the run restarted instead of resuming"; exit 1; }
python3 - "$work/straight/undefended.h5" "$work/killed/undefended.h5" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["parameters"] for p in sys.argv[1:3])
names = sorted(a.keys())
assert names == sorted(b.keys()), "parameter names differ"
worst = max(float(np.max(np.abs(a[n][()] - b[n][()]))) if a[n].size else 0.0 for n in names)
print(f"{len(names)} parameters; largest difference after the resume: {worst}")
sys.exit(0 if worst == 0.0 else 1)
PY
echo "3. the whole defense on two processes"
"${mpirun[@]}" "$scion" defend --ds fashion-mnist --pattern badnet_grid --target 0 --limit 4000 --baseline-epochs 1 \
    --trap-epochs 2 --replace-epochs 2 --recover-epochs 2 --method tr --method ft --threads 1 --quiet --out "$work/defend"
lineage=$("$scion" inspect "$work/defend/recovered.h5")
grep -q "recover .*world_size=2" <<<"$lineage" || { echo "recovered.h5's lineage does not record world_size=2"; exit 1; }
echo "mpi checks passed"
