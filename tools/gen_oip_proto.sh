#!/usr/bin/env bash
# Regenerates the Open Inference Protocol's gRPC messages and service stubs,
# Sources/ScionServe/Generated/grpc_predict_v2.{pb,grpc}.swift, from KServe's own definition:
# the descriptor compiled into the PyPI `kserve` wheel (grpc_predict_v2_pb2.py; the wheel ships
# no .proto), fed to protoc as a descriptor set. Run it by hand when moving to a newer KServe;
# the output is committed, so builds need neither protoc nor a build plugin.
#
# Needs: python3 with pip, swift, git.
set -euo pipefail
KSERVE_VERSION=${KSERVE_VERSION:-0.21.0}
PROTOBUF_VERSION=${PROTOBUF_VERSION:-1.39.0}
GRPC_PROTOBUF_VERSION=${GRPC_PROTOBUF_VERSION:-2.4.1}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "protoc from grpcio-tools, the OIP descriptor from kserve $KSERVE_VERSION"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check grpcio-tools
"$work/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$work/wheel" "kserve==$KSERVE_VERSION"
(cd "$work" && python3 -m zipfile -e wheel/kserve-*.whl unpacked)
# Load grpc_predict_v2_pb2.py on its own (not the kserve package, whose imports are heavy) and
# write its file descriptor as a FileDescriptorSet.
"$work/venv/bin/python" - "$work" <<'PY'
import importlib.util, sys
from google.protobuf import descriptor_pb2
work = sys.argv[1]
spec = importlib.util.spec_from_file_location(
    "grpc_predict_v2_pb2", f"{work}/unpacked/kserve/protocol/grpc/grpc_predict_v2_pb2.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
files = descriptor_pb2.FileDescriptorSet()
files.file.add().ParseFromString(module.DESCRIPTOR.serialized_pb)
open(f"{work}/oip.pb", "wb").write(files.SerializeToString())
print("descriptor:", files.file[0].name, "package", files.file[0].package)
PY

echo "protoc-gen-swift $PROTOBUF_VERSION and protoc-gen-grpc-swift-2 $GRPC_PROTOBUF_VERSION"
git clone --quiet --branch "$PROTOBUF_VERSION" https://github.com/apple/swift-protobuf "$work/swift-protobuf"
swift build --package-path "$work/swift-protobuf" -c release --product protoc-gen-swift
git clone --quiet --branch "$GRPC_PROTOBUF_VERSION" https://github.com/grpc/grpc-swift-protobuf "$work/grpc-swift-protobuf"
swift build --package-path "$work/grpc-swift-protobuf" -c release --product protoc-gen-grpc-swift-2

out="$root/Sources/ScionServe/Generated"
mkdir -p "$out"
name=$("$work/venv/bin/python" -c "
from google.protobuf import descriptor_pb2; s = descriptor_pb2.FileDescriptorSet()
s.ParseFromString(open('$work/oip.pb', 'rb').read()); print(s.file[0].name)")
"$work/venv/bin/python" -m grpc_tools.protoc --descriptor_set_in="$work/oip.pb" \
    --plugin=protoc-gen-swift="$work/swift-protobuf/.build/release/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift="$work/grpc-swift-protobuf/.build/release/protoc-gen-grpc-swift-2" \
    --swift_out="$out" --swift_opt=Visibility=Public \
    --grpc-swift_out="$out" --grpc-swift_opt=Visibility=Public,Client=true,Server=true \
    "$name"
ls -la "$out"
