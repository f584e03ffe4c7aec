#!/usr/bin/env python3
"""Talks to a running `scion serve` with NVIDIA's tritonclient (HTTP, its defaults: binary
tensors both ways) and writes the first output. The serving tests use it as the client oracle.

    python -m venv v && v/bin/pip install "tritonclient[http]==2.73.0" numpy
    v/bin/python tools/triton_client_check.py HOST:PORT MODEL INPUT.npy OUTPUT.npy
"""
import json, sys

import numpy as np
import tritonclient.http as http


def main():
    url, model, input_path, output_path = sys.argv[1:5]
    # Generous timeouts: a loaded CI machine may run the server slowly; no test bounds wall time.
    client = http.InferenceServerClient(url=url, connection_timeout=600.0, network_timeout=600.0)
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(model)
    meta = client.get_model_metadata(model)
    name = meta["inputs"][0]["name"]
    x = np.load(input_path).astype(np.float32)
    inp = http.InferInput(name, list(x.shape), "FP32")
    inp.set_data_from_numpy(x)  # binary_data=True by default
    out_name = meta["outputs"][0]["name"]
    result = client.infer(model, [inp], outputs=[http.InferRequestedOutput(out_name)])
    y = result.as_numpy(out_name)
    np.save(output_path, y)
    print(json.dumps({"input": name, "output": out_name, "shape": list(y.shape)}))


if __name__ == "__main__":
    main()
