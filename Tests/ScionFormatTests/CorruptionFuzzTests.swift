import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import Testing

/// 10,000 random byte corruptions and truncations of a valid file, in-process (about 10 s under
/// load): a read must fail with a typed error when anything but the seal's own padding changed,
/// and otherwise return the original model; it must never crash.
@Suite struct CorruptionFuzzTests {
    @Test func randomCorruptionsNeverCrash() throws {
        let dir = TemporaryDirectory()
        let model = try Fixtures.tiny()
        let path = dir.file("valid.h5")
        try ModelFile.write(model, to: path)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        var rng = SeededGenerator(seed: 2026)
        var outcomes: [String: Int] = [:]
        for trial in 0..<10_000 {
            var data = original
            let flips = 1 + rng.nextInt(below: 4)
            for _ in 0..<flips {
                let offset = rng.nextInt(below: data.count)
                data[offset] = UInt8(truncatingIfNeeded: rng.next())
            }
            if trial % 10 == 0 { data = data.prefix(rng.nextInt(below: data.count)) }
            let corrupt = dir.file("corrupt.h5")
            try data.write(to: URL(fileURLWithPath: corrupt))
            // Only the seal's zero padding (user block bytes 56-511) is covered by no checksum.
            let padding = 56..<FileSeal.userBlockSize
            let damaged =
                data.count != original.count
                || data.indices.contains { !padding.contains($0) && data[$0] != original[$0] }
            do {
                let loaded = try ModelFile.read(corrupt)
                #expect(!damaged, "trial \(trial): a file changed outside the seal's padding was read")
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
        // Both paths were exercised: damage refused, and padding-only changes read back intact.
        #expect(outcomes["intact", default: 0] > 0 && outcomes.count > 1, "\(outcomes)")
    }
}
