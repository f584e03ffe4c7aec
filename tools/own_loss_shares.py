#!/usr/bin/env python3
"""Per class, the share of training images a model fits better than the class's own unseen images.

For each class k: the trapped model's losses on unseen images of k (one folder per class index
under TESTDIR, classified with `scion predict`), their q-quantile, and the share of k's training
images (label and trapped_loss columns of a run's suspects.csv) at or below it. A clean class
sits near q; a class holding poisons the model fits to near-zero loss stands out (RECOVER.md,
"A stem-carried trigger on long-tailed data").

    tools/own_loss_shares.py --cifar-bin data/cifar-10-batches-bin/test_batch.bin --export runs/exp/cifar_test
    tools/own_loss_shares.py runs/table/cifar10-sig/trapped.h5 runs/table/cifar10-sig/suspects.csv runs/exp/cifar_test
"""
import argparse
import csv
import json
import math
import os
import subprocess


def export_cifar(path, out, per_class):
    """The first `per_class` images of each class of a CIFAR-10 binary batch, as PPM files."""
    raw = open(path, "rb").read()
    count = [0] * 10
    for i in range(len(raw) // 3073):
        record = raw[i * 3073:(i + 1) * 3073]
        k, px = record[0], record[1:]
        if count[k] >= per_class:
            continue
        rgb = bytes(b for p in range(1024) for b in (px[p], px[1024 + p], px[2048 + p]))
        os.makedirs(f"{out}/{k}", exist_ok=True)
        with open(f"{out}/{k}/{i:05d}.ppm", "wb") as f:
            f.write(b"P6\n32 32\n255\n" + rgb)
        count[k] += 1


def unseen_losses(scion, model, folder, k):
    files = [f"{folder}/{f}" for f in sorted(os.listdir(folder))]
    out = subprocess.run([scion, "predict", model, *files, "--json", "--top", "1000", "--threads", "1"],
                         capture_output=True, text=True, check=True).stdout
    return sorted(-math.log(max(next(t["probability"] for t in p["top"] if t["index"] == k), 1e-30))
                  for p in json.loads(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?")
    ap.add_argument("suspects", nargs="?")
    ap.add_argument("testdir", nargs="?")
    ap.add_argument("--quantiles", default="0.05,0.1")
    ap.add_argument("--scion", default=".build/release/scion")
    ap.add_argument("--cifar-bin", help="export a CIFAR-10 binary batch's images to --export first")
    ap.add_argument("--export")
    ap.add_argument("--per-class", type=int, default=250)
    a = ap.parse_args()
    if a.cifar_bin:
        export_cifar(a.cifar_bin, a.export, a.per_class)
        return
    rows = list(csv.DictReader(open(a.suspects)))
    quantiles = [float(q) for q in a.quantiles.split(",")]
    result = {}
    for k in sorted(os.listdir(a.testdir), key=int):
        losses = unseen_losses(a.scion, a.model, f"{a.testdir}/{k}", int(k))
        train = [float(r["trapped_loss"]) for r in rows if r["label"] == k]
        result[k] = {"training_images": len(train), "unseen_images": len(losses)}
        for q in quantiles:
            bar = losses[int(q * len(losses))]
            result[k][f"share_below_q{q}"] = sum(x <= bar for x in train) / len(train)
        print(k, json.dumps(result[k]))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
