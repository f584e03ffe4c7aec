"""Training throughput for `tools/bench_peers --train` (see its docstring)."""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def torch_worker(variant, threads, batch, steps):
    """Images/s of stage-1 training steps in PyTorch (`eager`, `channels_last`, `compile`)."""
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, HERE)
    from parity import WRN, total_variation
    torch.set_num_threads(threads)
    model = WRN(decoder_stem=5)
    model.train()
    memory = torch.channels_last if variant == "channels_last" else torch.contiguous_format
    model = model.to(memory_format=memory)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)
    x = torch.rand(batch, 3, 32, 32).to(memory_format=memory)
    y = torch.randint(0, 10, (batch,))

    def step():
        out = model(x)
        loss = F.cross_entropy(out["logits"], y) + 10 * F.mse_loss(out["reconstruction"], x) + total_variation(out["reconstruction"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    if variant == "compile":
        compiled = torch.compile(step)
        run = compiled
    else:
        run = step
    for _ in range(3):
        run()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    times.sort()
    return batch / times[len(times) // 2]


def training(args):
    if args.worker_train:
        print(json.dumps({"images_per_second": torch_worker(args.worker_train, args.threads, args.train_batch, args.steps)}))
        return 0
    scion = os.path.join(ROOT, ".build/release/scion")
    if not os.path.exists(scion):
        sys.exit("build Scion first: make build")
    work = tempfile.mkdtemp(prefix="scion-train-bench-")
    model = os.path.join(work, "stage1.h5")
    subprocess.run([scion, "init", "--arch", "wrn16-1", "--classes", "10", "--input", "3x32x32", "--decoder", "--stem", "5",
                    "--seed", "0", "-o", model], check=True, capture_output=True)
    commands = {"scion": [scion, "bench", model, "--train", "--batch", str(args.train_batch), "--threads", str(args.threads),
                          "--iterations", str(args.steps), "--json"]}
    if args.bf16:
        commands["scion bf16"] = commands["scion"] + ["--precision", "bf16"]
    for variant in ["eager", "channels_last", "compile"]:
        commands[f"pytorch {variant}"] = [sys.executable, os.path.join(HERE, "bench_peers"), "--train", "--worker-train", variant,
                                          "--threads", str(args.threads), "--train-batch", str(args.train_batch), "--steps", str(args.steps)]
    # Engines take turns for --rounds rounds and each keeps its best (see bench_peers: this
    # machine's speed drifts over minutes).
    rounds = {engine: [] for engine in commands}
    for _ in range(args.rounds):
        for engine, command in commands.items():
            if engine not in rounds:
                continue
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0 and engine.startswith("scion"):
                sys.exit(f"scion bench --train failed:\n{run.stderr}")
            if run.returncode != 0:
                print(f"{engine}: skipped ({run.stderr.strip().splitlines()[-1] if run.stderr.strip() else 'failed'})", file=sys.stderr)
                del rounds[engine]
                continue
            text = run.stdout.strip()
            rounds[engine].append(json.loads(text if text.startswith("{") else text.splitlines()[-1])["images_per_second"])
    results = {engine: max(values) for engine, values in rounds.items()}
    print(f"stage-1 training (WRN-16-1 + decoder, batch {args.train_batch}, Adam, CE + 10 MSE + 1 TV), {args.threads} threads, "
          f"best of {args.rounds} interleaved rounds")
    for engine, ips in results.items():
        print(f"  {engine:24} {ips:8.1f} images/s")
    peers = {k: v for k, v in results.items() if not k.startswith("scion")}
    if peers:
        best = max(peers, key=peers.get)
        for ours in (k for k in results if k.startswith("scion")):
            print(f"{ours} / best peer ({best}): {results[ours] / peers[best]:.2f}x")
        epochs = 200
        print(f"official 200-epoch stage 1 (47,500 images/epoch): Scion {47500 * epochs / results['scion'] / 3600:.2f} h, "
              f"{best} {47500 * epochs / peers[best] / 3600:.2f} h of compute")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"mode": "train", "batch": args.train_batch, "threads": args.threads, "images_per_second": results,
                       "rounds": rounds}, f, indent=2)
    return 0
