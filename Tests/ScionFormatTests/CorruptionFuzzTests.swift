import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import Testing

/// Random byte corruptions and truncations of a valid file: every read must fail with a typed
/// error or (when only bytes of the seal's own padding changed) return the original model; it
/// must never crash.
@Suite struct CorruptionFuzzTests {
    @Test func randomCorruptionsNeverCrash() throws {
        let dir = TemporaryDirectory()
        let model = try Fixtures.tiny()
        let path = dir.file("valid.h5")
        try ModelFile.write(model, to: path)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        var rng = SeededGenerator(seed: 2026)
        var outcomes: [String: Int] = [:]
        for trial in 0..<400 {
            var data = original
            let flips = 1 + rng.nextInt(below: 4)
            for _ in 0..<flips {
                let offset = rng.nextInt(below: data.count)
                data[offset] = UInt8(truncatingIfNeeded: rng.next())
            }
            if trial % 10 == 0 { data = data.prefix(rng.nextInt(below: data.count)) }
            let corrupt = dir.file("corrupt.h5")
            try data.write(to: URL(fileURLWithPath: corrupt))
            do {
                let loaded = try ModelFile.read(corrupt)
                // Corruption in unused bytes: the model must be intact.
                #expect(loaded.graph == model.graph)
                #expect(loaded.parameters == model.parameters)
                outcomes["intact", default: 0] += 1
            } catch let error as ModelFileError {
                outcomes[String("\(error)".split(separator: ":").dropFirst().first ?? "error"), default: 0] += 1
            } catch {
                Issue.record("untyped error: \(error)")
            }
        }
        #expect(outcomes.values.reduce(0, +) == 400)
    }
}
