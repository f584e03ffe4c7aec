import Foundation

/// Runs the `scion` executable built beside the test binary.
public enum ScionBinary {
    /// The executable's path: `scion` in the folder of the running test binary.
    public static var path: String {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("scion").path
    }

    /// What a finished command returned.
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// True when the process ended by calling exit, not by a signal (a crash).
        public let exitedNormally: Bool
    }

    /// Runs `scion` with `arguments` in `directory` and waits for it.
    public static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:])
        throws
        -> Result
    {
        try launch(path, arguments, in: directory, environment: environment)
    }

    /// Runs another program (`arguments[0]`, found on the PATH: python3, say) and waits for it.
    public static func runTool(_ arguments: [String]) throws -> Result {
        try launch("/usr/bin/env", arguments, in: nil, environment: [:])
    }

    /// `runTool` on a Dispatch thread: an async test whose server lives in the same process must
    /// not block one of the few cooperative threads the server's handlers need (on two cores,
    /// two such tests blocking at once deadlock the server).
    public static func runToolOffPool(_ arguments: [String]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result(catching: { try runTool(arguments) }))
            }
        }
    }

    private static func launch(
        _ executable: String, _ arguments: [String], in directory: String?, environment: [String: String]
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so a chatty process cannot block on a full pipe.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self), exitedNormally: process.terminationReason == .exit)
    }
}
