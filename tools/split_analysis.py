#!/usr/bin/env python3
"""How well stage 3's signals separate the planted poisons, from a run's suspects.csv.

    tools/split_analysis.py RUN_FOLDER/suspects.csv [--json]

Needs a run where Scion planted the attack (the `planted` column). Reports, per class, the
images, the poisons and the share scoring above a few thresholds (what judges a class
poisoned), the split's verdicts against the truth, and for the two signals (score =
log p_trapped(y) - log p_new(y), and the trapped model's loss) the detection rate of ranking the
largest class by each signal and keeping its excess over the median class size.
Standard library only.
"""
import csv
import json
import statistics
import sys


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or rows[0].get("planted", "") == "":
        sys.exit(f"{path}: no planted column (this run planted no attack)")
    for r in rows:
        r["label"], r["score"], r["planted"] = int(r["label"]), float(r["score"]), r["planted"] == "1"
        r["trapped_loss"] = float(r["trapped_loss"]) if r.get("trapped_loss") else None
    return rows


def rates(flagged, rows):
    poisons = sum(r["planted"] for r in rows)
    clean = len(rows) - poisons
    tp = sum(1 for r in rows if r["planted"] and flagged(r))
    fp = sum(1 for r in rows if not r["planted"] and flagged(r))
    return {"tpr": tp / poisons if poisons else None, "fpr": fp / clean if clean else None, "flagged": tp + fp}


def analyse(rows):
    classes = sorted({r["label"] for r in rows})
    members = {k: [r for r in rows if r["label"] == k] for k in classes}
    per_class = {}
    for k, m in members.items():
        per_class[k] = {"images": len(m), "poisons": sum(r["planted"] for r in m)}
        for t in (0.5, 1.0, 2.0):
            per_class[k][f"share_above_{t}"] = sum(r["score"] > t for r in m) / len(m)
    verdicts = {v: rates(lambda r, v=v: r["verdict"] == v, rows) for v in ("relabelled", "dropped", "unlearned")}
    verdicts["suspect"] = rates(lambda r: r["verdict"] != "clean", rows)
    largest = max(classes, key=lambda k: len(members[k]))
    excess = len(members[largest]) - int(statistics.median(len(m) for m in members.values()))
    ranking = {}
    signals = {"score": lambda r: -r["score"]}
    if rows[0]["trapped_loss"] is not None:
        signals["trapped_loss"] = lambda r: r["trapped_loss"]
    for name, key in signals.items():
        top = set(id(r) for r in sorted(members[largest], key=key)[:max(excess, 0)])
        ranking[name] = rates(lambda r: id(r) in top, rows)
    return {"per_class": per_class, "verdicts": verdicts, "largest_class": largest, "excess": excess,
            "excess_by_signal": ranking}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    result = analyse(load(sys.argv[1]))
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
        return
    print("class  images  poisons  >0.5    >1.0    >2.0")
    for k, c in result["per_class"].items():
        print(f"{k:5}  {c['images']:6}  {c['poisons']:7}  {c['share_above_0.5']:.3f}  {c['share_above_1.0']:.3f}  {c['share_above_2.0']:.3f}")
    fmt = lambda d: f"TPR {d['tpr'] if d['tpr'] is None else round(d['tpr'], 4)}, FPR {round(d['fpr'], 4)}, {d['flagged']} flagged"
    for v, d in result["verdicts"].items():
        print(f"verdict {v}: {fmt(d)}")
    print(f"largest class {result['largest_class']}, excess {result['excess']} over the median size")
    for name, d in result["excess_by_signal"].items():
        print(f"its excess ranked by {name}: {fmt(d)}")


if __name__ == "__main__":
    main()
