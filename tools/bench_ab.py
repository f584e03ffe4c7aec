#!/usr/bin/env python3
"""A/B of two Scion binaries: `scion bench` on the same model files, interleaved in separate
processes so that machine noise falls on both alike. Prints medians and ranges per model and
batch size, and the ratio new/old; writes the raw runs as JSON.

    tools/bench_ab.py OLD_BINARY NEW_BINARY MODEL.h5 [MODEL.h5 ...] [--reps 5] [--batch 1 8 64] [--train]

`--train` times training steps (`scion bench --train`) instead of inference.

Build the old binary from a separate clone (`git clone . /tmp/old && cd /tmp/old && git checkout
REV && swift build -c release --product scion`) and run with the machine otherwise idle.
"""
import argparse, json, statistics, subprocess, sys


def bench(binary, model, batches, iterations, train):
    cmd = [binary, "bench", model, "--json", "--iterations", str(iterations)] + sum((["--batch", str(b)] for b in batches), [])
    cmd += ["--train"] if train else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    # Inference reports {"results": [...]} per batch size; training one object for one batch.
    return {int(r["batch"]): r["images_per_second"] for r in report.get("results", [report])}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("old"); p.add_argument("new"); p.add_argument("models", nargs="+")
    p.add_argument("--reps", type=int, default=5); p.add_argument("--iterations", type=int, default=40)
    p.add_argument("--batch", type=int, nargs="+", default=[1, 8, 64]); p.add_argument("--json", default="bench_ab.json")
    p.add_argument("--train", action="store_true")
    a = p.parse_args()
    runs = []
    for rep in range(a.reps):
        for tag, binary in (("old", a.old), ("new", a.new)):
            for model in a.models:
                for batch, ips in bench(binary, model, a.batch, a.iterations, a.train).items():
                    runs.append({"binary": tag, "model": model, "batch": batch, "rep": rep, "images_per_second": ips})
        print(f"rep {rep + 1}/{a.reps} done", file=sys.stderr)
    for model in a.models:
        for batch in a.batch:
            got = {t: [r["images_per_second"] for r in runs if (r["binary"], r["model"], r["batch"]) == (t, model, batch)] for t in ("old", "new")}
            o, n = statistics.median(got["old"]), statistics.median(got["new"])
            print(f"{model} batch {batch}: old {o:.1f} [{min(got['old']):.0f}-{max(got['old']):.0f}]"
                  f"  new {n:.1f} [{min(got['new']):.0f}-{max(got['new']):.0f}]  new/old {n / o:.3f}")
    with open(a.json, "w") as f:
        json.dump({"old": a.old, "new": a.new, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
