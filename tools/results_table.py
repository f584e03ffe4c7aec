#!/usr/bin/env python3
"""The README's results table from a BackdoorBench-shaped results CSV (`scion defend --results`).

    tools/results_table.py [docs/results/cifar10.csv] [--json]

One row per attack: ACC / ASR of every method, and whether T&R + recover meets the targets
(ASR <= max(2 %, the undefended model's no-trigger rate + 1 point), ACC >= undefended - 2
points); a last row with each method's mean DER. Standard library only.
"""
import csv
import json
import sys

METHODS = [("none", "no defense"), ("tr", "T&R"), ("tr_recover", "**T&R + recover**"), ("ft", "FT"),
           ("fp", "FP"), ("replace_without_trap", "replace w/o trap")]
ORDER = ["badnet_grid", "badnet_sq", "trojan_3x3", "trojan_8x8", "trojan_wm", "l0_inv", "l2_inv", "blend",
         "smooth", "sig", "cl"]


def load(path):
    table = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            table.setdefault(row["attack"], {})[row["defense"]] = row
    return table


def verdict(rows):
    """Whether T&R + recover meets both targets, and by how much it misses."""
    base, rec = rows.get("none"), rows.get("tr_recover")
    if not base or not rec:
        return None
    asr_bar = max(0.02, float(base["clean_to_target"]) + 0.01)
    acc_bar = float(base["acc"]) - 0.02
    asr_miss, acc_miss = float(rec["asr"]) - asr_bar, acc_bar - float(rec["acc"])
    misses = []
    if asr_miss > 0:
        misses.append(f"ASR {asr_miss * 100:.2f} over")
    if acc_miss > 0:
        misses.append(f"ACC {acc_miss * 100:.2f} under")
    return {"asr_bar": asr_bar, "acc_bar": acc_bar, "met": not misses, "misses": misses}


def summary(table):
    attacks = [a for a in ORDER if a in table] + sorted(a for a in table if a not in ORDER)
    ders = {m: [float(table[a][m]["der"]) for a in attacks if m in table[a] and table[a][m]["der"]] for m, _ in METHODS}
    return attacks, {m: sum(v) / len(v) * 100 for m, v in ders.items() if v}


def markdown(table):
    attacks, mean_der = summary(table)
    lines = ["| attack | " + " | ".join(name for _, name in METHODS) + " | targets |",
             "|---|" + "---|" * (len(METHODS) + 1)]
    for a in attacks:
        cells = []
        for m, _ in METHODS:
            r = table[a].get(m)
            cells.append(f"{float(r['acc']) * 100:.2f} / {float(r['asr']) * 100:.2f}" if r else "-")
        v = verdict(table[a])
        cells.append("-" if v is None else "met" if v["met"] else "missed: " + ", ".join(v["misses"]))
        lines.append(f"| `{a}` | " + " | ".join(cells) + " |")
    lines.append("| mean DER | " + " | ".join(f"{mean_der[m]:.1f}" if m in mean_der else "-" for m, _ in METHODS) + " | |")
    return "\n".join(lines)


def main():
    path = next((a for a in sys.argv[1:] if not a.startswith("--")), "docs/results/cifar10.csv")
    table = load(path)
    if "--json" in sys.argv:
        attacks, mean_der = summary(table)
        print(json.dumps({"attacks": {a: {"rows": table[a], "targets": verdict(table[a])} for a in attacks},
                          "mean_der": mean_der}, indent=2))
    else:
        print(markdown(table))


if __name__ == "__main__":
    main()
