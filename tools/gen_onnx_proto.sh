#!/usr/bin/env bash
# Regenerates Sources/ScionONNX/Generated/onnx.pb.swift from the onnx.proto that the PyPI `onnx`
# wheel ships. Run it by hand when moving to a newer ONNX; the output is committed, so builds need
# neither protoc nor swift-protobuf's build plugin (which compiles protoc in C++, ~10 minutes).
#
# Needs: python3 with pip (protoc comes from PyPI's grpcio-tools), swift, git.
set -euo pipefail
ONNX_VERSION=${ONNX_VERSION:-1.23.2}
PROTOBUF_VERSION=${PROTOBUF_VERSION:-1.39.0}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "protoc from grpcio-tools, onnx.proto from onnx $ONNX_VERSION"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check grpcio-tools
"$work/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$work/wheel" "onnx==$ONNX_VERSION"
(cd "$work" && python3 -m zipfile -e wheel/onnx-*.whl unpacked)

echo "protoc-gen-swift from swift-protobuf $PROTOBUF_VERSION"
git clone --quiet --depth 1 --branch "$PROTOBUF_VERSION" https://github.com/apple/swift-protobuf "$work/swift-protobuf"
swift build --package-path "$work/swift-protobuf" -c release --product protoc-gen-swift
plugin="$work/swift-protobuf/.build/release/protoc-gen-swift"

out="$root/Sources/ScionONNX/Generated"
mkdir -p "$out"
"$work/venv/bin/python" -m grpc_tools.protoc --plugin=protoc-gen-swift="$plugin" \
    -I "$work/unpacked/onnx" --swift_out="$out" --swift_opt=Visibility=Public onnx.proto
echo "wrote $out/onnx.pb.swift (onnx $ONNX_VERSION, swift-protobuf $PROTOBUF_VERSION)"
