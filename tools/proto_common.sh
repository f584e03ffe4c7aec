# Shared set-up of tools/gen_onnx_proto.sh and tools/gen_oip_proto.sh (sourced, not run):
# a scratch folder, protoc from PyPI's grpcio-tools, a wheel unpacked, protoc plugins built
# from their Swift packages.
#   proto_setup                  makes $work (removed on exit) and $work/venv with grpcio-tools
#   proto_wheel PKG==VERSION     unpacks that wheel (no dependencies) into $work/unpacked
#   proto_plugin REPO TAG PRODUCT  clones github.com/REPO at TAG, builds PRODUCT, prints its path
#   proto_protoc ARGS...         runs grpc_tools.protoc
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

proto_setup() {
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet --disable-pip-version-check grpcio-tools
}

proto_wheel() {
    "$work/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$work/wheel" "$1"
    (cd "$work" && python3 -m zipfile -e wheel/*.whl unpacked)
}

proto_plugin() {
    local repo=$1 tag=$2 product=$3 dir
    dir="$work/$(basename "$repo")"
    git clone --quiet --depth 1 --branch "$tag" "https://github.com/$repo" "$dir"
    swift build --package-path "$dir" -c release --product "$product" >&2
    echo "$dir/.build/release/$product"
}

proto_protoc() {
    "$work/venv/bin/python" -m grpc_tools.protoc "$@"
}
