#!/usr/bin/env python3
"""Writes the ONNX import fixtures: small ResNet- and WRN-style CNNs exported by
torch.onnx.export with both exporters and several opsets, each with an input batch and ONNX
Runtime's outputs on it (the oracle `make test` compares Scion against, without torch).

    pip install torch==2.13.0+cpu onnx onnxruntime onnxscript numpy
    tools/make_onnx_fixtures.py [--out Tests/ScionONNXTests/Fixtures] [--seed 0]

Writes NAME.onnx, NAME.input.npy and NAME.output.npy per case, and cases.json listing them
with the exporter, opset and the ops each file uses. The networks are small on purpose (a few
hundred kilobytes in all) but use every construct the zoo's ResNet-18 and WRN-16 export to:
bias-free convolutions, BatchNorm, residual adds, strided 1x1 shortcuts, max pooling, global
average pooling (GlobalAveragePool, or ReduceMean in the new exporter), flatten
(Flatten, or Shape/Gather/Concat/Reshape chains), the linear head (Gemm, or MatMul + Add),
LeakyReLU and an explicit asymmetric pad.
"""
import argparse, json, os, sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """ResNet basic block (post-activation) or WRN block (pre-activation)."""

    def __init__(self, cin, cout, stride, pre):
        super().__init__()
        self.pre = pre
        self.bn1 = nn.BatchNorm2d(cin if pre else cout)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.short = None if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x):
        if self.pre:
            o = F.relu(self.bn1(x))
            y = self.conv2(F.relu(self.bn2(self.conv1(o))))
            return y + (x if self.short is None else self.short(o))
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNetStyle(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = Block(8, 8, 1, pre=False)
        self.layer2 = Block(8, 16, 2, pre=False)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


class WRNStyle(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.block1 = Block(8, 8, 1, pre=True)
        self.block2 = Block(8, 16, 2, pre=True)
        self.bn = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = F.pad(x, (1, 0, 0, 1))  # uneven: left 1, bottom 1
        x = self.block2(self.block1(self.conv1(x)))
        x = F.leaky_relu(self.bn(x), 0.1)
        x = x.mean(dim=(2, 3))
        return self.fc(x.view(x.size(0), -1))


def randomize_batchnorm(model, rng):
    """Non-trivial running statistics, so folding mistakes show."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.from_numpy(rng.normal(0, 0.2, m.num_features).astype(np.float32)))
            m.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, m.num_features).astype(np.float32)))
            m.weight.data.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, m.num_features).astype(np.float32)))
            m.bias.data.copy_(torch.from_numpy(rng.normal(0, 0.1, m.num_features).astype(np.float32)))


def export(model, x, path, opset, dynamo):
    kwargs = dict(input_names=["image"], output_names=["logits"], opset_version=opset, dynamo=dynamo)
    if not dynamo:
        kwargs["dynamic_axes"] = {"image": {0: "N"}, "logits": {0: "N"}}
    torch.onnx.export(model, (x,), path, **kwargs)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="Tests/ScionONNXTests/Fixtures")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    cases = []
    nets = {"resnet": ResNetStyle(), "wrn": WRNStyle()}
    for net in nets.values():
        randomize_batchnorm(net, rng)
        net.eval()
    x = torch.from_numpy(rng.normal(0, 1, (2, 3, 16, 16)).astype(np.float32))
    for name, net in nets.items():
        for dynamo, opsets in ((False, [11, 13, 17]), (True, [18, 21])):
            for opset in opsets:
                case = f"{name}-{'dynamo' if dynamo else 'legacy'}-opset{opset}"
                path = os.path.join(a.out, case + ".onnx")
                export(net, x, path, opset, dynamo)
                m = onnx.load(path)
                onnx.checker.check_model(m, full_check=True)
                session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
                np.save(os.path.join(a.out, case + ".input.npy"), x.numpy())
                np.save(os.path.join(a.out, case + ".output.npy"), out)
                ops = sorted({n.op_type for n in m.graph.node})
                cases.append({"name": case, "exporter": "dynamo" if dynamo else "torchscript", "opset": opset,
                              "ir_version": m.ir_version, "ops": ops})
                print(f"{case}: ir {m.ir_version}, ops {', '.join(ops)}", file=sys.stderr)
    with open(os.path.join(a.out, "cases.json"), "w") as f:
        json.dump({"seed": a.seed, "torch": torch.__version__, "onnx": onnx.__version__,
                   "onnxruntime": ort.__version__, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
