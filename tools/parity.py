#!/usr/bin/env python3
"""PyTorch parity references for Scion's executor.

For each network this builds the PyTorch twin (written from docs and the Trap-and-Replace
reference, with PyTorch state_dict names equal to Scion's parameter names), creates the Scion
file with `scion init`, copies PyTorch's weights into it (with random BatchNorm statistics, so
inference-mode BatchNorm is exercised), and saves an input batch and PyTorch's outputs in eval
mode. It then runs `scion run` on the same input and reports the largest difference.

    pip install torch==2.13.0+cpu h5py numpy
    python3 tools/parity.py                     # all networks, files under Models/parity
    python3 tools/parity.py --models wrn16-1    # one network

Models/parity/{wrn16-1,wrn16-1-trap} are committed and read by `make test`
(Tests/ScionRuntimeTests/PyTorchParityTests.swift); ResNet-18 (45 MB) is checked here only.

With --training it also makes one-step training references for the stage-1 model (from
wrn16-1-trap.h5): PyTorch in train mode, loss CE + 10 MSE + 1 TV on a batch of 8, one step of
SGD (lr 0.1, momentum 0.9, wd 5e-4) and of Adam (lr 1e-3, wd 5e-4); the updated parameters and
BatchNorm statistics are saved as Scion files (stage1-step-{sgd,adam}.h5), read by
Tests/ScionTrainingTests/TrainingParityTests.swift.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scion_h5 import write_parameters  # noqa: E402


class WRNBlock(nn.Module):
    """Pre-activation BasicBlock of the reference WRN (LeakyReLU 0.1, conv bias, the shortcut quirk)."""

    def __init__(self, cin, cout, stride, activate_before_residual):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=True)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=True)
        self.equal = cin == cout
        self.activate_before_residual = activate_before_residual
        if not self.equal:
            self.convShortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=True)

    def forward(self, x):
        if not self.equal and self.activate_before_residual:
            x = F.leaky_relu(self.bn1(x), 0.1)
            out = x
        else:
            out = F.leaky_relu(self.bn1(x), 0.1)
        out = F.leaky_relu(self.bn2(self.conv1(out if self.equal else x)), 0.1)
        out = self.conv2(out)
        return (x if self.equal else self.convShortcut(x)) + out


class WRN(nn.Module):
    def __init__(self, depth=16, widen=1, classes=10, decoder_stem=None):
        super().__init__()
        n = (depth - 4) // 6
        ch = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=True)
        for g in range(3):
            blocks = [WRNBlock(ch[g] if i == 0 else ch[g + 1], ch[g + 1], 2 if (i == 0 and g > 0) else 1, g == 0) for i in range(n)]
            setattr(self, f"block{g + 1}", nn.Sequential(*blocks))
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.fc = nn.Linear(ch[3], classes)
        self.decoder_stem = decoder_stem
        if decoder_stem in (5, 6):
            self.decoder = nn.Sequential(nn.ConvTranspose2d(ch[3], 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 3, 4, 2, 1), nn.Sigmoid())
        elif decoder_stem == 4:
            self.decoder = nn.Sequential(nn.ConvTranspose2d(ch[2], 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 3, 3, 1, 1), nn.Sigmoid())
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="leaky_relu")
            elif isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                m.bias.data.zero_()

    def forward(self, x):
        out = self.block2(self.block1(self.conv1(x)))
        stem = None
        if self.decoder_stem == 4:
            stem = out
        out = self.block3[0](out)
        if self.decoder_stem == 5:
            stem = out
        for block in self.block3[1:]:
            out = block(out)
        if self.decoder_stem == 6:
            stem = out
        logits = self.fc(torch.flatten(F.adaptive_avg_pool2d(F.leaky_relu(self.bn1(out), 0.1), 1), 1))
        if self.decoder_stem is None:
            return {"logits": logits}
        return {"logits": logits, "reconstruction": self.decoder(stem)}


class ResBlock(nn.Module):
    """torchvision's BasicBlock: conv-bn-relu-conv-bn, plus the (downsampled) input, relu."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class CifarResNet18(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i, planes in enumerate([64, 128, 256, 512]):
            blocks = []
            for b in range(2):
                blocks.append(ResBlock(cin, planes, 2 if (b == 0 and i > 0) else 1))
                cin = planes
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return {"logits": self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))}


NETWORKS = {
    # name: (scion init arguments, PyTorch constructor, committed to the repository)
    "wrn16-1": (["--arch", "wrn16-1", "--classes", "10", "--input", "3x32x32"], lambda: WRN(), True),
    "wrn16-1-trap": (["--arch", "wrn16-1", "--classes", "10", "--input", "3x32x32", "--decoder", "--stem", "5"],
                     lambda: WRN(decoder_stem=5), True),
    "resnet18": (["--arch", "resnet18", "--classes", "10", "--input", "3x32x32"], lambda: CifarResNet18(), False),
}


