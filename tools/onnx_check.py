#!/usr/bin/env python3
"""Checks an ONNX file with ONNX's own tools: onnx.checker.check_model(full_check=True), then
ONNX Runtime on an input batch, writing each output as OUT_PREFIX.NAME.npy. The ONNX tests of
`make test` use it as their oracle (skipped where onnx or onnxruntime is missing).

    tools/onnx_check.py MODEL.onnx INPUT.npy OUT_PREFIX
"""
import json, sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    model_path, input_path, prefix = sys.argv[1:4]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    x = np.load(input_path)
    names = [o.name for o in session.get_outputs()]
    outputs = session.run(names, {session.get_inputs()[0].name: x})
    for name, value in zip(names, outputs):
        np.save(f"{prefix}.{name}.npy", value)
    print(json.dumps({"ir_version": model.ir_version, "opset": [o.version for o in model.opset_import],
                      "outputs": names, "metadata": {p.key: len(p.value) for p in model.metadata_props}}))


if __name__ == "__main__":
    main()
