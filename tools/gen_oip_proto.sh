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
source "$(dirname "$0")/proto_common.sh"

echo "protoc from grpcio-tools, the OIP descriptor from kserve $KSERVE_VERSION"
proto_setup
proto_wheel "kserve==$KSERVE_VERSION"
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
swift_plugin=$(proto_plugin apple/swift-protobuf "$PROTOBUF_VERSION" protoc-gen-swift)
grpc_plugin=$(proto_plugin grpc/grpc-swift-protobuf "$GRPC_PROTOBUF_VERSION" protoc-gen-grpc-swift-2)

out="$root/Sources/ScionServe/Generated"
mkdir -p "$out"
name=$("$work/venv/bin/python" -c "
from google.protobuf import descriptor_pb2; s = descriptor_pb2.FileDescriptorSet()
s.ParseFromString(open('$work/oip.pb', 'rb').read()); print(s.file[0].name)")
proto_protoc --descriptor_set_in="$work/oip.pb" \
    --plugin=protoc-gen-swift="$swift_plugin" --plugin=protoc-gen-grpc-swift="$grpc_plugin" \
    --swift_out="$out" --swift_opt=Visibility=Public \
    --grpc-swift_out="$out" --grpc-swift_opt=Visibility=Public,Client=true,Server=true \
    "$name"
ls -la "$out"
