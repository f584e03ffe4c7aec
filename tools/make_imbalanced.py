#!/usr/bin/env python3
"""Writes a long-tailed image-folder dataset from Fashion-MNIST, to measure the defense on
naturally imbalanced classes (GTSRB's classes differ about tenfold in size; GTSRB itself is not
available here).

    tools/make_imbalanced.py OUT [--source DIR] [--largest 5700] [--ratio 10] [--order 1,8,...]
                                 [--holdout 0.05] [--seed 0]

OUT/train/<class>/NNNNN.pgm holds class k's first `largest / ratio**(rank/9)` training images
(rank = the class's place in --order, largest first), drawn in a seeded random order;
OUT/test/<class>/ the whole test set; OUT/holdout/<class>/ a further `--holdout` share of each
class's size, disjoint from train/ (trusted images for `defend --pattern none --holdout
OUT/holdout`; runs that plant an attack split their own holdout off train/); OUT/meta.json the
sizes, the order and the seed. The default order puts Fashion-MNIST's easiest classes (trouser,
bag, sandal, sneaker, ankle boot) first, the worst case for a rule that judges a class by how
well a model fits it. Read it with
`scion ... --ds folder --data_root OUT --image-size 28`. Needs only the standard library.
"""

import argparse
import gzip
import json
import os
import random
import sys


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return shape, data[4 + 4 * dims :]


def write_pgm(path, pixels, rows, cols):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (cols, rows))
        f.write(pixels)
    os.replace(tmp, path)


def write_split(out, split, images, labels, rows, cols, chosen):
    for label in range(10):
        os.makedirs(os.path.join(out, split, "class%d" % label), exist_ok=True)
    size = rows * cols
    for i in chosen:
        label = labels[i]
        write_pgm(os.path.join(out, split, "class%d" % label, "%05d.pgm" % i), images[i * size : (i + 1) * size], rows, cols)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--largest", type=int, default=5700, help="the largest class's training images")
    p.add_argument("--ratio", type=float, default=10.0, help="largest class size / smallest")
    p.add_argument("--order", default="1,8,5,7,9,3,4,2,0,6", help="classes, largest first")
    p.add_argument("--holdout", type=float, default=0.05, help="trusted share per class, beside train/")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    order = [int(c) for c in a.order.split(",")]
    if sorted(order) != list(range(10)):
        sys.exit("--order must name each of the classes 0-9 once")
    sizes = {c: round(a.largest / a.ratio ** (rank / 9)) for rank, c in enumerate(order)}
    rng = random.Random(a.seed)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        shape, images = read_idx(os.path.join(a.source, prefix + "-images-idx3-ubyte.gz"))
        _, labels = read_idx(os.path.join(a.source, prefix + "-labels-idx1-ubyte.gz"))
        indices = list(range(shape[0]))
        if split == "train":
            rng.shuffle(indices)
            trusted_sizes = {c: round(a.holdout * sizes[c]) for c in range(10)}
            taken = {c: 0 for c in range(10)}
            chosen, trusted = [], []
            for i in indices:
                c = labels[i]
                if taken[c] < sizes[c]:
                    chosen.append(i)
                elif taken[c] < sizes[c] + trusted_sizes[c]:
                    trusted.append(i)
                taken[c] += 1
            for c in range(10):
                short = sizes[c] + trusted_sizes[c] - taken[c]
                if short > 0:
                    print("warning: class %d has %d fewer trusted images than asked (lower --largest)" % (c, short))
            write_split(a.out, "holdout", images, labels, shape[1], shape[2], trusted)
            print("holdout: %d images" % len(trusted))
        else:
            chosen = indices
        write_split(a.out, split, images, labels, shape[1], shape[2], chosen)
        print("%s: %d images" % (split, len(chosen)))
    meta = {"source": a.source, "order": order, "train_sizes": {"class%d" % c: sizes[c] for c in range(10)},
            "holdout": a.holdout, "seed": a.seed}
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("class sizes:", ", ".join("class%d %d" % (c, sizes[c]) for c in order))


if __name__ == "__main__":
    main()