def randomize_batchnorm(model, generator):
    """Non-trivial BatchNorm weights and running statistics, so eval-mode BatchNorm matters."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = 0.8 + 0.4 * torch.rand(m.weight.shape, generator=generator)
            m.bias.data = 0.2 * torch.rand(m.bias.shape, generator=generator) - 0.1
            m.running_mean = 0.2 * torch.rand(m.running_mean.shape, generator=generator) - 0.1
            m.running_var = 0.5 + torch.rand(m.running_var.shape, generator=generator)


def make_reference(name, scion, out_dir, batch):
    init_args, build, _ = NETWORKS[name]
    model_path = os.path.join(out_dir, f"{name}.h5")
    subprocess.run([scion, "init", *init_args, "--seed", "0", "-o", model_path], check=True)
    torch.manual_seed(0)
    model = build()
    randomize_batchnorm(model, torch.Generator().manual_seed(1))
    model.eval()
    state = {k: v.detach().numpy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    write_parameters(model_path, state)
    x = torch.rand(batch, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        outputs = model(x)
    np.save(os.path.join(out_dir, f"{name}.input.npy"), x.numpy())
    for key, value in outputs.items():
        np.save(os.path.join(out_dir, f"{name}.{key}.npy"), value.numpy())
    return model_path, outputs


def check_with_scion(name, scion, out_dir, model_path, outputs):
    result = os.path.join(out_dir, f"{name}.scion.npy")
    subprocess.run([scion, "run", model_path, "--input", os.path.join(out_dir, f"{name}.input.npy"), "--output", result],
                   check=True, capture_output=True)
    worst = 0.0
    for key, expected in outputs.items():
        path = result if len(outputs) == 1 else result[:-4] + f".{key}.npy"
        got = np.load(path)
        os.remove(path)
        diff = float(np.abs(got - expected.numpy()).max())
        worst = max(worst, diff)
        print(f"{name:14} {key:15} max |scion - pytorch| = {diff:.2e}")
    return worst


def total_variation(img):
    b, c, h, w = img.shape
    return ((img[:, :, 1:, :] - img[:, :, :-1, :]).pow(2).sum() + (img[:, :, :, 1:] - img[:, :, :, :-1]).pow(2).sum()) / (b * c * h * w)


def make_training_references(scion, out_dir):
    """One training step of the stage-1 model with SGD and with Adam, from wrn16-1-trap.h5."""
    import h5py
    start = os.path.join(out_dir, "wrn16-1-trap.h5")
    with h5py.File(start, "r") as f:
        state = {k: torch.from_numpy(np.asarray(f["parameters"][k][()])) for k in f["parameters"]}
    x = torch.rand(8, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    y = torch.randint(0, 10, (8,), generator=torch.Generator().manual_seed(4))
    np.save(os.path.join(out_dir, "stage1-step.input.npy"), x.numpy())
    np.save(os.path.join(out_dir, "stage1-step.labels.npy"), y.numpy().astype(np.int32))
    for name, make in [("sgd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4)),
                       ("adam", lambda p: torch.optim.Adam(p, lr=1e-3, weight_decay=5e-4))]:
        model = WRN(decoder_stem=5)
        model.load_state_dict(state, strict=False)
        model.train()
        optimizer = make(model.parameters())
        out = model(x)
        loss = F.cross_entropy(out["logits"], y) + 10 * F.mse_loss(out["reconstruction"], x) + total_variation(out["reconstruction"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        path = os.path.join(out_dir, f"stage1-step-{name}.h5")
        subprocess.run(["cp", start, path], check=True)
        updated = {k: v.detach().numpy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
        write_parameters(path, updated)
        print(f"stage-1 step with {name}: loss {loss.item():.6f} -> {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scion", default=".build/release/scion")
    parser.add_argument("--out", default="Models/parity")
    parser.add_argument("--models", default=",".join(NETWORKS))
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--training", action="store_true", help="also make the one-step training references")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(2)
    worst = 0.0
    for name in args.models.split(","):
        committed = NETWORKS[name][2]
        out_dir = args.out if committed else os.path.join(args.out, "uncommitted")
        os.makedirs(out_dir, exist_ok=True)
        path, outputs = make_reference(name, args.scion, out_dir, args.batch)
        worst = max(worst, check_with_scion(name, args.scion, out_dir, path, outputs))
    if args.training:
        make_training_references(args.scion, args.out)
    print(f"worst difference {worst:.2e} (tolerance 1e-4)")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
