#!/usr/bin/env python3
"""Read a Scion model file with h5py and numpy alone (no Scion code), as docs/FORMAT.md describes.

    python3 tools/scion_h5.py model.h5            # graph, parameter shapes, metadata, lineage
    python3 tools/scion_h5.py model.h5 --verify   # also recompute the seal and the content hash
    python3 tools/scion_h5.py model.h5 --json     # the same facts as JSON

Exit status 0 when the file reads (and verifies), 1 otherwise. Other scripts import
`write_parameters` to put their own weights (e.g. PyTorch's) into a Scion file.
"""
import argparse
import hashlib
import json
import struct
import sys

import h5py
import numpy as np

SEAL_MAGIC = b"SCION-SEAL-V1\0\0\0"
USER_BLOCK = 512


def text(value):
    """An HDF5 string (fixed or variable length) as str."""
    if isinstance(value, np.ndarray):
        value = value[()]
    return value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else str(value)


def check_seal(path):
    """Returns 'intact', 'unsealed' or raises ValueError for a damaged seal."""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\x89HDF\r\n\x1a\n"):
        return "unsealed"
    if not data.startswith(SEAL_MAGIC):
        return "unsealed"
    (length,) = struct.unpack("<Q", data[16:24])
    if length != len(data):
        raise ValueError(f"seal records {length} bytes, file has {len(data)}")
    if hashlib.sha256(data[USER_BLOCK:]).digest() != data[24:56]:
        raise ValueError("seal checksum does not match")
    return "intact"


def content_hash(graph_json, graph, params_group):
    """SHA-256 over b'scion-content-v1\\0', the graph JSON, then each parameter's bytes."""
    h = hashlib.sha256(b"scion-content-v1\0")
    h.update(graph_json.encode("utf-8"))
    dtypes = {"float32": "<f4", "int32": "<i4", "uint8": "u1"}
    for p in graph["parameters"]:
        data = np.asarray(params_group[p["name"]][()], dtype=dtypes[p["dtype"]])
        h.update(np.ascontiguousarray(data).tobytes())
    return "sha256:" + h.hexdigest()


def seal(path):
    """Rewrites the seal in the user block after the file changed (docs/FORMAT.md section 6)."""
    with open(path, "r+b") as f:
        data = f.read()
        if not data.startswith(SEAL_MAGIC) and data[USER_BLOCK:USER_BLOCK + 8] != b"\x89HDF\r\n\x1a\n":
            raise ValueError("the file has no Scion user block to seal")
        block = SEAL_MAGIC + struct.pack("<Q", len(data)) + hashlib.sha256(data[USER_BLOCK:]).digest()
        f.seek(0)
        f.write(block + b"\0" * (USER_BLOCK - len(block)))


def write_parameters(path, arrays):
    """Replaces parameter data (same names, shapes and dtypes), then updates the content hash and
    the seal, so Scion reads the file as valid. `arrays` maps parameter names to numpy arrays."""
    with h5py.File(path, "r+") as f:
        graph_json = text(f["graph"][()])
        graph = json.loads(graph_json)
        params = f["parameters"]
        declared = {p["name"]: p for p in graph["parameters"]}
        for name, array in arrays.items():
            if name not in declared:
                raise KeyError(f"{name} is not a parameter of this model")
            dataset = params[name]
            array = np.asarray(array, dtype=dataset.dtype)
            if array.shape != dataset.shape:
                raise ValueError(f"{name}: shape {array.shape}, the model declares {dataset.shape}")
            dataset[...] = array
        f.attrs["content_hash"] = np.bytes_(content_hash(graph_json, graph, params))
    seal(path)


def describe(path, verify):
    facts = {}
    if verify:
        facts["seal"] = check_seal(path)
    with h5py.File(path, "r") as f:
        if text(f.attrs.get("format", b"")) != "scion-model":
            raise ValueError("not a Scion model (root attribute 'format' is not 'scion-model')")
        major, minor = (int(v) for v in f.attrs["format_version"])
        if major != 1:
            raise ValueError(f"format version {major}.{minor} is not supported by this script")
        graph_json = text(f["graph"][()])
        graph = json.loads(graph_json)
        params = f["parameters"]
        facts.update(
            format_version=f"{major}.{minor}",
            content_hash=text(f.attrs["content_hash"]),
            name=graph["name"],
            inputs={n: graph["values"][n] for n in graph["inputs"]},
            outputs={n: graph["values"][n] for n in graph["outputs"]},
            nodes=[{"name": n["name"], "op": n["op"], "inputs": n["inputs"], "outputs": n["outputs"]} for n in graph["nodes"]],
            parameters={p["name"]: {"shape": list(params[p["name"]].shape), "dtype": str(params[p["name"]].dtype),
                                    "role": p["role"], "trainable": p["trainable"]} for p in graph["parameters"]},
            parameter_count=int(sum(np.prod(params[p["name"]].shape) for p in graph["parameters"]
                                    if p["role"] in ("weight", "bias"))),
            cut_points=graph["cut_points"],
            metadata={k: (text(v) if not isinstance(v, np.ndarray) or v.dtype.kind in "SO" else v.tolist())
                      for k, v in f["metadata"].attrs.items()},
            labels=[text(x) for x in f["metadata/labels"][()]] if "labels" in f["metadata"] else [],
            lineage=json.loads(text(f["provenance/lineage"][()])) if "provenance" in f else [],
        )
        if verify:
            computed = content_hash(graph_json, graph, params)
            if computed != facts["content_hash"]:
                raise ValueError(f"content hash mismatch: stored {facts['content_hash']}, computed {computed}")
            facts["content_hash_verified"] = True
    return facts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--verify", action="store_true", help="recompute the seal and the content hash")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    try:
        facts = describe(args.model, args.verify)
    except (OSError, KeyError, ValueError) as error:
        print(f"{args.model}: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(facts, indent=2, sort_keys=True, default=str))
        return 0
    print(f"{facts['name']}  format {facts['format_version']}  {facts['content_hash']}")
    print(f"{len(facts['nodes'])} nodes, {facts['parameter_count']:,} parameters")
    for node in facts["nodes"]:
        print(f"  {node['op']:<16} {node['name']:<28} {', '.join(node['inputs'])} -> {', '.join(node['outputs'])}")
    print("parameters")
    for name, p in facts["parameters"].items():
        print(f"  {name:<36} {p['dtype']:<8} {p['shape']}  {p['role']}{'' if p['trainable'] else ' (frozen)'}")
    print("cut points: " + ", ".join(f"{c['name']}={c['value']}" for c in facts["cut_points"]))
    print("lineage: " + " -> ".join(step["operation"] for step in facts["lineage"]))
    if args.verify:
        print(f"seal: {facts['seal']}; content hash verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
