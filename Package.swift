// swift-tools-version: 6.1
//
// Scion: trap a data-poisoning backdoor in a small head, cut it off, graft a clean one.
// Modules depend one way (no cycles; lower modules know nothing of higher ones). The graph in
// docs/ARCHITECTURE.md is printed from this file by tools/check_imports.py, which `make test`
// runs: it fails on an import a target does not declare here, or on a stale copy of the graph.
import PackageDescription

#if arch(x86_64)
    let avx512Settings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "skylake-avx512"])]
    let avx2Settings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"]), .define("SCION_AVX2")]
    let bf16Settings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "cooperlake"])]
#else
    let avx512Settings: [SwiftSetting] = []
    let avx2Settings: [SwiftSetting] = [.define("SCION_AVX2")]
    let bf16Settings: [SwiftSetting] = []
#endif

let package = Package(
    name: "Scion",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "scion", targets: ["scion"]),
        .library(name: "ScionGraph", targets: ["ScionGraph"]),
        .library(name: "ScionFormat", targets: ["ScionFormat"]),
        .library(name: "ScionRuntime", targets: ["ScionRuntime"]),
    ],
    // Opt-in features. MPI: data-parallel training under mpirun with Open MPI (`make mpi`);
    // the default build needs no MPI.
    traits: [.trait(name: "MPI", description: "Data-parallel training over Open MPI (libopenmpi-dev).")],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    ],
    targets: [
        // System libraries, found through pkg-config; the providers name the Debian packages.
        .systemLibrary(
            name: "CHDF5", pkgConfig: "hdf5-serial",
            providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CStb", pkgConfig: "stb",
            providers: [.apt(["libstb-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // Only the MPI build imports it (its users are all inside `#if MPI`).
        .systemLibrary(
            name: "CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),

        // Tiny C helpers Swift cannot express (the x86 PAUSE instruction).
        .target(name: "CScionSupport"),

        // The graph IR: values, nodes, op schemas, verifier, shape inference, builder.
        .target(name: "ScionGraph"),
        // Image decoding, resizing and PNG encoding (stb), turning images into model inputs,
        // labelled image sets (`ImageSet`) and line charts.
        .target(name: "ScionImage", dependencies: ["ScionGraph", "CStb", "CScionSupport"]),
        // Reference networks written with the builder.
        .target(name: "ScionZoo", dependencies: ["ScionGraph"]),
        // The HDF5 model file, NumPy .npy files, content hashes.
        .target(
            name: "ScionFormat",
            dependencies: ["ScionGraph", "CHDF5", .product(name: "Crypto", package: "swift-crypto")]),
        // Graph-to-graph passes, the static memory planner, and the reference semantics of each
        // node (which constant folding evaluates with).
        .target(name: "ScionCompiler", dependencies: ["ScionGraph", "ScionKernels"]),
        // Convolution microkernels and the elementwise, BatchNorm and reduction loops, compiled
        // once per instruction set from the same files (Sources/ScionAVX2 and ScionGeneric hold
        // symlinks to Sources/ScionAVX512; ScionGeneric only the loops, for the baseline);
        // ScionKernels calls the copy the CPU runs (scion_cpu_has_avx512, scion_cpu_has_avx2),
        // so the binary runs anywhere. ScionTiles holds the types and protocol all copies share.
        .target(name: "ScionTiles"),
        .target(name: "ScionAVX512", dependencies: ["ScionTiles"], swiftSettings: avx512Settings),
        .target(name: "ScionAVX2", dependencies: ["ScionTiles"], swiftSettings: avx2Settings),
        .target(name: "ScionGeneric", dependencies: ["ScionTiles"]),
        // The opt-in BF16 microkernels (`--precision bf16`), for CPUs with AVX-512 BF16; CScionBF16
        // names the instructions Swift cannot import.
        .target(name: "CScionBF16"),
        .target(name: "ScionBF16", dependencies: ["ScionTiles", "CScionBF16"], swiftSettings: bf16Settings),
        // Kernels over unsafe pointers; they know nothing of graphs.
        .target(
            name: "ScionKernels",
            dependencies: [
                "CBLAS", "CScionSupport", "ScionTiles", "ScionAVX512", "ScionAVX2", "ScionGeneric", "ScionBF16",
            ]),
        // Executors: the plain reference interpreter and the compiled, planned executor.
        .target(
            name: "ScionRuntime",
            dependencies: ["ScionGraph", "ScionCompiler", "ScionKernels", "CBLAS"]),
        // Training: autodiff over graphs, losses, optimizers, schedules, data pipeline, checkpoints.
        .target(
            name: "ScionTraining",
            dependencies: ["ScionGraph", "ScionImage", "ScionCompiler", "ScionKernels", "ScionRuntime", "ScionFormat"]),
        // Datasets (CIFAR-10, GTSRB, MNIST/Fashion-MNIST, image folders), splits and the eleven
        // backdoor attacks.
        .target(
            name: "ScionData",
            dependencies: ["ScionGraph", "ScionFormat", "ScionImage", "CZlib"]),
        // Trap-and-Replace: surgery on models, the stages, evaluation, reports; the clean-label
        // attack's PGD images (it trains, so it sits above ScionTraining).
        .target(
            name: "ScionDefense",
            dependencies: ["ScionGraph", "ScionZoo", "ScionFormat", "ScionCompiler", "ScionKernels", "ScionRuntime", "ScionTraining", "ScionData", "ScionImage"]),
        // ONNX export and import (opset 17 out; opsets 11 to 21 in). The protobuf code is generated
        // once by tools/gen_onnx_proto.sh and committed (no build plugin).
        .target(
            name: "ScionONNX",
            dependencies: ["ScionGraph", "ScionFormat", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Signatures over model files in OpenSSF model signing's format (Sigstore bundle, DSSE,
        // in-toto), and the keys that make them.
        .target(name: "ScionSigning", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The inference server for sanitized models: the Open Inference Protocol over REST
        // (Hummingbird) and gRPC (grpc-swift 2; code generated by tools/gen_oip_proto.sh).
        .target(
            name: "ScionServe",
            dependencies: [
                "ScionGraph", "ScionFormat", "ScionRuntime", "ScionImage", "ScionKernels", "ScionSigning",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        // MPI_COMM_WORLD as ScionTraining's Collective (all of it inside `#if MPI`: SwiftPM
        // builds every target, trait or not).
        .target(name: "ScionMPI", dependencies: ["CMPI", "ScionTraining"]),
        // Command implementations, kept in a library so the executable stays a one-liner.
        .target(
            name: "ScionCLI",
            dependencies: [
                "ScionGraph", "ScionZoo", "ScionFormat", "ScionCompiler", "ScionKernels", "ScionRuntime", "ScionImage",
                "ScionTraining", "ScionData", "ScionDefense", "ScionServe", "ScionSigning", "ScionONNX",
                .target(name: "ScionMPI", condition: .when(traits: ["MPI"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        .executableTarget(name: "scion", dependencies: ["ScionCLI"]),
        // Under mpirun in the MPI build (tools/mpi_check.sh): ranks agree, and two ranks at half
        // the batch equal one process.
        .executableTarget(
            name: "scion-mpi-check", dependencies: [
                "ScionMPI", "ScionTraining", "ScionGraph", "ScionImage", "ScionFormat", "ScionTestSupport"
            ],
            path: "Tests/ScionMPICheck"),

        .target(name: "ScionTestSupport", dependencies: ["ScionGraph", "ScionFormat", "ScionImage"], path: "Tests/ScionTestSupport"),
        .testTarget(name: "ScionGraphTests", dependencies: ["ScionGraph", "ScionZoo"]),
        .testTarget(
            name: "ScionFormatTests",
            dependencies: ["ScionGraph", "ScionZoo", "ScionFormat", "ScionTestSupport"]),
        .testTarget(
            name: "ScionKernelTests", dependencies: ["ScionKernels", "ScionTiles", "ScionBF16", "ScionTestSupport"]),
        .testTarget(
            name: "ScionTrainingTests",
            dependencies: ["ScionGraph", "ScionZoo", "ScionImage", "ScionCompiler", "ScionRuntime", "ScionTraining", "ScionKernels", "ScionFormat", "ScionTestSupport"]),
        .testTarget(
            name: "ScionDataTests",
            dependencies: ["ScionGraph", "ScionData", "ScionImage", "ScionFormat", "ScionTestSupport"]),
        .testTarget(
            name: "ScionDefenseTests",
            dependencies: ["ScionGraph", "ScionZoo", "ScionImage", "ScionFormat", "ScionRuntime", "ScionTraining", "ScionData", "ScionDefense", "ScionTestSupport"]),
        .testTarget(
            name: "ScionServeTests",
            dependencies: [
                "ScionGraph", "ScionZoo", "ScionFormat", "ScionServe", "ScionImage", "ScionRuntime", "ScionTestSupport",
                "ScionSigning", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // Counts malloc calls so a test can check that inference allocates nothing.
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        .testTarget(
            name: "ScionRuntimeTests",
            dependencies: [
                "ScionGraph", "ScionZoo", "ScionFormat", "ScionCompiler", "ScionKernels", "ScionRuntime", "ScionTestSupport",
                "AllocationCounter",
            ]),
        .testTarget(
            name: "ScionONNXTests",
            dependencies: ["ScionONNX", "ScionGraph", "ScionZoo", "ScionFormat", "ScionRuntime", "ScionTestSupport"],
            // Read by path (SharedData.packageRoot), not bundled.
            exclude: ["Fixtures"]),
        .testTarget(name: "ScionSigningTests", dependencies: ["ScionSigning", "ScionTestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "ScionCLITests", dependencies: ["scion", "ScionGraph", "ScionFormat", "ScionZoo", "ScionTestSupport"]),
    ]
)
