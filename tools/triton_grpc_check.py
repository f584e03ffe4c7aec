#!/usr/bin/env python3
"""Talks to `scion serve --grpc-port` with NVIDIA's tritonclient over gRPC (raw tensors, its
default) and writes the first output; also checks that a bad request comes back as
INVALID_ARGUMENT and an unknown model as NOT_FOUND. The serving tests use it as the oracle.

    v/bin/pip install "tritonclient[grpc]==2.73.0" numpy
    v/bin/python tools/triton_grpc_check.py HOST:PORT MODEL INPUT.npy OUTPUT.npy
"""
import json, sys

import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException


def expect_status(call, status):
    try:
        call()
    except InferenceServerException as e:
        if status not in str(e.status()):
            sys.exit(f"expected {status}, got {e.status()}: {e.message()}")
        return e.message()
    sys.exit(f"expected {status}, the call succeeded")


def main():
    url, model, input_path, output_path = sys.argv[1:5]
    client = grpcclient.InferenceServerClient(url=url)
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(model)
    meta = client.get_model_metadata(model)
    name, out_name = meta.inputs[0].name, meta.outputs[0].name
    server = client.get_server_metadata()
    x = np.load(input_path).astype(np.float32)
    inp = grpcclient.InferInput(name, list(x.shape), "FP32")
    inp.set_data_from_numpy(x)
    result = client.infer(model, [inp], outputs=[grpcclient.InferRequestedOutput(out_name)])
    y = result.as_numpy(out_name)
    np.save(output_path, y)
    bad = grpcclient.InferInput(name, [1, 1, 2, 2], "FP32")
    bad.set_data_from_numpy(np.zeros((1, 1, 2, 2), np.float32))
    invalid = expect_status(lambda: client.infer(model, [bad]), "INVALID_ARGUMENT")
    missing = expect_status(lambda: client.get_model_metadata("nowhere"), "NOT_FOUND")
    print(json.dumps({"server": server.name, "shape": list(y.shape), "invalid": invalid, "missing": missing}))


if __name__ == "__main__":
    main()
