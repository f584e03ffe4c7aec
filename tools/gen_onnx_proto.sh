#!/usr/bin/env bash
# Regenerates Sources/ScionONNX/Generated/onnx.pb.swift from the onnx.proto that the PyPI `onnx`
# wheel ships. Run it by hand when moving to a newer ONNX; the output is committed, so builds need
# neither protoc nor swift-protobuf's build plugin (which compiles protoc in C++, ~10 minutes).
#
# Needs: python3 with pip (protoc comes from PyPI's grpcio-tools), swift, git.
set -euo pipefail
ONNX_VERSION=${ONNX_VERSION:-1.23.2}
PROTOBUF_VERSION=${PROTOBUF_VERSION:-1.39.0}
source "$(dirname "$0")/proto_common.sh"

echo "protoc from grpcio-tools, onnx.proto from onnx $ONNX_VERSION"
proto_setup
proto_wheel "onnx==$ONNX_VERSION"

echo "protoc-gen-swift from swift-protobuf $PROTOBUF_VERSION"
plugin=$(proto_plugin apple/swift-protobuf "$PROTOBUF_VERSION" protoc-gen-swift)

out="$root/Sources/ScionONNX/Generated"
mkdir -p "$out"
proto_protoc --plugin=protoc-gen-swift="$plugin" -I "$work/unpacked/onnx" \
    --swift_out="$out" --swift_opt=Visibility=Public onnx.proto
echo "wrote $out/onnx.pb.swift (onnx $ONNX_VERSION, swift-protobuf $PROTOBUF_VERSION)"
