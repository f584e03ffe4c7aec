#!/usr/bin/env bash
# Writes an all-zero float32 .npy of shape N C H W (a stand-in input for smoke tests).
# Usage: tools/zeros_npy.sh OUT.npy N C H W
set -euo pipefail
out=$1; shift
shape="($1, $2, $3, $4)"
count=$(( $1 * $2 * $3 * $4 ))
header="{'descr': '<f4', 'fortran_order': False, 'shape': $shape, }"
pad=$(( (64 - (10 + ${#header} + 1) % 64) % 64 ))
header="$header$(printf '%*s' "$pad" '')"
len=$(( ${#header} + 1 ))
{ printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((len % 256)))\\x$(printf %02x $((len / 256)))"; printf '%s\n' "$header"; head -c $((count * 4)) /dev/zero; } > "$out"
