import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import ScionZoo
import Testing

/// `scion serve` as a process: the sanitization gate, and graceful exit on SIGTERM and SIGINT.
@Suite struct ServeCommandTests {
    static func writeModel(_ path: String, sanitized: Bool) throws {
        let net = try Zoo.classifier(.cnnSmall, classes: 3, input: [1, 8, 8])
        var model = try Model(
            graph: net.graph, parameters: net.initialParameters(seed: 1),
            metadata: ModelMetadata(
                modelName: "tiny", labels: ["a", "b", "c"], input: InputSpec(channels: 1, height: 8, width: 8))
        ).recording(LineageStep(operation: LineageStep.initialize))
        if sanitized {
            model = try model.recording(LineageStep(operation: LineageStep.graft, parents: [try ContentHash.of(model)]))
        }
        try ModelFile.write(model, to: path)
    }

    @Test func refusesUnsanitizedModels() throws {
        let dir = TemporaryDirectory()
        try Self.writeModel(dir.file("raw.h5"), sanitized: false)
        let result = try ScionBinary.run(["serve", dir.file("raw.h5"), "--port", "0"])
        #expect(result.exitedNormally && result.status != 0)
        #expect(
            result.stderr.contains("is not sanitized") && result.stderr.contains("--allow-unsanitized"),
            "\(result.stderr)")
    }

    @Test(arguments: [SIGTERM, SIGINT]) func stopsGracefullyOnSignal(_ signal: Int32) throws {
        let dir = TemporaryDirectory()
        try Self.writeModel(dir.file("clean.h5"), sanitized: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ScionBinary.path)
        process.arguments = ["serve", dir.file("clean.h5"), "--port", "0", "--log-format", "json"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        // Wait for the JSON log line saying the server listens.
        var log = Data()
        while !String(decoding: log, as: UTF8.self).contains("\"message\":\"listening\"") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log.append(chunk)
        }
        #expect(String(decoding: log, as: UTF8.self).contains("\"port\":"), "\(String(decoding: log, as: UTF8.self))")
        kill(process.processIdentifier, signal)
        log.append(err.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(String(decoding: log, as: UTF8.self).contains("\"message\":\"stopped\""))
    }
}
